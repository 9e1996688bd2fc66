/**
 * Users through Keystone (a fake Keystone, test/support/fake-keystone.ts; the
 * real one runs in the integration suite): nothing but the version documents passes without a
 * valid token, whatever the path or header trick; tokens are validated with
 * the proxy's service token and revocations take effect; roles decide, and a
 * project member sees and acts only on its own nodes. As keystonemiddleware:
 * a token is good until its expiry (no margin), Keystone down or failing is
 * webob's 503 naming no address, [keystone_authtoken]'s TLS options are
 * honoured, and a Keystone clock hours off does not make the service token
 * look expired.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfigText } from '../../src/config/load.js';
import type { KeystoneAuthtokenConfig } from '../../src/config/types.js';
import { createLogger } from '../../src/log.js';
import { preferredForm } from '../../src/auth/keystone-unavailable.js';
import { serviceTokenSession } from '../../src/auth/service-token.js';
import { KeystoneUnavailable, TokenRejected, UserTokenValidator } from '../../src/auth/token-validator.js';
import type { KeystoneSession } from '../../src/sites/keystone.js';
import { startFleet, type Fleet } from '../support/sim-fleet.js';
import { hasOpenssl, rejectsWith, selfSignedCert } from '../support/tls-and-errors.js';
import { FakeKeystone, PASSWORD } from '../support/fake-keystone.js';

/** [keystone_authtoken] for this Keystone, read as the proxy reads it. */
function authtokenConfig(ks: FakeKeystone, extra = ''): KeystoneAuthtokenConfig {
  return loadConfigText(
    `[DEFAULT]\ngroups = _:a\n[api]\nauth_strategy = keystone\n[keystone_authtoken]\nauth_url = ${ks.url}\n` +
      `username = proxy\npassword = ${PASSWORD}\nuser_domain_name = Default\nproject_name = service\n` +
      `project_domain_name = Default\n${extra}\n[group:a]\nendpoint_override = http://127.0.0.1:9\n`,
  ).keystoneAuthtoken!;
}

class Clock {
  t = Date.now();
  readonly now = (): number => this.t;
}

/** A validator over its own service session, closed by the caller. */
function validatorFor(ks: FakeKeystone, opts: { extra?: string; cacheMs?: number; now?: () => number } = {}): { validator: UserTokenValidator; session: KeystoneSession } {
  const session = serviceTokenSession(authtokenConfig(ks, opts.extra), 2000, { now: opts.now });
  return { validator: new UserTokenValidator(session, opts.cacheMs ?? 0, opts.now), session };
}

/** A raw GET (fetch always sends an Accept header; this one only the headers given). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** webob 1.8's renderings of HTTPServiceUnavailable('The Keystone service is temporarily unavailable.'), as Ironic sends them. */
const WEBOB_503 = {
  'text/plain': {
    contentType: 'text/plain; charset=UTF-8',
    body: '503 Service Unavailable\n\nThe server is currently unavailable. Please try again at a later time.\n\n The Keystone service is temporarily unavailable.  ',
  },
  'text/html': {
    contentType: 'text/html; charset=UTF-8',
    body:
      '<html>\n <head>\n  <title>503 Service Unavailable</title>\n </head>\n <body>\n  <h1>503 Service Unavailable</h1>\n' +
      '  The server is currently unavailable. Please try again at a later time.<br /><br />\nThe Keystone service is temporarily unavailable.\n\n\n </body>\n</html>',
  },
  'application/json': {
    contentType: 'application/json',
    body:
      '{"message": "The server is currently unavailable. Please try again at a later time.<br /><br />\\nThe Keystone service is temporarily unavailable.\\n\\n", ' +
      '"code": "503 Service Unavailable", "title": "Service Unavailable"}',
  },
};

const V = { 'x-openstack-ironic-api-version': 'latest' };

