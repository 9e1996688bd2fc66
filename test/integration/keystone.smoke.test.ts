/**
 * Smoke test of the real-Keystone harness (test/support/keystone.ts):
 * Debian's python3-keystone on loopback, tokens issued and validated the
 * way keystonemiddleware (and the proxy) do it, the catalog, short-lived
 * tokens, and one real Ironic site (startRealSites) behind that Keystone
 * (ironicKeystoneConfig), to pin the behaviours the proxy must reproduce.
 *
 * Run: npx tsx --test test/integration/keystone.smoke.test.ts
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';

import {
  catalogLookup,
  createIronicServiceUser,
  ironicKeystoneConfig,
  startKeystone,
  type IronicServiceUser,
  type KeystoneHandle,
} from '../support/keystone.js';
import { startRealSites, type RealSites } from '../support/real-ironic.js';

const PYTHON = '/usr/bin/python3';

function roleNames(t: { roles?: Array<{ name: string }> } | undefined): string[] {
  return (t?.roles ?? []).map((r) => r.name).sort();
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('real Keystone harness', { timeout: 180_000 }, () => {
  let ks: KeystoneHandle;
  let svc: IronicServiceUser;
  let serviceToken: string;
  let project: { id: string; name: string };

  before(async () => {
    const probe = spawnSync(PYTHON, ['-c', 'import keystone, gunicorn'], { stdio: 'ignore' });
    assert.equal(probe.status, 0, `${PYTHON} cannot import keystone/gunicorn: run scripts/install-system-deps.sh`);
    ks = await startKeystone();
    console.log(`# keystone ${ks.url}: setup ${ks.timings.setupMs} ms, serve ${ks.timings.serveMs} ms, ` +
      `total ${ks.timings.totalMs} ms, RSS ${JSON.stringify(ks.rssKb())} KiB`);
    svc = await createIronicServiceUser(ks);
    serviceToken = await ks.issueToken({ username: svc.serviceUser, password: svc.servicePassword, projectName: 'service' });
    project = await ks.createProject('tenant-a');
    await ks.createUser('reader-a', 'reader-pw', { projectId: project.id, roles: ['reader'] });
    await ks.createUser('member-a', 'member-pw', { projectId: project.id, roles: ['member'] });
  });

  after(async () => {
    await ks?.stop();
  });

  it('serves Identity v3 on loopback and measured its start-up', async () => {
    const res = await fetch(ks.url);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { version: { id: string; status: string } };
    assert.match(body.version.id, /^v3\.\d+$/);
    assert.equal(body.version.status, 'stable');
    assert.match(ks.url, /^http:\/\/127\.0\.0\.1:\d+\/v3$/);
    assert.ok(ks.timings.setupMs > 0 && ks.timings.serveMs > 0);
    assert.ok(ks.timings.totalMs >= ks.timings.setupMs + ks.timings.serveMs);
    const rss = ks.rssKb();
    assert.ok(rss.master > 0 && rss.worker > 0, `RSS ${JSON.stringify(rss)}`);
  });

  it('bootstrap made admin, member, reader and RegionOne; ensureRole is idempotent', async () => {
    const res = await ks.request('GET', '/roles', { expect: 200 });
    const roles = (res.json as { roles: Array<{ id: string; name: string }> }).roles;
    for (const name of ['admin', 'member', 'reader']) {
      const listed = roles.find((r) => r.name === name);
      assert.ok(listed, `role ${name} exists after bootstrap`);
      assert.equal(await ks.ensureRole(name), listed.id);
    }
    const custom = await ks.ensureRole('baremetal_observer');
    assert.ok(!roles.some((r) => r.id === custom));
    assert.equal(await ks.ensureRole('baremetal_observer'), custom);
    const regions = await ks.request('GET', '/regions', { expect: 200 });
    assert.ok((regions.json as { regions: Array<{ id: string }> }).regions.some((r) => r.id === 'RegionOne'));
  });

  it('validates a member token with a service token: user, project, roles (implied included), expiry', async () => {
    const t0 = Date.now();
    const token = await ks.issueToken({ username: 'member-a', password: 'member-pw', projectName: 'tenant-a' });
    const v = await ks.validate(token, { serviceToken });
    assert.equal(v.status, 200);
    assert.ok(v.token);
    assert.equal(v.token.user.name, 'member-a');
    assert.equal(v.token.user.domain.id, 'default');
    assert.deepEqual(v.token.project && { id: v.token.project.id, name: v.token.project.name }, project);
    assert.equal(v.token.system, undefined);
    // member implies reader (bootstrap creates the implied-role chain admin > member > reader).
    assert.deepEqual(roleNames(v.token), ['member', 'reader']);
    assert.equal(v.token.catalog, undefined, '?nocatalog');
    const expires = Date.parse(v.token.expires_at);
    assert.ok(expires > t0 + 3500_000 && expires < t0 + 3700_000, `expires_at ${v.token.expires_at}`);
    assert.deepEqual(v.token.methods, ['password']);
  });

  it('a reader token carries only the reader role, and a reader cannot validate other tokens (403)', async () => {
    const reader = await ks.issueToken({ username: 'reader-a', password: 'reader-pw', projectName: 'tenant-a' });
    const member = await ks.issueToken({ username: 'member-a', password: 'member-pw', projectName: 'tenant-a' });
    const v = await ks.validate(reader, { serviceToken });
    assert.equal(v.status, 200);
    assert.deepEqual(roleNames(v.token), ['reader']);
    const denied = await ks.validate(member, { serviceToken: reader });
    assert.equal(denied.status, 403);
    // ...but any token may validate itself (rule token_subject).
    assert.equal((await ks.validate(reader, { serviceToken: reader })).status, 200);
  });

  it('system scope: bootstrap admin and assignSystemRole give system {all: true} and no project', async () => {
    const admin = await ks.validate(await ks.systemAdminToken(), { serviceToken });
    assert.equal(admin.status, 200);
    assert.deepEqual(admin.token?.system, { all: true });
    assert.equal(admin.token?.project, undefined);
    assert.deepEqual(roleNames(admin.token), ['admin', 'member', 'reader']);

    const auditor = await ks.createUser('auditor', 'auditor-pw');
    await ks.assignSystemRole(auditor.id, 'reader');
    const tok = await ks.issueToken({ username: 'auditor', password: 'auditor-pw', system: true });
    const v = await ks.validate(tok, { serviceToken });
    assert.equal(v.status, 200);
    assert.deepEqual(v.token?.system, { all: true });
    assert.deepEqual(roleNames(v.token), ['reader']);
    // A system-scoped reader may validate other users' tokens.
    const member = await ks.issueToken({ username: 'member-a', password: 'member-pw', projectName: 'tenant-a' });
    assert.equal((await ks.validate(member, { serviceToken: tok })).status, 200);
    // Without a system role there is no system-scoped token.
    await assert.rejects(ks.issueToken({ username: 'member-a', password: 'member-pw', system: true }), /401/);
  });

  it('revoked, unknown and tampered tokens give 404; a bad service token gives 401', async () => {
    const token = await ks.issueToken({ username: 'member-a', password: 'member-pw', projectName: 'tenant-a' });
    assert.equal((await ks.validate(token, { serviceToken })).status, 200);
    await ks.revokeToken(token);
    const revoked = await ks.validate(token, { serviceToken });
    assert.equal(revoked.status, 404);
    assert.deepEqual(revoked.json, { error: { code: 404, message: 'Failed to validate token', title: 'Not Found' } });

    assert.equal((await ks.validate('gAAAAABnot-a-real-token', { serviceToken })).status, 404);
    const fresh = await ks.issueToken({ username: 'member-a', password: 'member-pw', projectName: 'tenant-a' });
    const tampered = fresh.slice(0, 40) + (fresh[40] === 'A' ? 'B' : 'A') + fresh.slice(41);
    assert.equal((await ks.validate(tampered, { serviceToken })).status, 404);

    const bad = await ks.validate(fresh, { serviceToken: 'not-a-token' });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get('www-authenticate'), `Keystone uri="${ks.url}"`);
    assert.equal((await ks.validate(fresh, { serviceToken })).status, 200, 'the user token itself is fine');
  });

  it('wrong password or unknown project: no token (401)', async () => {
    await assert.rejects(ks.issueToken({ username: 'member-a', password: 'nope', projectName: 'tenant-a' }), /401/);
    await assert.rejects(ks.issueToken({ username: 'member-a', password: 'member-pw', projectName: 'no-such' }), /401/);
  });

  it('catalog: baremetal endpoints found by service_type, interface and region', async () => {
    const serviceId = await ks.createService('baremetal', 'ironic');
    await ks.createEndpoint(serviceId, { interface: 'public', url: 'http://127.0.0.1:1111', region: 'site-a' });
    await ks.createEndpoint(serviceId, { interface: 'internal', url: 'http://127.0.0.2:1111', region: 'site-a' });
    await ks.createEndpoint(serviceId, { interface: 'public', url: 'http://127.0.0.1:2222', region: 'site-b' });
    const info = await ks.authenticate(
      { username: svc.serviceUser, password: svc.servicePassword, projectName: 'service' },
      { catalog: true },
    );
    const catalog = info.body.catalog ?? [];
    const bm = catalog.filter((s) => s.type === 'baremetal');
    assert.equal(bm.length, 1);
    assert.equal(bm[0]!.endpoints.length, 3);
    assert.equal(catalogLookup(catalog, { serviceType: 'baremetal', interface: 'public', region: 'site-b' }), 'http://127.0.0.1:2222');
    assert.equal(catalogLookup(catalog, { serviceType: 'baremetal', interface: 'public', region: 'site-a' }), 'http://127.0.0.1:1111');
    assert.equal(catalogLookup(catalog, { serviceType: 'baremetal', interface: 'internal', region: 'site-a' }), 'http://127.0.0.2:1111');
    assert.equal(catalogLookup(catalog, { serviceType: 'baremetal', interface: 'internal', region: 'site-b' }), undefined);
    assert.equal(catalogLookup(catalog, { serviceType: 'baremetal', interface: 'public', region: 'RegionOne' }), undefined);
    // Without a region: the first public endpoint, whichever site it is.
    assert.ok(['http://127.0.0.1:1111', 'http://127.0.0.1:2222'].includes(
      catalogLookup(catalog, { serviceType: 'baremetal', interface: 'public' }) ?? ''));
    assert.equal(catalogLookup(catalog, { serviceType: 'identity', interface: 'public', region: 'RegionOne' }), ks.url);
    // Validation with ?nocatalog omitted returns the same catalog.
    const v = await ks.validate(info.token, { serviceToken, catalog: true });
    assert.equal(catalogLookup(v.token?.catalog ?? [], { serviceType: 'baremetal', interface: 'public', region: 'site-b' }), 'http://127.0.0.1:2222');
  });

  it('a short-lived token validates, then expires: 404 (200 with allow_expired)', async () => {
    const creds = { username: 'member-a', password: 'member-pw', projectName: 'tenant-a' };
    // Long enough that a loaded machine (CI on two cores) still gets the token back before it expires.
    const lifetime = 15;
    const info = await ks.authenticateShortLived(creds, lifetime);
    const issued = Date.parse(info.body.issued_at);
    const expires = info.expiresAt.getTime();
    assert.equal(expires - issued, lifetime * 1000, `${info.body.issued_at} .. ${info.body.expires_at}`);
    assert.deepEqual(roleNames(info.body), ['member', 'reader']);
    assert.ok(expires > Date.now(), 'not expired yet when returned');
    const first = await ks.validate(info.token, { serviceToken });
    const firstAt = Date.now();
    if (firstAt < expires) assert.equal(first.status, 200);
    assert.equal(first.token?.expires_at, info.body.expires_at);

    // Poll until it expires (deadline: expiry + 5 s), never sleep blindly.
    const deadline = expires + 5000;
    let status = first.status;
    let lastOkAt = first.status === 200 ? firstAt : 0;
    while (status === 200 && Date.now() < deadline) {
      await delay(200);
      const before = Date.now();
      status = (await ks.validate(info.token, { serviceToken })).status;
      if (status === 200) lastOkAt = before;
    }
    assert.equal(status, 404, 'expired token no longer validates');
    assert.ok(Date.now() >= expires - 100, 'not refused before its expires_at');
    assert.ok(lastOkAt < expires + 100, 'not accepted after its expires_at');
    const allowed = await ks.validate(info.token, { serviceToken, allowExpired: true });
    assert.equal(allowed.status, 200);
    // The server's own tokens still last an hour.
    const normal = await ks.validate(await ks.issueToken(creds), { serviceToken });
    assert.ok(Date.parse(normal.token!.expires_at) - Date.now() > 3000_000);
  });

  it('ironicKeystoneConfig renders what keystonemiddleware needs', () => {
    const ini = ironicKeystoneConfig(ks, svc);
    assert.match(ini, /^\[DEFAULT\]\nauth_strategy = keystone\n\[keystone_authtoken\]\n/);
    for (const line of [
      'auth_type = password',
      `auth_url = ${ks.url}`,
      `www_authenticate_uri = ${ks.url}`,
      `username = ${svc.serviceUser}`,
      `password = ${svc.servicePassword}`,
      'project_name = service',
      'user_domain_id = default',
      'project_domain_id = default',
      'interface = public',
    ]) {
      assert.ok(ini.split('\n').includes(line), `missing ${line}`);
    }
  });

  describe('one real Ironic site behind this Keystone', () => {
    let lab: RealSites | undefined;
    let url = '';
    const other = { id: '', name: 'tenant-b' };

    before(async () => {
      other.id = (await ks.createProject(other.name)).id;
      lab = await startRealSites([{ name: 'ks-site' }], {
        extraConfig: ironicKeystoneConfig(ks, svc),
        readyToken: () => ks.systemAdminToken(),
      });
      url = lab.sites[0]!.url;
      console.log(`# ironic behind keystone ready in ${lab.startMs} ms`);
    });

    after(async () => {
      await lab?.stop();
    });

    const api = async (method: string, p: string, token: string | null, body?: unknown) => {
      const headers: Record<string, string> = { 'X-OpenStack-Ironic-API-Version': '1.82' };
      if (token !== null) headers['X-Auth-Token'] = token;
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await fetch(`${url}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, headers: res.headers, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };

    it('answers 401 with WWW-Authenticate: Keystone uri=… without or with a bad token; / and /v1 are open', async () => {
      for (const token of [null, 'garbage']) {
        const res = await api('GET', '/v1/nodes', token);
        assert.equal(res.status, 401);
        assert.equal(res.headers.get('www-authenticate'), `Keystone uri="${ks.url}"`);
        // keystonemiddleware's own body, not Ironic's error_message.
        assert.deepEqual(res.json, {
          error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' },
        });
      }
      for (const p of ['/', '/v1', '/v1/']) assert.equal((await api('GET', p, null)).status, 200, p);
    });

    it('admins create and list all nodes; a project member lists only its own and gets 403 on create', async () => {
      const sysAdmin = await ks.systemAdminToken();
      for (const [name, owner] of [['own-a', project.id], ['own-b', other.id], ['nobody', undefined]] as const) {
        const res = await api('POST', '/v1/nodes', sysAdmin, { name, driver: 'fake-hardware', ...(owner ? { owner } : {}) });
        assert.equal(res.status, 201, res.text);
      }
      const names = async (token: string): Promise<string[]> => {
        const res = await api('GET', '/v1/nodes', token);
        assert.equal(res.status, 200, res.text);
        return (res.json.nodes as Array<{ name: string }>).map((n) => n.name).sort();
      };
      assert.deepEqual(await names(sysAdmin), ['nobody', 'own-a', 'own-b']);
      assert.deepEqual(await names(await ks.adminToken()), ['nobody', 'own-a', 'own-b'], 'project-scoped admin');

      const member = await ks.issueToken({ username: 'member-a', password: 'member-pw', projectName: 'tenant-a' });
      const reader = await ks.issueToken({ username: 'reader-a', password: 'reader-pw', projectName: 'tenant-a' });
      assert.deepEqual(await names(member), ['own-a']);
      assert.deepEqual(await names(reader), ['own-a']);

      const denied = await api('POST', '/v1/nodes', member, { name: 'mine', driver: 'fake-hardware' });
      assert.equal(denied.status, 403);
      assert.equal(typeof denied.json.error_message, 'string');
      assert.deepEqual(JSON.parse(denied.json.error_message as string), {
        faultcode: 'Client',
        faultstring: 'Access was denied to the following resource: baremetal:node:create',
        debuginfo: null,
      });
      assert.equal(denied.headers.get('x-openstack-ironic-api-version'), '1.82');

      assert.equal((await api('GET', '/v1/nodes/own-b', member)).status, 404, 'another project’s node is invisible');
      const patch = [{ op: 'add', path: '/description', value: 'x' }];
      assert.equal((await api('PATCH', '/v1/nodes/own-a', member, patch)).status, 200);
      const readerPatch = await api('PATCH', '/v1/nodes/own-a', reader, patch);
      assert.equal(readerPatch.status, 403);
      assert.match(readerPatch.json.error_message as string, /baremetal:node:update/);
    });
  });

  it('stopServing takes Keystone down; restart brings it back with the same data and a new token lifetime', async () => {
    const creds = { username: 'member-a', password: 'member-pw', projectName: 'tenant-a' };
    const before = await ks.issueToken(creds);
    await ks.stopServing();
    assert.equal(ks.pid, 0);
    const refused = await new Promise<string>((resolve) => {
      const sock = net.connect(ks.port, '127.0.0.1', () => {
        sock.destroy();
        resolve('connected');
      });
      sock.once('error', (e: Error & { code?: string }) => resolve(e.code ?? e.message));
    });
    assert.equal(refused, 'ECONNREFUSED');
    const t0 = Date.now();
    await ks.restart({ tokenExpiration: 5 });
    console.log(`# keystone restart ${Date.now() - t0} ms`);
    assert.ok(ks.pid > 0);
    const v = await ks.validate(before, { serviceToken });
    assert.equal(v.status, 200, 'tokens issued before the restart still validate (same fernet keys, same DB)');
    const short = await ks.authenticate(creds);
    assert.equal(Date.parse(short.body.expires_at) - Date.parse(short.body.issued_at), 5000);
    await ks.restart({ tokenExpiration: 3600 });
    const normal = await ks.authenticate(creds);
    assert.equal(Date.parse(normal.body.expires_at) - Date.parse(normal.body.issued_at), 3600_000);
  });
});
