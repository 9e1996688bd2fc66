/**
 * The request generators of the input fuzz (test/unit/fuzz-input.test.ts),
 * shared with the Keystone-mode fuzz (test/unit/fuzz-keystone.test.ts): a
 * request for any entry of the API table — its path with arguments good and
 * bad, query parameters, headers, bodies from well-formed to hostile — and
 * a keep-alive sender. `known` and `cursors` are filled in by the test once
 * its sites run (real idents and paging cursors make requests reach the
 * engines, not only the 404s).
 */
import * as http from 'node:http';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { API_TABLE } from '../../src/api/table/index.js';
import type { ApiEntry } from '../../src/api/types.js';
import { CURSOR_PARAM } from '../../src/resources/list-params.js';

// ── What a request is made of ─────────────────────────────────────────────

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** Idents the sites really hold, filled in once they run: good arguments reach the engines, not only the 404s. */
export const known: string[] = [];

const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', '..', '.', '%', '%zz', '%00', '%C3%28', '%ED%A0%80', '%FF', '\u0000', '\ud800', 'null', 'None', 'true', '-1', '0', '1e400', 'NaN', '*', '[]', '{}', 'a'.repeat(513), 'a'.repeat(600)),
);

/** A path argument: a real ident, a well-formed one nobody has, or anything. */
const pathArg = fc.oneof(
  { weight: 5, arbitrary: fc.constant(null).chain(() => fc.constantFrom(...(known.length ? known : ['a-node-0']))) },
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_.~-]{0,30}$/) },
  { weight: 2, arbitrary: hostileText },
);

/** Percent-encodes what must be, and sometimes leaves raw percent signs (bad encodings reach the router as sent). */
const encodeSegment = (s: string, raw: boolean): string => {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.~-]/.test(c) || (raw && byte > 0x20 && byte < 0x7f && !'?#/'.includes(c)) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
};

function pathFor(entry: ApiEntry, args: string[], raw: boolean, suffix: string): string {
  let i = 0;
  return entry.path.replace(/\{[^}]+\}/g, () => encodeSegment(args[i++] ?? '', raw)) + suffix;
}

const queryValue = fc.oneof(
  fc.constantFrom('true', 'false', 'True', '1', '0', 'yes', 'maybe', '', '-1', '0', '1', '2', '1000', '1001', '99999999999999999999', '1.5', 'asc', 'desc', 'sideways'),
  fc.constantFrom('uuid', 'name', 'driver', 'provision_state', 'extra', 'no_such_field', 'uuid,name', 'name,,', ',', 'power_state,driver_info'),
  fc.constantFrom('available', 'active', 'manageable', 'enroll', 'bogus_state', 'power failure', 'fake-hardware', 'gb', '_'),
  pathArg,
);

/** Query parameters: the entry's own with good and bad values, now and then one it does not take, sometimes repeated. */
/** Paging cursors the proxy really issued (filled in once it runs), as sent and tampered with. */
export const cursors: string[] = [];
const cursorValue = fc.oneof(
  fc.constant(null).chain(() => fc.constantFrom(...(cursors.length ? cursors : ['x']))),
  fc
    .tuple(fc.constant(null).chain(() => fc.constantFrom(...(cursors.length ? cursors : ['x']))), fc.nat(), fc.constantFrom('A', '_', '-', '', '=='))
    .map(([c, at, ch]) => c.slice(0, at % (c.length + 1)) + ch + c.slice((at % (c.length + 1)) + 1)),
  hostileText,
);