describe('users through Keystone', () => {
  const ks = new FakeKeystone();
  let fleet: Fleet;
  const logLines: string[] = [];
  const call = async (method: string, path: string, token?: string, body?: unknown, extra: Record<string, string> = {}) => {
    const headers: Record<string, string> = { ...V, ...extra };
    if (token !== undefined) headers['x-auth-token'] = token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${fleet.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const json = (res.headers.get('content-type') ?? '').includes('json');
    return { status: res.status, headers: res.headers, body: text && json ? JSON.parse(text) : text };
  };
  const faultOf = (r: { body: { error_message: string } }): string => JSON.parse(r.body.error_message).faultstring;

  before(async () => {
    await ks.start();
    // admin, sysreader, p1member, p1reader, nobody (and others, unused here).
    ks.addPersonas();
    fleet = await startFleet(
      [
        { name: 'a', nodes: 2 },
        { name: 'b', conductorGroups: ['gb'], nodes: 2 },
      ],
      {
        apiIni: ks.apiIni,
        log: createLogger({
          level: 'info',
          to: new Writable({
            write(chunk: Buffer, _enc, cb) {
              logLines.push(chunk.toString('utf8'));
              cb();
            },
          }),
        }),
      },
    );
    // Give p1 one node at each site: one owned, one leased.
    assert.equal((await call('PATCH', '/v1/nodes/a-node-0', 'admin', [{ op: 'add', path: '/owner', value: 'p1' }])).status, 200);
    assert.equal((await call('PATCH', '/v1/nodes/b-node-1', 'admin', [{ op: 'add', path: '/lessee', value: 'p1' }])).status, 200);
  });
  after(async () => {
    await fleet.close();
    await ks.close();
  });

  test('the version documents need no token', async () => {
    assert.equal((await call('GET', '/')).status, 200);
    assert.equal((await call('GET', '/v1')).status, 200);
    assert.equal((await call('GET', '/v1/')).status, 200);
  });

  test('the liveness probe needs no token (probes cannot send one); readiness and metrics do', async () => {
    const r = await call('GET', '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: 'ok' });
    assert.equal((await call('GET', '/healthz?x=1')).status, 200);
    assert.equal((await call('POST', '/healthz')).status, 401, 'only GET is public');
    assert.equal((await call('GET', '/readyz')).status, 401);
    assert.equal((await call('GET', '/metrics')).status, 401);
  });

  test('everything else without a valid token is a 401 as keystonemiddleware answers', async () => {
    for (const token of [undefined, '', 'forged', 'svc-token']) {
      const r = await call('GET', '/v1/nodes', token);
      assert.equal(r.status, 401, `token ${token}`);
      assert.equal(r.headers.get('www-authenticate'), `Keystone uri="${ks.url}"`);
      assert.deepEqual(r.body, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
      assert.equal(r.headers.get('content-type'), 'application/json', 'as webob sends it: no charset');
    }
    for (const path of ['/healthz/../v1/nodes', '/metrics', '/readyz', '/nodes', '/v1/nodes/a-node-0/states']) {
      assert.equal((await call('GET', path)).status, 401, path);
    }
  });

  test('path tricks do not reach the API without a token', async () => {
    for (const raw of ['//v1/../v1/nodes', '/v1/../v1/nodes', '/v1/nodes/.%2e/', '/v1//nodes', '/./v1/nodes', '/v1/%2e%2e/v1/nodes', '/v1.json/nodes']) {
      const { port } = new URL(fleet.url);
      const socket = connect(Number(port), '127.0.0.1');
      await once(socket, 'connect');
      socket.write(`GET ${raw} HTTP/1.1\r\nHost: x\r\nX-OpenStack-Ironic-API-Version: latest\r\nConnection: close\r\n\r\n`);
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      await once(socket, 'close');
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(Buffer.concat(chunks).toString())?.[1]);
      assert.ok(status === 401 || status === 404, `${raw} answered ${status}`);
    }
  });

  test('X-Storage-Token is read when X-Auth-Token is absent, as keystonemiddleware reads it', async () => {
    assert.equal((await call('GET', '/v1/nodes', undefined, undefined, { 'x-storage-token': 'sysreader' })).status, 200);
    assert.equal((await call('GET', '/v1/nodes', undefined, undefined, { 'x-storage-token': 'forged' })).status, 401);
    // X-Auth-Token first, even empty (keystonemiddleware's header lookup with X-Storage-Token as the default).
    assert.equal((await call('GET', '/v1/nodes', '', undefined, { 'x-storage-token': 'sysreader' })).status, 401);
  });

  test('a path the router cannot read is a 401 without a valid token (keystonemiddleware answers first), Ironic\'s 400/414 with one', async () => {
    for (const [path, status] of [['/v1/nodes/%zz', 400], [`/v1/nodes/${'n'.repeat(600)}`, 414]] as const) {
      for (const token of [undefined, 'forged']) {
        const r = await call('GET', path, token);
        assert.equal(r.status, 401, `${path.slice(0, 20)} token ${token}`);
        assert.equal(r.headers.get('www-authenticate'), `Keystone uri="${ks.url}"`);
      }
      const r = await call('GET', path, 'sysreader');
      assert.equal(r.status, status, path.slice(0, 20));
      assert.ok(r.headers.get('x-openstack-request-id'));
    }
  });

  test('header tricks do not grant anything', async () => {
    const spoof = { 'x-roles': 'admin', 'x-identity-status': 'Confirmed', 'x-project-id': 'padmin', 'x-subject-token': 'admin' };
    assert.equal((await call('GET', '/v1/nodes', undefined, undefined, spoof)).status, 401);
    assert.equal((await call('POST', '/v1/nodes', 'p1member', { driver: 'fake-hardware' }, spoof)).status, 403);
  });

  test('a revoked token stops working (token_cache_time = 0), and validation uses the service token', async () => {
    ks.tokens.set('temp', { system: true, roles: ['reader'] });
    assert.equal((await call('GET', '/v1/nodes', 'temp')).status, 200);
    ks.tokens.delete('temp');
    assert.equal((await call('GET', '/v1/nodes', 'temp')).status, 401);
  });

  test('an admin lists every node and may create and delete', async () => {
    const r = await call('GET', '/v1/nodes', 'admin');
    assert.equal(r.body.nodes.length, 4);
    const created = await call('POST', '/v1/nodes', 'admin', { driver: 'fake-hardware', name: 'by-admin' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await call('DELETE', '/v1/nodes/by-admin', 'admin')).status, 204);
  });

  test('a node deleted by another request between its create and its owner: the create is answered as Ironic would (201, the owner asked)', async () => {
    const site = fleet.proxy.services.registry.sites.find((s) => s.name === 'a')!;
    const original = site.request.bind(site);
    // The site's create answered, another client deletes the node before the proxy sets its owner.
    site.request = async (r) => {
      const res = await original(r);
      if (r.method === 'POST' && r.path.startsWith('/v1/nodes') && res.status === 201) {
        const uuid = (JSON.parse(res.body.toString()) as { uuid: string }).uuid;
        assert.equal((await fetch(`${fleet.sims[0]!.url}/v1/nodes/${uuid}`, { method: 'DELETE', headers: V })).status, 204);
      }
      return res;
    };
    try {
      const r = await call('POST', '/v1/nodes', 'sysadmin', { driver: 'fake-hardware', name: 'raced-1', owner: 'p1' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.name, 'raced-1');
      assert.equal(r.body.owner, 'p1');
      assert.equal((await call('GET', '/v1/nodes/raced-1', 'sysadmin')).status, 404);
    } finally {
      site.request = original;
    }
  });

  test('a reader may read but not change', async () => {
    assert.equal((await call('GET', '/v1/nodes', 'sysreader')).body.nodes.length, 4);
    const patch = await call('PATCH', '/v1/nodes/b-node-0', 'sysreader', [{ op: 'add', path: '/extra/x', value: 1 }]);
    assert.equal(patch.status, 403);
    // Ironic's per-field rule for /extra.
    assert.equal(faultOf(patch), 'Access was denied to the following resource: baremetal:node:update_extra');
    const create = await call('POST', '/v1/nodes', 'sysreader', { driver: 'fake-hardware' });
    assert.equal(create.status, 403);
    assert.equal(faultOf(create), 'Access was denied to the following resource: baremetal:node:create');
    assert.equal((await call('PUT', '/v1/nodes/b-node-0/states/power', 'p1reader', { target: 'power on' })).status, 404);
  });

  test('a project member sees and acts only on the nodes its project owns or leases', async () => {
    const list = await call('GET', '/v1/nodes?fields=name', 'p1member');
    assert.deepEqual(list.body.nodes.map((n: { name: string }) => n.name).sort(), ['a-node-0', 'b-node-1']);
    assert.equal((await call('GET', '/v1/nodes/a-node-1', 'p1member')).status, 404, 'another project\'s node is concealed');
    assert.equal((await call('GET', '/v1/nodes/b-node-1', 'p1member')).status, 200);
    assert.equal((await call('PATCH', '/v1/nodes/a-node-0', 'p1member', [{ op: 'add', path: '/extra/x', value: 1 }])).status, 200);
    assert.equal((await call('PUT', '/v1/nodes/b-node-1/states/power', 'p1member', { target: 'power on' })).status, 202);
    assert.equal((await call('DELETE', '/v1/nodes/a-node-0', 'p1member')).status, 403);
    assert.equal((await call('POST', '/v1/nodes', 'p1member', { driver: 'fake-hardware' })).status, 403);
    assert.equal((await call('GET', '/v1/nodes?project=padmin', 'p1member')).status, 403);
    assert.equal((await call('GET', '/v1/nodes', 'nobody')).status, 403);
  });

  test("Ironic's per-action and per-field rules: owner vs lessee, redactions, concealment before refusal", async () => {
    // p1 leases b-node-1: a lessee may not take the node from its owner (baremetal:node:update:owner) ...
    const take = await call('PATCH', '/v1/nodes/b-node-1', 'p1member', [{ op: 'replace', path: '/owner', value: 'p1' }]);
    assert.equal(take.status, 403);
    assert.equal(faultOf(take), 'Access was denied to the following resource: baremetal:node:update:owner');
    // ... nor set maintenance (baremetal:node:set_maintenance is owner-only for members).
    const maint = await call('PUT', '/v1/nodes/b-node-1/maintenance', 'p1member', { reason: 'x' });
    assert.equal(maint.status, 403);
    assert.equal(faultOf(maint), 'Access was denied to the following resource: baremetal:node:set_maintenance');
    // A lessee reader sees the node with driver_info redacted in Ironic's words; the owner reader sees it.
    const leased = await call('GET', '/v1/nodes/b-node-1', 'p1reader');
    assert.equal(leased.status, 200);
    assert.deepEqual(leased.body.driver_info, { content: '** Redacted - requires baremetal:node:get:driver_info permission. **' });
    const owned = await call('GET', '/v1/nodes/a-node-0', 'p1reader');
    assert.equal(owned.status, 200);
    assert.notDeepEqual(owned.body.driver_info, leased.body.driver_info);
    // Readers may not read the boot device (baremetal:node:get_boot_device is for members of the owner).
    const boot = await call('GET', '/v1/nodes/a-node-0/management/boot_device', 'p1reader');
    assert.equal(boot.status, 403);
    assert.equal(faultOf(boot), 'Access was denied to the following resource: baremetal:node:get_boot_device');
    // A node that does not exist, or that the caller may not see, is the same 404 — before any 403.
    const none = await call('PATCH', '/v1/nodes/no-such-node', 'nobody', [{ op: 'add', path: '/extra/x', value: 1 }]);
    const hidden = await call('PATCH', '/v1/nodes/a-node-1', 'nobody', [{ op: 'add', path: '/extra/x', value: 1 }]);
    assert.deepEqual([none.status, hidden.status], [404, 404]);
    assert.equal(faultOf(hidden), 'Node a-node-1 could not be found.');
  });

  test('a malformed create from a caller Ironic refuses is refused before any site sees it', async () => {
    // As Ironic: the body's shape is checked (args.validate) before the handler's policy, so a reader's
    // malformed body is a 400; `null` passes Ironic's schema check (it skips None) and meets the policy (403).
    const posts = (): number => fleet.sims.flatMap((sim) => sim.received).filter((l) => l.startsWith('POST ')).length;
    const before = posts();
    for (const path of ['/v1/nodes', '/v1/ports', '/v1/portgroups', '/v1/allocations']) {
      for (const [body, status] of [[[], 400], ['text', 400], [null, 403]] as const) {
        const r = await call('POST', path, 'sysreader', body);
        assert.equal(r.status, status, `${path} ${JSON.stringify(body)}`);
      }
    }
    assert.equal(posts(), before, 'no site received a POST');
    const patches = (): number => fleet.sims.flatMap((sim) => sim.received).filter((l) => l.startsWith('PATCH ')).length;
    const beforePatches = patches();
    for (const [body, status] of [[{}, 400], ['text', 400], [null, 403]] as const) {
      const r = await call('PATCH', '/v1/nodes/a-node-0', 'sysreader', body);
      assert.equal(r.status, status, `PATCH ${JSON.stringify(body)}`);
      if (status === 403) assert.equal(faultOf(r), 'Access was denied to the following resource: baremetal:node:update');
      else assert.match(faultOf(r), /^Schema error for patch: /);
    }
    assert.equal(patches(), beforePatches, 'no site received a PATCH');
  });

  test('the operational endpoints are for admins', async () => {
    assert.equal((await call('GET', '/metrics', 'sysreader')).status, 403);
    assert.equal((await call('GET', '/metrics', 'admin')).status, 200);
  });

  test('the status page: its files need no token (they hold no data); its data is for admins, as /metrics', async () => {
    const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    const json = { accept: 'application/json' };
    const page = await call('GET', '/status', undefined, undefined, html);
    assert.equal(page.status, 200);
    assert.match(String(page.body), /<title>ironic-proxy/);
    assert.doesNotMatch(String(page.body), /a-node-0|"sites":/, 'no data in the page itself');
    assert.equal((await call('GET', '/status/status.js')).status, 200);
    assert.equal((await call('GET', '/status/status.css')).status, 200);
    for (const token of [undefined, 'forged']) {
      const r = await call('GET', '/status', token, undefined, json);
      assert.equal(r.status, 401, `token ${token}`);
      assert.equal(r.headers.get('www-authenticate'), `Keystone uri="${ks.url}"`);
    }
    // Accept naming JSON and HTML is the page, not the data; a POST is no read.
    assert.doesNotMatch(String((await call('GET', '/status', undefined, undefined, { accept: 'application/json, text/html' })).body), /"sites":/);
    assert.equal((await call('POST', '/status', undefined, undefined, html)).status, 401);
    assert.equal((await call('GET', '/status', 'sysreader', undefined, json)).status, 403);
    const ok = await call('GET', '/status', 'admin', undefined, json);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.sites.map((x: { name: string }) => x.name), ['a', 'b']);
    assert.equal(ok.body.proxy.auth_strategy, 'keystone');
    // The service token's authentication is counted (the alert on renewals failing reads it).
    const metrics = await call('GET', '/metrics', 'admin');
    assert.match(String(metrics.body), /^ironic_proxy_keystone_authentications_total\{holder="keystone_authtoken",outcome="success"\} [1-9]/m);
  });

  test('a token in its last seconds is still accepted (no margin before expires_at)', async () => {
    ks.tokens.set('short', { system: true, roles: ['reader'], expiresAt: Date.now() + 3000 });
    try {
      assert.equal((await call('GET', '/v1/nodes', 'short')).status, 200);
    } finally {
      ks.tokens.delete('short');
    }
  });

  test('Keystone down or failing: keystonemiddleware\'s 503 (webob body for the Accept header), no address in it, the reason logged without secrets', async () => {
    const { hostname, port } = new URL(ks.url);
    const path = '/v1/nodes';
    for (const mode of ['reset', 'http500', 'revoke-service'] as const) {
      ks.mode = mode;
      try {
        for (const [accept, form] of [[undefined, 'text/plain'], ['application/json', 'application/json'], ['*/*', 'text/html']] as const) {
          const headers: Record<string, string> = { 'x-openstack-ironic-api-version': 'latest', 'x-auth-token': 'admin' };
          if (accept) headers.accept = accept;
          const r = await rawGet(`${fleet.url}${path}`, headers);
          assert.equal(r.status, 503, `${mode} ${accept}`);
          assert.equal(r.headers['content-type'], WEBOB_503[form].contentType, `${mode} ${accept}`);
          assert.equal(r.body, WEBOB_503[form].body, `${mode} ${accept}`);
          assert.equal(r.headers['www-authenticate'], undefined, 'not a 401');
          const everything = `${JSON.stringify(r.headers)}\n${r.body}`;
          for (const address of [hostname, `:${port}`, ks.url, 'localhost']) {
            assert.ok(!everything.includes(address), `${mode}: ${address} in ${everything}`);
          }
        }
      } finally {
        ks.mode = 'ok';
      }
    }
    assert.equal((await call('GET', path, 'admin')).status, 200, 'back once Keystone is');
    const logged = logLines.filter((l) => l.includes('Unable to validate token'));
    assert.ok(logged.some((l) => l.includes(`Keystone at ${ks.url}`) && l.includes('connection reset')), logged.join(''));
    assert.ok(logged.some((l) => l.includes('HTTP 500')), logged.join(''));
    assert.ok(logged.some((l) => l.includes("rejected the proxy's credentials for user proxy (HTTP 401)")), logged.join(''));
    const all = logLines.join('');
    for (const secret of [PASSWORD, 'svc-token']) assert.ok(!all.includes(secret), `${secret} in the log`);
  });
});

describe('token expiry as keystonemiddleware: accepted until expires_at, refused after, cached or not', () => {
  const ks = new FakeKeystone();
  before(() => ks.start());
  after(() => ks.close());

  test('a fresh validation: accepted at expiry - 1 s and at expiry - 4 s, refused 1 s after expiry', async () => {
    const clock = new Clock();
    const { validator } = validatorFor(ks, { now: clock.now });
    try {
      const expiresAt = clock.t + 60_000;
      ks.tokens.set('fresh', { system: true, roles: ['reader'], expiresAt });
      clock.t = expiresAt - 4000;
      assert.equal((await validator.validate('fresh')).expiresAt, expiresAt);
      clock.t = expiresAt - 1000;
      assert.ok(await validator.validate('fresh'));
      // A Keystone that still vouches for it (its own clock behind): the proxy refuses it all the same.
      clock.t = expiresAt + 1000;
      const before = ks.validations;
      await rejectsWith(validator.validate('fresh'), TokenRejected);
      assert.equal(ks.validations - before, 1, 'asked Keystone, then refused on expires_at');
    } finally {
      await validator.close();
    }
  });

  test('a cached validation: accepted from the cache up to expires_at inclusive, refused 1 ms after without asking Keystone', async () => {
    const clock = new Clock();
    const { validator } = validatorFor(ks, { now: clock.now, cacheMs: 300_000 });
    try {
      const expiresAt = clock.t + 10_000;
      ks.tokens.set('cached', { project: { id: 'p1', name: 'p1' }, roles: ['member'], expiresAt });
      assert.ok(await validator.validate('cached'));
      const before = ks.validations;
      clock.t = expiresAt - 1000;
      assert.ok(await validator.validate('cached'));
      clock.t = expiresAt;
      assert.ok(await validator.validate('cached'), 'expires_at itself is not yet expired (expires < now is)');
      clock.t = expiresAt + 1;
      await rejectsWith(validator.validate('cached'), TokenRejected);
      assert.equal(ks.validations, before, 'all from the cache');
    } finally {
      await validator.close();
    }
  });
});

describe('Keystone unavailable: webob\'s choice of body by Accept', () => {
  test('plain text without Accept, JSON only when preferred, HTML on ties and invalid headers (checked against webob 1.8)', () => {
    const expected: Array<[string | undefined, string]> = [
      [undefined, 'text/plain'],
      ['', 'text/plain'],
      ['application/json', 'application/json'],
      ['*/*', 'text/html'],
      ['application/json, */*', 'text/html'],
      ['application/json, text/html', 'text/html'],
      ['application/json;q=0.9, text/html;q=0.8', 'application/json'],
      ['application/json; charset=utf-8', 'text/plain'],
      ['*/*;q=0.1, application/json', 'application/json'],
      ['application/*', 'application/json'],
      ['text/*, application/json;q=0.5', 'text/html'],
      ['application/json;q=0, */*', 'text/html'],
      ['text/plain', 'text/plain'],
      ['image/png', 'text/plain'],
      ['garbage', 'text/html'],
      ['APPLICATION/JSON', 'application/json'],
      ['application/json;q=1.5', 'text/html'],
      ['application/json ; q=0.7, text/html;q=0.6', 'application/json'],
      ['text/html;q=0, text/html', 'text/plain'],
    ];
    for (const [accept, form] of expected) assert.equal(preferredForm(accept), form, String(accept));
  });
});

describe('TLS to Keystone: [keystone_authtoken] cafile, insecure, certfile/keyfile', { skip: !hasOpenssl() }, () => {
  let dir: string;
  let server: { key: string; cert: string };
  let client: { key: string; cert: string };
  let tlsKs: FakeKeystone;
  let mtlsKs: FakeKeystone;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ks-authtoken-tls-'));
    server = selfSignedCert(dir, 'server');
    client = selfSignedCert(dir, 'client');
    writeFileSync(join(dir, 'client-combined.pem'), Buffer.concat([readFileSync(client.cert), readFileSync(client.key)]));
    tlsKs = new FakeKeystone({ key: readFileSync(server.key), cert: readFileSync(server.cert) });
    // This one also wants the proxy's client certificate.
    mtlsKs = new FakeKeystone({ key: readFileSync(server.key), cert: readFileSync(server.cert), ca: readFileSync(client.cert) });
    await Promise.all([tlsKs.start(), mtlsKs.start()]);
    for (const ks of [tlsKs, mtlsKs]) ks.tokens.set('user', { system: true, roles: ['reader'] });
  });
  after(async () => {
    await Promise.all([tlsKs?.close(), mtlsKs?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const outcome = async (ks: FakeKeystone, extra: string): Promise<string> => {
    const { validator } = validatorFor(ks, { extra });
    try {
      await validator.validate('user');
      return 'ok';
    } catch (err) {
      if (err instanceof KeystoneUnavailable) return err.detail;
      throw err;
    } finally {
      await validator.close();
    }
  };

  test('a self-signed Keystone: refused without cafile, trusted with it, accepted with insecure', async () => {
    assert.match(await outcome(tlsKs, ''), /Keystone at https:\/\/127\.0\.0\.1:\d+\/v3 is unreachable \(.*(SELF_SIGNED|self.signed).*\)/i);
    assert.equal(tlsKs.authentications, 0);
    assert.equal(await outcome(tlsKs, `cafile = ${server.cert}`), 'ok');
    assert.equal(await outcome(tlsKs, 'insecure = true'), 'ok');
    assert.equal(tlsKs.authentications, 2, 'the service token and the validation over the same TLS options');
  });

  test('a Keystone that wants a client certificate: certfile + keyfile (or one combined certfile) sent', async () => {
    assert.match(await outcome(mtlsKs, `cafile = ${server.cert}`), /is unreachable/);
    assert.equal(await outcome(mtlsKs, `cafile = ${server.cert}\ncertfile = ${client.cert}\nkeyfile = ${client.key}`), 'ok');
    assert.equal(await outcome(mtlsKs, `cafile = ${server.cert}\ncertfile = ${join(dir, 'client-combined.pem')}`), 'ok');
  });

  test('through the proxy: [keystone_authtoken] cafile lets users in, the options are known', async () => {
    const fleet = await startFleet([{ name: 'a', nodes: 1 }], {
      apiIni:
        `auth_strategy = keystone\n[keystone_authtoken]\nauth_url = ${tlsKs.url}\nusername = proxy\npassword = ${PASSWORD}\n` +
        `user_domain_name = Default\nproject_name = service\nproject_domain_name = Default\ncafile = ${server.cert}\n` +
        `certfile = ${client.cert}\nkeyfile = ${client.key}`,
    });
    try {
      const r = await fetch(`${fleet.url}/v1/nodes`, { headers: { 'x-openstack-ironic-api-version': 'latest', 'x-auth-token': 'user' } });
      assert.equal(r.status, 200, await r.text());
      assert.deepEqual(fleet.proxy.services.config.unknownOptions, []);
    } finally {
      await fleet.close();
    }
  });
});

describe('the service token on Keystone\'s clock', () => {
  const ks = new FakeKeystone();
  before(() => ks.start());
  after(() => ks.close());

  for (const [skewHours, issuedAt] of [[-5, true], [-5, false], [5, false], [5, true]] as const) {
    test(`Keystone ${Math.abs(skewHours)} h ${skewHours < 0 ? 'behind' : 'ahead'} (${issuedAt ? 'issued_at' : 'Date header only'}): one token for its hour, not expired, not renewed`, async () => {
      ks.skewMs = skewHours * 3600_000;
      ks.sendIssuedAt = issuedAt;
      const { validator, session } = validatorFor(ks);
      // A user token still valid on the proxy's clock (keystonemiddleware compares its expires_at with the local clock).
      ks.tokens.set('skewed', { system: true, roles: ['reader'], expiresAt: Date.now() + 3600_000 });
      const before = ks.authentications;
      try {
        const sentAt = Date.now();
        for (let i = 0; i < 10; i++) assert.ok(await validator.validate('skewed'));
        assert.equal(ks.authentications - before, 1, 'one service token for ten validations');
        const t = session.token!;
        assert.ok(Math.abs(t.expiresAt - (sentAt + 3600_000)) < 3000, `expires in an hour on the proxy's clock, not ${new Date(t.expiresAt).toISOString()}`);
        assert.ok(t.renewAt > Date.now() + 3000_000, 'renewal is an hour away');
      } finally {
        ks.skewMs = 0;
        ks.sendIssuedAt = true;
        await validator.close();
      }
    });
  }

  test('with Keystone hours behind, the renewal near expiry happens once, in the background, and the new token lasts', async () => {
    ks.skewMs = -3 * 3600_000;
    ks.sendIssuedAt = false;
    const clock = new Clock();
    const { validator, session } = validatorFor(ks, { now: clock.now });
    ks.tokens.set('later', { system: true, roles: ['reader'], expiresAt: clock.t + 4 * 3600_000 });
    const before = ks.authentications;
    try {
      assert.ok(await validator.validate('later'));
      const first = session.token!;
      clock.t = first.renewAt + 1000; // inside the renewal margin, before E - M/2
      assert.ok(await validator.validate('later'));
      for (let i = 0; i < 50 && session.token === first; i++) await new Promise((r) => setTimeout(r, 10));
      assert.notEqual(session.token, first, 'renewed in the background');
      for (let i = 0; i < 10; i++) assert.ok(await validator.validate('later'));
      assert.equal(ks.authentications - before, 2, 'the first token and one renewal');
      assert.ok(session.token!.renewAt > clock.t + 3000_000);
    } finally {
      ks.skewMs = 0;
      ks.sendIssuedAt = true;
      await validator.close();
    }
  });
});

describe('what the validated token says about the caller (for oslo.context\'s to_policy_values)', () => {
  const ks = new FakeKeystone();
  before(() => ks.start());
  after(() => ks.close());

  test('user, project and domain ids with their domains, system scope, roles, is_admin_project', async () => {
    ks.tokens.set('project', {
      project: { id: 'p1', name: 'proj', domain: { id: 'd-p', name: 'ProjDomain' } },
      userDomain: { id: 'd-u', name: 'UserDomain' },
      roles: ['member', 'reader'],
      isAdminProject: false,
    });
    ks.tokens.set('domain', { domain: { id: 'd-1', name: 'Dom' }, roles: ['admin'] });
    ks.tokens.set('system', { system: true, roles: ['reader'] });
    const { validator } = validatorFor(ks);
    try {
      const p = await validator.validate('project');
      assert.deepEqual(
        {
          userId: p.userId, userDomainId: p.userDomainId, userDomainName: p.userDomainName, projectId: p.projectId, projectName: p.projectName,
          projectDomainId: p.projectDomainId, projectDomainName: p.projectDomainName, domainId: p.domainId, system: p.system, roles: p.roles,
          isAdminProject: p.isAdminProject,
        },
        {
          userId: 'u', userDomainId: 'd-u', userDomainName: 'UserDomain', projectId: 'p1', projectName: 'proj',
          projectDomainId: 'd-p', projectDomainName: 'ProjDomain', domainId: undefined, system: false, roles: ['member', 'reader'],
          isAdminProject: false,
        },
      );
      const d = await validator.validate('domain');
      assert.equal(d.domainId, 'd-1');
      assert.equal(d.domainName, 'Dom');
      assert.equal(d.projectId, undefined);
      assert.equal(d.userDomainId, 'default');
      assert.equal(d.isAdminProject, true, 'true when Keystone does not say, as keystoneauth reads it');
      const s = await validator.validate('system');
      assert.equal(s.system, true);
      assert.equal(s.domainId, undefined);
    } finally {
      await validator.close();
    }
  });
});
