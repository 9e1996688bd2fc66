/**
 * The proxy reaching real Ironic sites through a real Keystone with its own
 * service credentials (`[group:SITE] auth_type = password`, no
 * endpoint_override): Debian's Keystone (test/support/keystone.ts) and two
 * Ironic 21.4 sites with `auth_strategy = keystone` (keystonemiddleware,
 * token_cache_time = -1 so every token is checked with Keystone), the
 * baremetal endpoints registered per site region. Site ka is reached with a
 * project-scoped user, site kb with a system-scoped one.
 *
 * The proxy's auth_url points at a recording pass-through in front of
 * Keystone, so the test sees every authentication the proxy makes (and
 * only those: the sites talk to Keystone directly).
 *
 * Shown: endpoints discovered by region and interface; node create, list and
 * show through the proxy; a token the site refuses (revoked) is replaced and
 * the request retried; with Keystone's `[token] expiration = 5` the tokens
 * are renewed before they expire under steady traffic and after they
 * expired while idle, with every request answered; Keystone down is a down
 * site, not a crash.
 *
 * Run: npx tsx --test test/integration/site-keystone.test.ts (about 40 s)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { loadConfigText } from '../../src/config/load.js';
import { SiteUnavailableError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { startProxy, type RunningProxy } from '../../src/start.js';
import { createIronicServiceUser, ironicKeystoneConfig, startKeystone, type KeystoneHandle } from '../support/keystone.js';
import { startRealSites, type RealSites } from '../support/real-ironic.js';

const TOKEN_SECONDS = 5;
const USER_A = 'proxy-to-ka';
const USER_B = 'proxy-to-kb';
const PW_A = 'pw-a-5b0f1c';
const PW_B = 'pw-b-93d7aa';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));

interface AuthRecord {
  user: string;
  /** When the request reached the pass-through (ms). */
  at: number;
  status: number;
  token?: string;
  expiresAt?: number;
}

/** Forwards everything to Keystone; records POST /v3/auth/tokens. */
class KeystoneRecorder {
  readonly auths: AuthRecord[] = [];
  private server!: Server;
  url = '';