function queryFor(entry: ApiEntry): fc.Arbitrary<string> {
  const own = [...(entry.query ?? []), ...(entry.query?.includes('marker') ? [CURSOR_PARAM] : [])];
  const name = fc.oneof(
    { weight: own.length > 0 ? 10 : 0, arbitrary: fc.constantFrom(...(own.length > 0 ? own : ['x'])) },
    { weight: 1, arbitrary: fc.constantFrom('bogus', 'marker', 'limit', 'fields', 'detail', '') },
  );
  return fc
    .array(name.chain((n) => fc.tuple(fc.constant(n), n === CURSOR_PARAM ? cursorValue : queryValue)), { maxLength: own.length > 0 ? 4 : 1 })
    .chain((pairs) => fc.tuple(fc.constant(pairs), fc.oneof({ weight: 6, arbitrary: fc.constant('std') }, { weight: 2, arbitrary: fc.constant('raw') }, { weight: 1, arbitrary: fc.constant('junk') })))
    .map(([pairs, how]) => {
      if (pairs.length === 0) return '';
      if (how === 'junk') return `?${pairs.map(([k, v]) => `${k}=${encodeSegment(String(v), true)}`).join('&')}&&=&%=%`;
      if (how === 'raw') return `?${pairs.map(([k, v]) => `${k}=${encodeSegment(String(v), true)}`).join('&')}`;
      return `?${new URLSearchParams(pairs.map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
    });
}

const versionHeader = fc.oneof(
  { weight: 8, arbitrary: fc.constant('latest') },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 82 }).map((m) => `1.${m}`) },
  { weight: 1, arbitrary: fc.constantFrom('1.0', '1.83', '2.0', '1.', '1', 'one', '', '1.82 ', 'latest,latest', '1.99999999999999999999', '1.-1') },
);

const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/);
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 200 }).map((s) => s.trim());

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '*/*',
  'application/json-patch+json',
  ';;;',
);

function headersFor(hasBody: boolean): fc.Arbitrary<Record<string, string>> {
  return fc
    .record(
      {
        version: fc.option(versionHeader, { nil: undefined, freq: 4 }),
        contentType: hasBody ? fc.option(contentType, { nil: undefined, freq: 5 }) : fc.constant(undefined),
        accept: fc.option(fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml', ''), { nil: undefined, freq: 2 }),
        extra: fc.array(fc.tuple(token, headerValue), { maxLength: 3 }),
        forwarded: fc.option(fc.constantFrom('https', 'http', 'gopher', '"x'), { nil: undefined, freq: 4 }),
        requestId: fc.option(fc.oneof(fc.constant('req-00000000-0000-0000-0000-000000000000'), headerValue), { nil: undefined, freq: 4 }),
      },
      { requiredKeys: [] },
    )
    .map((h) => {
      const out: Record<string, string> = {};
      for (const [k, v] of h.extra ?? []) out[`x-fuzz-${k.toLowerCase()}`] = v;
      if (h.version !== undefined) out['x-openstack-ironic-api-version'] = h.version;
      if (h.contentType !== undefined) out['content-type'] = h.contentType;
      if (h.accept !== undefined) out.accept = h.accept;
      if (h.forwarded !== undefined) out['x-forwarded-proto'] = h.forwarded;
      if (h.requestId !== undefined) out['x-openstack-request-id'] = h.requestId;
      return out;
    });
}

const jsonPatchOp = fc.record(
  {
    op: fc.oneof(fc.constantFrom('add', 'replace', 'remove', 'test', 'move', 'copy', 'bogus', ''), fc.jsonValue({ maxDepth: 1 })),
    path: fc.oneof(
      fc.constantFrom('/name', '/extra/x', '/extra', '/driver', '/conductor_group', '/owner', '/properties/a', '/uuid', '/instance_info/x', '/', '', 'name', '/extra/~1', '/driver_info/ipmi_password', '/traits'),
      fc.string({ maxLength: 20 }),
      fc.jsonValue({ maxDepth: 1 }),
    ),
    value: fc.jsonValue({ maxDepth: 3 }),
    from: fc.constantFrom('/name', '/extra/x', 'x'),
  },
  { requiredKeys: ['op'] },
);

const bodyObject = fc.dictionary(
  fc.oneof(
    fc.constantFrom('driver', 'name', 'uuid', 'conductor_group', 'target', 'configdrive', 'clean_steps', 'deploy_steps', 'boot_device', 'persistent', 'id', 'node_uuid', 'node', 'address', 'traits', 'resource_class', 'owner', 'extra', 'reason', 'events', 'state', 'enabled', 'steps', 'rescue_password', 'disable_ramdisk', 'portgroup_uuid', 'chassis_uuid', 'volume_type', 'boot_index', 'volume_id', 'connector_id', 'type'),
    fc.string({ maxLength: 10 }),
  ),
  fc.oneof(
    fc.constantFrom('fake-hardware', 'gb', 'active', 'deleted', 'provide', 'manage', 'power on', 'rebooting', 'pxe', 'CUSTOM_X', 'aa:bb:cc:dd:ee:ff', 'a-node-1', 'b-node-1'),
    // Lone surrogates: valid JSON (as escapes), not encodable in a URL.
    fc.constantFrom('\udfff', 'x\ud800', '\ud83d'),
    fc.jsonValue({ maxDepth: 3 }),
  ),
  { maxKeys: 6 },
);

const deep = (n: number, open: string, close: string): string => open.repeat(n) + close.repeat(n);

/** Bodies: none, JSON of the right and wrong kinds, and bytes no JSON reader should accept quietly. */
const body = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.array(jsonPatchOp, { maxLength: 3 }).map((v) => Buffer.from(JSON.stringify(v))) },
  { weight: 3, arbitrary: bodyObject.map((v) => Buffer.from(JSON.stringify(v))) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      'null',
      '{',
      '[',
      '{"a": NaN}',
      '[{"op": "add", "path": "/extra/x", "value": Infinity}]',
      '{"driver": "fake-hardware", "extra": {"n": -Infinity}}',
      '{"x": 1e400}',
      '{"x": 18446744073709551617}',
      '{"name": "a", "name": "b"}',
      '"\\ud800"',
      '{"name": "\\udfff"}',
      '\ufeff{"driver": "fake-hardware"}',
      '\ufeff\ufeff{}',
      deep(600, '[', ']'),
      deep(100_000, '[', ']'),
      deep(5_000, '{"a":', '}').replace(/}+$/, (m) => `1${m}`),
      '{"target": "active", "configdrive": {"meta_data": {}}}',
      '{"target": "power on", "timeout": -1}',
      '{"target": "rebooting", "timeout": "1e400"}',
      '{"boot_device": "pxe", "persistent": "maybe"}',
      '["CUSTOM_A", "custom_b", 1, null]',
      '{"traits": ["' + 'A'.repeat(300) + '"]}',
      '{"id": "' + 'v'.repeat(10_000) + '"}',
    ).map((s) => Buffer.from(s)),
  },
  { weight: 1, arbitrary: fc.constantFrom(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), Buffer.from([0xef, 0xbb])) },
);

export const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** Requests for one entry of the table: its form, mangled. */
export function requestFor(entry: ApiEntry): fc.Arbitrary<FuzzRequest> {
  const arity = (entry.path.match(/\{/g) ?? []).length;
  return fc
    .record({
      method: fc.oneof({ weight: 6, arbitrary: fc.constant(entry.method as string) }, { weight: 1, arbitrary: fc.constantFrom(...methods) }),
      args: fc.array(pathArg, { minLength: arity, maxLength: arity }),
      rawArgs: fc.boolean(),
      suffix: fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/', '.json', '/extra', '//', '/..', '/%2e%2e', '?', '#x') }),
      query: queryFor(entry),
      headers: headersFor(true),
      body,
    })
    .map(({ method, args, rawArgs, suffix, query, headers, body }) => {
      const path = pathFor(entry, args, rawArgs, suffix) + (suffix.includes('?') ? '' : query);
      const sendsBody = body !== undefined && method !== 'GET' && method !== 'HEAD';
      const h = { ...headers };
      if (!sendsBody) delete h['content-type'];
      return { method, path, headers: h, body: sendsBody ? body : undefined };
    });
}

export const request: fc.Arbitrary<FuzzRequest> = fc.constantFrom(...API_TABLE).chain(requestFor);

/** Requests for which a site's own 5xx may be relayed: where the site's own answer is what was asked (a driver's vendor passthru). */
export const RELAYED_5XX_ALLOWED: readonly RegExp[] = [/\/vendor_passthru/];

// ── Sending, and what every answer must be ────────────────────────────────

export const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

export function send(base: string, r: FuzzRequest): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...r.headers };
    if (r.body) headers['content-length'] = String(r.body.length);
    const req = http.request(`${base}${r.path}`, { method: r.method, headers, agent, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within 15 s: ${r.method} ${r.path.slice(0, 200)}`)));
    req.on('error', reject);
    req.end(r.body);
  });
}

export const show = (r: FuzzRequest): string =>
  `${r.method} ${r.path.slice(0, 300)} ${JSON.stringify(r.headers).slice(0, 300)} body=${r.body ? JSON.stringify(r.body.subarray(0, 200).toString('latin1')) : '-'}`;

/**
 * Walks the proxy's node listing to its end as `headers` allow, noting every
 * node's uuid and name (`known`) and the cursor of every next link
 * (`cursors`): the real idents and cursors the generators draw from.
 */
export async function learnNodeListing(base: string, headers: Record<string, string>): Promise<void> {
  let path: string | undefined = '/v1/nodes';
  while (path) {
    const res = await send(base, { method: 'GET', path, headers });
    assert.equal(res.status, 200, res.text);
    const page = JSON.parse(res.text) as { nodes: Array<{ uuid: string; name: string }>; next?: string };
    for (const n of page.nodes) known.push(n.uuid, n.name);
    const next: URL | undefined = page.next ? new URL(page.next) : undefined;
    const cursor = next?.searchParams.get(CURSOR_PARAM);
    if (cursor) cursors.push(cursor);
    path = next ? next.pathname + next.search : undefined;
  }
  assert.ok(cursors.length >= 2, `the listing spans pages: ${cursors.length} cursors`);
}
