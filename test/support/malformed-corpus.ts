/**
 * The malformed-request corpus of issue 10 (run by
 * test/integration/malformed-corpus-real.test.ts against a real Ironic
 * site; its size is stated in the README, which a unit test checks).
 *
 * `pending` cases are what the proxy does not yet refuse itself (query and
 * body shape checks under way, issue 10 items 1–2): they run as `todo`, so
 * they report without counting as passed, and the README counts only the
 * others (CORPUS_SIZE).
 */
/** A case the `baremetal` CLI sends: its arguments (NODE stands for a real node's uuid) and what it must print. */
export interface CliCase {
  via: 'cli';
  name: string;
  args: string[];
  status: number;
  message: RegExp;
  pending?: string;
}

/** A case only a raw socket sends: the request bytes (NODE as above) and the answer. */
export interface RawCase {
  via: 'raw';
  name: string;
  request: string | Buffer | (() => Iterable<Buffer>);
  status: number;
  message?: RegExp;
  pending?: string;
}

export type Case = CliCase | RawCase;

const V = 'X-OpenStack-Ironic-API-Version: 1.82\r\n';
const close = 'Connection: close\r\n';
/** A request with a body (Content-Length set), Connection: close. */
const withBody = (method: string, path: string, body: string | Buffer, type = 'application/json'): Buffer => {
  const b = Buffer.from(body);
  return Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: proxy\r\n${V}Content-Type: ${type}\r\nContent-Length: ${b.length}\r\n${close}\r\n`), b]);
};
const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: proxy\r\n${V}${extra}${close}\r\n`;
const deep = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;

export const CORPUS: readonly Case[] = [
  // ── Through the real CLI ─────────────────────────────────────────────
  { via: 'cli', name: 'create with NaN in extra', args: ['node', 'create', '--driver', 'fake-hardware', '--extra', 'a=NaN'], status: 400, message: /holds NaN/ },
  { via: 'cli', name: 'create with 1e400 (Infinity to Python)', args: ['node', 'create', '--driver', 'fake-hardware', '--extra', 'a=1e400'], status: 400, message: /holds Infinity/ },
  { via: 'cli', name: 'PATCH with an integer beyond 2^64', args: ['node', 'set', 'NODE', '--extra', 'a=18446744073709551617'], status: 400, message: /holds integer 18446744073709551617/ },
  { via: 'cli', name: 'PATCH nested 600 deep', args: ['node', 'set', 'NODE', '--property', `x=${deep(600)}`], status: 400, message: /nested deeper than 512 levels/ },
  { via: 'cli', name: 'show a 10,000-character name', args: ['node', 'show', 'n'.repeat(10_000)], status: 414, message: /longer than 512 characters/ },
  { via: 'cli', name: 'list with a marker that is not a uuid', args: ['node', 'list', '--marker', 'not-a-uuid'], status: 400, message: /Expected UUID for marker: not-a-uuid/ },
  { via: 'cli', name: 'list with an unknown provision state', args: ['node', 'list', '--provision-state', 'bogus'], status: 400, message: /bogus/ },
  { via: 'cli', name: 'list with an unknown fault', args: ['node', 'list', '--fault', 'bogus'], status: 400, message: /bogus/ },
  { via: 'cli', name: 'create with a uuid that is not one', args: ['node', 'create', '--driver', 'fake-hardware', '--uuid', 'not-a-uuid'], status: 400, message: /not-a-uuid/ },

  // ── Bodies no CLI sends ──────────────────────────────────────────────
  { via: 'raw', name: 'create: not JSON', request: withBody('POST', '/v1/nodes', '{bad'), status: 400, message: /not valid JSON/ },
  { via: 'raw', name: 'create: invalid UTF-8', request: withBody('POST', '/v1/nodes', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])), status: 400, message: /not UTF-8/ },
  { via: 'raw', name: 'create: two byte-order marks', request: withBody('POST', '/v1/nodes', '\ufeff\ufeff{"driver": "fake-hardware"}'), status: 400, message: /not valid JSON/ },
  { via: 'raw', name: 'create: nested 100,000 deep', request: withBody('POST', '/v1/nodes', deep(100_000)), status: 400, message: /nested deeper/ },
  { via: 'raw', name: 'create: -Infinity', request: withBody('POST', '/v1/nodes', '{"driver": "fake-hardware", "extra": {"x": -Infinity}}'), status: 400, message: /holds -Infinity/ },
  { via: 'raw', name: 'PATCH: NaN in a patch', request: withBody('PATCH', '/v1/nodes/NODE', '[{"op": "add", "path": "/extra/x", "value": NaN}]'), status: 400, message: /holds NaN/ },
  { via: 'raw', name: 'create: the JSON null', request: withBody('POST', '/v1/nodes', 'null'), status: 400 },
  { via: 'raw', name: 'create: an array', request: withBody('POST', '/v1/nodes', '[]'), status: 400 },
  // (A JSON body sent as text/plain is a create to Ironic 21.4 — 201 — and to the proxy: not malformed.)
  { via: 'raw', name: 'create: a text/plain body that is not JSON', request: withBody('POST', '/v1/nodes', 'driver=fake-hardware', 'text/plain'), status: 400, message: /not valid JSON/ },
  { via: 'raw', name: 'PATCH: an object, not a patch', request: withBody('PATCH', '/v1/nodes/NODE', '{"extra": {}}'), status: 400 },
  { via: 'raw', name: 'power: a number as target', request: withBody('PUT', '/v1/nodes/NODE/states/power', '{"target": 5}'), status: 400 },
  { via: 'raw', name: 'provision: no target', request: withBody('PUT', '/v1/nodes/NODE/states/provision', '{}'), status: 400 },
  { via: 'raw', name: 'PATCH: an op that is none', request: withBody('PATCH', '/v1/nodes/NODE', '[{"op": "bogus", "path": "/extra/x"}]'), status: 400 },
  { via: 'raw', name: 'PATCH: a path that is not a pointer', request: withBody('PATCH', '/v1/nodes/NODE', '[{"op": "add", "path": "extra", "value": 1}]'), status: 400 },
  { via: 'raw', name: 'boot device: one that is none', request: withBody('PUT', '/v1/nodes/NODE/management/boot_device', '{"boot_device": 7}'), status: 400 },
  { via: 'raw', name: 'maintenance: a reason that is a number', request: withBody('PUT', '/v1/nodes/NODE/maintenance', '{"reason": 5}'), status: 400 },
  { via: 'raw', name: 'traits: a string, not a list', request: withBody('PUT', '/v1/nodes/NODE/traits', '{"traits": "CUSTOM_A"}'), status: 400 },
  { via: 'raw', name: 'vifs: no id', request: withBody('POST', '/v1/nodes/NODE/vifs', '{}'), status: 400 },
  { via: 'raw', name: 'port create: an object without address or node', request: withBody('POST', '/v1/ports', '{"extra": {}}'), status: 400 },

  // ── Queries ──────────────────────────────────────────────────────────
  { via: 'raw', name: 'an argument the form does not take', request: get('/v1/nodes?bogus=1'), status: 400, message: /Unexpected arguments: bogus/ },
  { via: 'raw', name: 'fields naming no field', request: get('/v1/nodes?fields=no_such_field'), status: 400 },
  { via: 'raw', name: 'a negative limit', request: get('/v1/nodes?limit=-1'), status: 400, message: /Limit must be positive/ },
  { via: 'raw', name: 'a sort direction that is none', request: get('/v1/nodes?sort_dir=sideways'), status: 400, message: /sideways/ },
  { via: 'raw', name: 'detail=maybe', request: get('/v1/nodes?detail=maybe'), status: 400 },
  { via: 'raw', name: 'maintenance=maybe', request: get('/v1/nodes?maintenance=maybe'), status: 400 },

  // ── Paths and headers ────────────────────────────────────────────────
  { via: 'raw', name: 'a bad percent-encoding', request: get('/v1/nodes/%zz'), status: 400, message: /percent-encoding/ },
  { via: 'raw', name: 'percent-encoded invalid UTF-8', request: get('/v1/nodes/%C3%28'), status: 400 },
  { via: 'raw', name: 'a path no form has', request: get('/v1/no_such_collection'), status: 404 },
  { via: 'raw', name: 'a method the path does not take', request: `DELETE /v1 HTTP/1.1\r\nHost: proxy\r\n${V}${close}\r\n`, status: 405 },
  { via: 'raw', name: 'a version above the maximum', request: `GET /v1/nodes HTTP/1.1\r\nHost: proxy\r\nX-OpenStack-Ironic-API-Version: 1.999\r\n${close}\r\n`, status: 406 },
  { via: 'raw', name: 'a version that is not one', request: `GET /v1/nodes HTTP/1.1\r\nHost: proxy\r\nX-OpenStack-Ironic-API-Version: one\r\n${close}\r\n`, status: 406, message: /Invalid value/ },
  { via: 'raw', name: 'a header of 100 kB', request: get('/v1/nodes', `X-Big: ${'a'.repeat(100_000)}\r\n`), status: 431 },
  { via: 'raw', name: 'two Host headers', request: `GET /v1/nodes HTTP/1.1\r\nHost: a\r\nHost: b\r\n${V}${close}\r\n`, status: 400 },

  // ── Framing ──────────────────────────────────────────────────────────
  { via: 'raw', name: 'a request line that is not HTTP', request: 'GARBAGE\r\n\r\n', status: 400 },
  { via: 'raw', name: 'Content-Length with Transfer-Encoding', request: `POST /v1/nodes HTTP/1.1\r\nHost: proxy\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, status: 400 },
  { via: 'raw', name: 'a chunk size that is not hex', request: `POST /v1/nodes HTTP/1.1\r\nHost: proxy\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, status: 400 },
  { via: 'raw', name: 'a Content-Length that is not a number', request: `POST /v1/nodes HTTP/1.1\r\nHost: proxy\r\nContent-Length: 1e3\r\n\r\n{}`, status: 400 },
  {
    via: 'raw',
    name: 'a 20 MB body (the client reads the 413)',
    request: function* () {
      const size = 20 * 1024 * 1024;
      yield Buffer.from(`POST /v1/nodes HTTP/1.1\r\nHost: proxy\r\n${V}Content-Type: application/json\r\nContent-Length: ${size}\r\n${close}\r\n`);
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      for (let sent = 0; sent < size; sent += chunk.length) yield chunk;
    },
    status: 413,
    message: /too large/,
  },
];

/** The cases the proxy refuses itself today (the README's figure). */
export const CORPUS_SIZE = CORPUS.filter((c) => !c.pending).length;