  constructor(private readonly target: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const at = Date.now();
          const body = Buffer.concat(chunks);
          const headers: Record<string, string> = {};
          for (const h of ['content-type', 'accept', 'x-auth-token', 'x-subject-token', 'user-agent']) {
            const v = req.headers[h];
            if (typeof v === 'string') headers[h] = v;
          }
          try {
            const up = await fetch(`${this.target}${req.url}`, {
              method: req.method,
              headers,
              body: body.length ? body : undefined,
            });
            const text = await up.text();
            if (req.method === 'POST' && req.url === '/v3/auth/tokens') {
              const user = (JSON.parse(body.toString('utf8')) as any)?.auth?.identity?.password?.user?.name ?? '?';
              const rec: AuthRecord = { user, at, status: up.status };
              if (up.status === 201) {
                rec.token = up.headers.get('x-subject-token') ?? undefined;
                rec.expiresAt = Date.parse((JSON.parse(text) as any).token.expires_at);
              }
              this.auths.push(rec);
            }
            const out: Record<string, string> = { 'content-type': up.headers.get('content-type') ?? 'application/json' };
            const subject = up.headers.get('x-subject-token');
            if (subject) out['x-subject-token'] = subject;
            res.writeHead(up.status, out).end(text);
          } catch (err) {
            res.writeHead(502, { 'content-type': 'text/plain' }).end(`recorder: ${(err as Error).message}`);
          }
        })();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  of(user: string): AuthRecord[] {
    return this.auths.filter((a) => a.user === user);
  }

  last(user: string): AuthRecord {
    const r = this.of(user).at(-1);
    assert.ok(r, `no authentication of ${user}`);
    return r;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('sites reached through their own Keystone (real Keystone, real Ironic)', { timeout: 300_000 }, () => {
  let ks: KeystoneHandle;
  let lab: RealSites;
  let recorder: KeystoneRecorder;
  const proxies: RunningProxy[] = [];
  const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

  /** The proxy configuration: no endpoint_override, the catalog decides. */
  const proxyIni = (authUrl: string) => `
[DEFAULT]
groups = _:ka,gb:kb
[api]
port = 0
auth_strategy = noauth
[group:ka]
auth_type = password
auth_url = ${authUrl}
username = ${USER_A}
password = ${PW_A}
user_domain_name = Default
project_name = service
project_domain_name = Default
region_name = RegionA
interface = public
[group:kb]
auth_type = v3password
auth_url = ${authUrl}/v3
username = ${USER_B}
password = ${PW_B}
user_domain_id = default
system_scope = all
region_name = RegionB
valid_interfaces = public
`;

  const start = async (authUrl: string): Promise<RunningProxy> => {
    const p = await startProxy(loadConfigText(proxyIni(authUrl)), { log });
    proxies.push(p);
    return p;
  };

  const call = async (proxy: RunningProxy, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${proxy.url}${path}`, {
      method,
      headers: { 'X-OpenStack-Ironic-API-Version': 'latest', ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: text ? (JSON.parse(text) as any) : undefined };
  };

  /** Both sites answered the listing (no site missing). */
  const listAll = async (proxy: RunningProxy): Promise<string[]> => {
    const res = await call(proxy, 'GET', '/v1/nodes');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-ironic-proxy-missing-sites'), null, res.text);
    return (res.json.nodes as Array<{ name: string }>).map((n) => n.name).sort();
  };

  before(async () => {
    const t0 = Date.now();
    ks = await startKeystone();
    const svc = await createIronicServiceUser(ks);
    const service = await ks.ensureProject('service');
    await ks.createUser(USER_A, PW_A, { projectId: service.id, roles: ['admin'] });
    await ks.createUser(USER_B, PW_B, { systemRoles: ['admin'] });
    lab = await startRealSites([{ name: 'ka' }, { name: 'kb', conductorGroups: ['gb'] }], {
      extraConfig: ironicKeystoneConfig(ks, { ...svc, tokenCacheTime: -1 }),
      readyToken: () => ks.systemAdminToken(),
    });
    const baremetal = await ks.createService('baremetal', 'ironic');
    // A decoy first: the internal interface of RegionA leads nowhere.
    await ks.createEndpoint(baremetal, { interface: 'internal', url: 'http://127.0.0.1:9/', region: 'RegionA' });
    await ks.createEndpoint(baremetal, { interface: 'public', url: lab.site('ka').url, region: 'RegionA' });
    await ks.createEndpoint(baremetal, { interface: 'public', url: `${lab.site('kb').url}/`, region: 'RegionB' });
    recorder = new KeystoneRecorder(ks.baseUrl);
    await recorder.start();
    console.log(`# keystone + 2 ironic sites behind it ready in ${Date.now() - t0} ms`);
  });

  after(async () => {
    for (const p of proxies) await p.close();
    await recorder?.close();
    await Promise.all([lab?.stop(), ks?.stop()]);
  });

  test('endpoints found by region and interface; nodes created, listed and shown; one token per site', async () => {
    const proxy = await start(recorder.url);
    const [ka, kb] = ['ka', 'kb'].map((n) => proxy.services.registry.get(n)!);
    assert.equal(ka!.endpoint, lab.site('ka').url, 'RegionA public, not the internal decoy');
    assert.equal(kb!.endpoint, lab.site('kb').url, 'RegionB public (trailing slash dropped)');

    for (const [name, group] of [['via-ka', undefined], ['via-kb', 'gb']] as const) {
      const res = await call(proxy, 'POST', '/v1/nodes', { name, driver: 'fake-hardware', ...(group ? { conductor_group: group } : {}) });
      assert.equal(res.status, 201, res.text);
      const shown = await call(proxy, 'GET', `/v1/nodes/${name}`);
      assert.equal(shown.status, 200, shown.text);
      assert.equal(shown.json.uuid, res.json.uuid);
      assert.equal(shown.json.conductor_group, group ?? '');
    }
    assert.deepEqual(await listAll(proxy), ['via-ka', 'via-kb']);

    // One authentication per site for all of that (version discovery, uniqueness checks, creates, reads).
    assert.deepEqual(recorder.of(USER_A).map((a) => a.status), [201]);
    assert.deepEqual(recorder.of(USER_B).map((a) => a.status), [201]);
    assert.equal(recorder.auths.length, 2);
    // Real Keystone tokens: project-scoped for ka, system-scoped for kb.
    const va = await ks.validate(recorder.last(USER_A).token!);
    assert.equal(va.token?.project?.name, 'service');
    const vb = await ks.validate(recorder.last(USER_B).token!);
    assert.deepEqual(vb.token?.system, { all: true });
  });

  test('a token the site refuses (revoked at Keystone) is replaced and the request retried once', async () => {
    const proxy = proxies[0]!;
    const stale = recorder.last(USER_A).token!;
    await ks.revokeToken(stale);
    const shown = await call(proxy, 'GET', '/v1/nodes/via-ka');
    assert.equal(shown.status, 200, shown.text);
    assert.equal(recorder.of(USER_A).length, 2, 'one new authentication');
    assert.notEqual(recorder.last(USER_A).token, stale);
    assert.equal(recorder.of(USER_B).length, 1, "kb's token untouched");
  });

  describe(`Keystone tokens lasting ${TOKEN_SECONDS} s`, () => {
    let proxy: RunningProxy;

    before(async () => {
      await ks.restart({ tokenExpiration: TOKEN_SECONDS });
      proxy = await start(recorder.url);
    });

    test('renewed before they expire under steady traffic; every request answered', async () => {
      assert.deepEqual(await listAll(proxy), ['via-ka', 'via-kb']);
      const first = recorder.last(USER_A);
      assert.ok(first.expiresAt! - first.at <= TOKEN_SECONDS * 1000 + 1000, `a ${TOKEN_SECONDS} s token: ${JSON.stringify(first)}`);
      // Listings back to back (50 ms apart) until 1.5 s past the first token's expiry (deadline-bounded).
      const starts: number[] = [];
      while (Date.now() < first.expiresAt! + 1500) {
        starts.push(Date.now());
        assert.deepEqual(await listAll(proxy), ['via-ka', 'via-kb']);
        await delay(50);
      }
      const renewals = recorder.of(USER_A).filter((a) => a.at > first.at);
      const e = first.expiresAt!;
      console.log(`# ${starts.length} listings over ${Date.now() - first.at} ms; renewals of ka at ${renewals.map((a) => a.at - e).join(', ')} ms from expiry`);
      assert.ok(renewals.length >= 1, 'Keystone saw a second authentication');
      assert.ok(renewals.every((a) => a.status === 201));
      assert.ok(renewals.length <= 3, `${renewals.length} renewals of a ${TOKEN_SECONDS} s token in ${starts.length} listings`);
      // Renewal starts 10 % (0.5 s) before expiry: a listing sent inside that window renews the token in time.
      if (starts.some((t) => t >= e - 450 && t <= e - 50)) {
        assert.ok(renewals[0]!.at < e, `renewed ${renewals[0]!.at - e} ms after expiry`);
      } else {
        console.log('# (no listing started inside the renewal window: a slow machine; renewal-in-time not checked)');
      }
      assert.ok(recorder.of(USER_B).some((a) => a.at > first.at && a.status === 201), 'kb renewed too');
      // Keystone itself says the first token is over and the new one is good.
      assert.equal((await ks.validate(first.token!)).status, 404);
      assert.equal((await ks.validate(recorder.last(USER_A).token!)).status, 200);
    });

    test('a token that expired while idle is replaced on the next request', async () => {
      const held = recorder.last(USER_A);
      const deadline = held.expiresAt! + 10_000;
      // Idle: poll Keystone (not the proxy) until it refuses the held token.
      while ((await ks.validate(held.token!)).status === 200) {
        assert.ok(Date.now() < deadline, 'the token never expired');
        await delay(200);
      }
      const before = recorder.of(USER_A).length;
      const shown = await call(proxy, 'GET', '/v1/nodes/via-ka');
      assert.equal(shown.status, 200, shown.text);
      assert.equal(recorder.of(USER_A).length, before + 1);
      assert.notEqual(recorder.last(USER_A).token, held.token);
    });
  });

  test('Keystone down: the sites are down sites with the reason, the proxy keeps running', async () => {
    await ks.stopServing();
    const proxy = await start(ks.baseUrl);
    const ka = proxy.services.registry.get('ka')!;
    await assert.rejects(
      ka.request({ method: 'GET', path: '/v1/nodes', version: { major: 1, minor: 1 }, requestId: 'req-down' }),
      (err: unknown) =>
        err instanceof SiteUnavailableError &&
        /^Site ka is unavailable: Keystone at http:\/\/127\.0\.0\.1:\d+\/v3 is unreachable \(connection refused\)$/.test(err.message),
    );
    const res = await call(proxy, 'GET', '/v1/nodes');
    assert.equal(res.status, 503, res.text);
    assert.ok(!res.text.includes(PW_A) && !res.text.includes(PW_B));
    assert.equal((await fetch(`${proxy.url}/healthz`)).status, 200, 'still serving');
    assert.deepEqual(unhandled, []);
  });
});
