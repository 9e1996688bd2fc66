/**
 * The proxy reaching a site through the site's own Keystone, against a tiny
 * fake Keystone and a fake Ironic (the simulator's API behind a token check
 * and a path prefix) on loopback: one authentication for many requests,
 * shared in-flight authentication, renewal before expiry (controllable
 * clock), exactly one retry after a site's 401, catalog selection, Keystone
 * down / hanging / refusing the password as a down site (typed errors,
 * circuit breaker), TLS options for Keystone, and no secret in any message or
 * log line. The real Keystone runs in test/integration/site-keystone.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';

import { loadConfigText } from '../../src/config/load.js';
import type { SiteConfig } from '../../src/config/types.js';
import { SiteTimeoutError, SiteUnavailableError } from '../../src/errors.js';
import { REDACT_PATHS } from '../../src/log.js';
import { SimApi } from '../../src/sim/api.js';
import { DRIVERS } from '../../src/sim/seed.js';
import { createSiteAuth } from '../../src/sites/auth.js';
import {
  apiRootFromCatalog,
  authRequestBody,
  identityV3Url,
  KeystoneAuth,
  selectEndpoint,
  tokenExpiry,
  type CatalogService,
} from '../../src/sites/keystone.js';
import { SiteClient, type SiteResponse } from '../../src/sites/site-client.js';
import type { Logger } from '../../src/log.js';
import { startProxy, type RunningProxy } from '../../src/start.js';
import { hasOpenssl, rejectsWith, selfSignedCert } from '../support/tls-and-errors.js';

const PASSWORD = 'right-pw-3f9a';
const WRONG_PASSWORD = 'wrong-pw-77c1';
const GIVEN_TOKEN = 'given-token-5d2e';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));

// ---------------------------------------------------------------------------
// Fakes.

class Clock {
  t = Date.parse('2031-03-01T12:00:00Z');
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

type KsMode = 'ok' | 'http500' | 'hang';

/** POST /v3/auth/tokens only: password (user proxy / id u-proxy) or token method. */
class FakeKeystone {
  server!: Server;
  url = '';
  mode: KsMode = 'ok';
  /** Token lifetime. */
  lifetimeMs = 3600_000;
  /** Time source of issued_at / expires_at. */
  now: () => number = Date.now;
  /** Held responses wait for this (shared in-flight test). */
  gate: Promise<void> | undefined;
  readonly requests: Array<{ path: string; body: any }> = [];
  readonly issued: string[] = [];
  onIssue: (token: string) => void = () => {};
  catalog: CatalogService[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly hung = new Set<ServerResponse>();

  constructor(private readonly tls?: { key: Buffer; cert: Buffer }) {}

  async start(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => void this.answer(req, res, raw));
    };
    this.server = this.tls ? createHttpsServer(this.tls, handler) : createHttpServer(handler);
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `${this.tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get authCount(): number {
    return this.requests.length;
  }

  private async answer(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/v3/auth/tokens') {
      res.writeHead(404).end();
      return;
    }
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    this.requests.push({ path: req.url, body });
    if (this.gate) await this.gate;
    if (this.mode === 'hang') {
      this.hung.add(res);
      return;
    }
    if (this.mode === 'http500') {
      // A careless Keystone echoing the request: the proxy must not pass the secret on.
      json(res, 500, { error: { code: 500, title: 'Internal Server Error', message: `boom while checking ${raw}` } });
      return;
    }
    const identity = body?.auth?.identity;
    const method = identity?.methods?.[0];
    let ok = false;
    if (method === 'password') {
      const u = identity.password?.user;
      ok = u?.password === PASSWORD && (u.id === 'u-proxy' || (u.name === 'proxy' && (u.domain?.name === 'Default' || u.domain?.id === 'default')));
    } else if (method === 'token') {
      ok = identity.token?.id === GIVEN_TOKEN;
      if (!ok) {
        json(res, 404, { error: { code: 404, title: 'Not Found', message: `Could not find token: ${identity.token?.id}` } });
        return;
      }
    }
    if (!ok) {
      json(res, 401, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
      return;
    }
    const id = `tok-${this.issued.length + 1}`;
    this.issued.push(id);
    this.onIssue(id);
    const issued = this.now();
    json(res, 201, {
      token: {
        methods: [method],
        issued_at: new Date(issued).toISOString().replace('Z', '000Z'),
        expires_at: new Date(issued + this.lifetimeMs).toISOString().replace('Z', '000Z'),
        catalog: this.catalog,
      },
    }, { 'x-subject-token': id });
  }

  /** Connections refused from now on (listening socket closed, open ones destroyed). */
  async refuse(): Promise<void> {
    for (const r of this.hung) r.destroy();
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  async close(): Promise<void> {
    if (this.server.listening) await this.refuse();
  }
}

/** The simulator's Ironic API under path prefixes, behind an X-Auth-Token check. */
class FakeIronic {
  server!: Server;
  url = '';
  readonly valid = new Set<string>();
  rejectAll = false;
  /** Every request: path as received and its token. */
  readonly seen: Array<{ path: string; token: string | undefined; status: number; requestId: string }> = [];
  private api!: SimApi;
  private readonly sockets = new Set<Socket>();

  constructor(readonly prefixes: string[]) {}

  async start(): Promise<void> {
    this.server = createHttpServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => this.answer(req, res, raw));
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.api = new SimApi({
      name: 'ks',
      groups: [''],
      maxMinor: 82,
      maxLimit: 1000,
      drivers: Object.keys(DRIVERS),
      tickMs: 20,
      publicEndpoint: `${this.url}${this.prefixes[0]}`,
      seedNodes: 2,
    });
  }

  private answer(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const url = req.url ?? '/';
    const token = req.headers['x-auth-token'] as string | undefined;
    const prefix = this.prefixes.find((p) => url === p || url.startsWith(`${p}/`));
    const requestId = String(req.headers['x-openstack-request-id'] ?? '');
    const record = (status: number): void => void this.seen.push({ path: url, token, status, requestId });
    if (!prefix) {
      record(404);
      json(res, 404, { error_message: 'no such prefix' });
      return;
    }
    if (this.rejectAll || !token || !this.valid.has(token)) {
      record(401);
      json(res, 401, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
      return;
    }
    const rest = url.slice(prefix.length) || '/';
    const q = rest.indexOf('?');
    const reply = this.api.handle({
      method: req.method ?? 'GET',
      path: q < 0 ? rest : rest.slice(0, q),
      query: q < 0 ? '' : rest.slice(q + 1),
      headers: req.headers,
      body: raw,
    });
    record(reply.status);
    res.writeHead(reply.status, { ...reply.headers, 'content-length': String(Buffer.byteLength(reply.body ?? '')) });
    res.end(reply.body ?? '');
  }

  /** The tokens a request (by its request id) was sent with, in order. */
  tokensOf(requestId: string): Array<string | undefined> {
    return this.seen.filter((s) => s.requestId === requestId).map((s) => s.token);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

function catalogFor(ironic: FakeIronic, ks: FakeKeystone): CatalogService[] {
  return [
    { type: 'identity', name: 'keystone', endpoints: [{ interface: 'public', region_id: 'RegionOne', region: 'RegionOne', url: `${ks.url}/v3` }] },
    {
      type: 'baremetal',
      name: 'ironic',
      endpoints: [
        { interface: 'internal', region_id: 'RegionOne', region: 'RegionOne', url: `${ironic.url}/internal/v1` },
        { interface: 'public', region_id: 'RegionOne', region: 'RegionOne', url: `${ironic.url}/baremetal/` },
        { interface: 'public', region_id: 'RegionTwo', region: 'RegionTwo', url: `${ironic.url}/r2` },
      ],
    },
  ];
}

// ---------------------------------------------------------------------------
// Helpers.

const LIMITS = { connections: 8, maxQueued: 100, circuitFailureThreshold: 3, circuitOpenSeconds: 60 };
const V = { major: 1, minor: 82 };

function siteConfig(ks: FakeKeystone, options: Record<string, string | undefined> = {}): SiteConfig {
  const o: Record<string, string | undefined> = {
    auth_type: 'password',
    auth_url: ks.url, // no /v3: normalised
    username: 'proxy',
    password: PASSWORD,
    user_domain_name: 'Default',
    project_name: 'service',
    project_domain_id: 'default',
    timeout: '2',
    ...options,
  };
  const lines = Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} = ${v}`);
  return loadConfigText(`[DEFAULT]\ngroups = _:ks\n\n[group:ks]\n${lines.join('\n')}\n`).sites[0]!;
}

interface LogCapture {
  lines: string[];
  log: ReturnType<typeof pino>;
}

function captureLog(level = 'debug'): LogCapture {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { lines, log: pino({ level, redact: { paths: REDACT_PATHS, censor: '***' } }, stream) };
}

function makeClient(cfg: SiteConfig, opts: { now?: () => number; log?: LogCapture } = {}): { client: SiteClient; auth: KeystoneAuth } {
  const auth = createSiteAuth(cfg, { now: opts.now, log: opts.log?.log }) as KeystoneAuth;
  assert.ok(auth instanceof KeystoneAuth);
  return { client: new SiteClient(cfg, auth, LIMITS), auth };
}

let seq = 0;
function get(client: SiteClient, requestId = `req-${++seq}`): Promise<SiteResponse> {
  return client.request({ method: 'GET', path: '/v1/nodes', version: V, requestId });
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// ---------------------------------------------------------------------------

describe('Keystone helpers', () => {
  test('auth_url with or without /v3 (and v2.0, trailing slashes) gives the v3 base', () => {
    assert.equal(identityV3Url('http://ks:5000'), 'http://ks:5000/v3');
    assert.equal(identityV3Url('http://ks:5000/'), 'http://ks:5000/v3');
    assert.equal(identityV3Url('http://ks:5000/v3'), 'http://ks:5000/v3');
    assert.equal(identityV3Url('http://ks:5000/v3/'), 'http://ks:5000/v3');
    assert.equal(identityV3Url('https://host/identity'), 'https://host/identity/v3');
    assert.equal(identityV3Url('http://ks:5000/v2.0'), 'http://ks:5000/v3');
  });

  test('catalog URLs become API roots: no trailing slash, no /v1', () => {
    assert.equal(apiRootFromCatalog('http://i:6385/'), 'http://i:6385');
    assert.equal(apiRootFromCatalog('http://i/baremetal/v1/'), 'http://i/baremetal');
    assert.equal(apiRootFromCatalog('http://i/baremetal'), 'http://i/baremetal');
  });

  test('selectEndpoint: service type (and its alias), interface, region id or legacy name; first match without region', () => {
    const catalog: CatalogService[] = [
      { type: 'compute', endpoints: [{ interface: 'public', region_id: 'R1', url: 'http://nova' }] },
      {
        type: 'baremetal',
        endpoints: [
          { interface: 'admin', region_id: 'R1', url: 'http://admin-r1' },
          { interface: 'public', region_id: 'R2', url: 'http://public-r2' },
          { interface: 'public', region_id: 'R1', url: 'http://public-r1' },
          { interface: 'internal', region_id: null, region: 'Legacy', url: 'http://internal-legacy' },
        ],
      },
    ];
    const q = (iface: string, region?: string, serviceType = 'baremetal') => selectEndpoint(catalog, { serviceType, interface: iface, region });
    assert.equal(q('public'), 'http://public-r2');
    assert.equal(q('public', 'R1'), 'http://public-r1');
    assert.equal(q('public', 'R2'), 'http://public-r2');
    assert.equal(q('admin', 'R1'), 'http://admin-r1');
    assert.equal(q('admin', 'R2'), undefined);
    assert.equal(q('internal', 'Legacy'), 'http://internal-legacy');
    assert.equal(q('public', 'R3'), undefined);
    assert.equal(q('public', 'R1', 'compute'), 'http://nova');
    const aliased: CatalogService[] = [{ type: 'bare-metal', endpoints: [{ interface: 'public', region_id: 'R1', url: 'http://alias' }] }];
    assert.equal(selectEndpoint(aliased, { serviceType: 'baremetal', interface: 'public' }), 'http://alias');
  });

  test('authRequestBody: user by name+domain or id, project by id or name+domain, domain, system, token method', () => {
    const base = { authUrl: 'http://ks', interface: 'public', serviceType: 'baremetal' };
    assert.deepEqual(
      authRequestBody('password', { ...base, username: 'u', userDomainName: 'Default', password: 'p', projectName: 'svc', projectDomainId: 'default' }),
      {
        auth: {
          identity: { methods: ['password'], password: { user: { name: 'u', domain: { name: 'Default' }, password: 'p' } } },
          scope: { project: { name: 'svc', domain: { id: 'default' } } },
        },
      },
    );
    assert.deepEqual(authRequestBody('password', { ...base, userId: 'uid', password: 'p', projectId: 'pid' }), {
      auth: { identity: { methods: ['password'], password: { user: { id: 'uid', password: 'p' } } }, scope: { project: { id: 'pid' } } },
    });
    assert.deepEqual((authRequestBody('password', { ...base, userId: 'uid', password: 'p', domainName: 'D' }) as any).auth.scope, { domain: { name: 'D' } });
    assert.deepEqual((authRequestBody('password', { ...base, userId: 'uid', password: 'p', systemScope: 'all' }) as any).auth.scope, { system: { all: true } });
    assert.equal((authRequestBody('password', { ...base, userId: 'uid', password: 'p' }) as any).auth.scope, undefined, 'unscoped');
    assert.deepEqual(authRequestBody('token', { ...base, token: 't', projectId: 'pid' }), {
      auth: { identity: { methods: ['token'], token: { id: 't' } }, scope: { project: { id: 'pid' } } },
    });
  });

  test('tokenExpiry: the lifetime on Keystone\'s clock (issued_at, else its Date header less a second) from the proxy\'s send time', () => {
    const sentAt = Date.parse('2031-03-01T12:00:00Z');
    const hour = 3600_000;
    const behind = sentAt - 5 * hour; // Keystone's clock five hours behind
    // Keystone behind: expires_at is in the proxy's past, so the truncation second is always taken off.
    assert.equal(tokenExpiry(sentAt, behind + hour, behind, NaN), sentAt + hour - 1000, 'issued_at');
    assert.equal(tokenExpiry(sentAt, behind + hour, NaN, behind), sentAt + hour - 2000, 'Date header (whole seconds: one more)');
    assert.equal(tokenExpiry(sentAt, behind + hour, behind, behind - 7000), sentAt + hour - 1000, 'issued_at wins over Date');
    const ahead = sentAt + 5 * hour;
    assert.equal(tokenExpiry(sentAt, ahead + hour, ahead, NaN), sentAt + hour, 'Keystone ahead: issued_at');
    assert.equal(tokenExpiry(sentAt, ahead + hour, NaN, ahead), sentAt + hour - 1000, 'Keystone ahead: Date header');
    // Synchronised clocks.
    assert.equal(tokenExpiry(sentAt, sentAt + hour + 400, sentAt, NaN), sentAt + hour + 400, 'E is expires_at');
    assert.equal(tokenExpiry(sentAt, sentAt + hour, sentAt - 300, NaN), sentAt + hour, 'issued_at truncated: never later than expires_at');
    assert.equal(tokenExpiry(sentAt, sentAt + hour, NaN, NaN), sentAt + hour, 'neither: expires_at on the local clock');
  });

  test('configuration: one scope only, system_scope = all, no endpoint_override needed', () => {
    const ini = (extra: string) => `[DEFAULT]\ngroups = _:ks\n[group:ks]\nauth_type = password\nauth_url = http://ks\nuser_id = u\npassword = p\n${extra}\n`;
    assert.throws(() => loadConfigText(ini('project_id = p\nsystem_scope = all')), /scoped to one target only, not project and system/);
    assert.throws(() => loadConfigText(ini('system_scope = yes')), /system_scope: "yes" is not "all"/);
    const cfg = loadConfigText(ini('system_scope = all')).sites[0]!;
    assert.equal(cfg.endpointOverride, undefined);
    assert.equal(cfg.keystone!.systemScope, 'all');
  });
});

describe('a site behind its Keystone (fake Keystone + fake Ironic)', () => {
  let ks: FakeKeystone;
  let ironic: FakeIronic;
  const clients: SiteClient[] = [];
  const track = <T extends { client: SiteClient }>(x: T): T => {
    clients.push(x.client);
    return x;
  };

  before(async () => {
    ks = new FakeKeystone();
    ironic = new FakeIronic(['/baremetal', '/internal', '/r2']);
    await Promise.all([ks.start(), ironic.start()]);
    ks.catalog = catalogFor(ironic, ks);
    ks.onIssue = (t) => ironic.valid.add(t);
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all([ks.close(), ironic.close()]);
  });

  test('one authentication serves many requests; the endpoint comes from the catalog, its path prefix honoured', async () => {
    const before = ks.authCount;
    const { client, auth } = track(makeClient(siteConfig(ks)));
    assert.equal(client.endpoint, undefined, 'not known before the first request');
    for (let i = 0; i < 5; i++) assert.equal((await get(client)).status, 200);
    const many = await Promise.all(Array.from({ length: 20 }, () => get(client)));
    assert.deepEqual([...new Set(many.map((r) => r.status))], [200]);
    assert.equal(ks.authCount - before, 1, 'one POST /v3/auth/tokens for 25 requests');
    assert.equal(auth.authentications, 1);
    const sent = ks.requests.at(-1)!;
    assert.equal(sent.path, '/v3/auth/tokens', 'auth_url without /v3 was normalised');
    assert.deepEqual(sent.body, {
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'proxy', domain: { name: 'Default' }, password: PASSWORD } } },
        scope: { project: { name: 'service', domain: { id: 'default' } } },
      },
    });
    assert.equal(client.endpoint, `${ironic.url}/baremetal`, 'first public endpoint, trailing slash dropped');
    const token = auth.token!.id;
    const mine = ironic.seen.filter((s) => s.token === token);
    assert.equal(mine.length, 25);
    assert.ok(mine.every((s) => s.path === '/baremetal/v1/nodes'), 'every request under the catalog path');
    const res = await get(client);
    assert.equal(JSON.parse(res.body.toString()).nodes.length, 2);
  });

  test('concurrent first requests share one in-flight authentication', async () => {
    let open!: () => void;
    ks.gate = new Promise<void>((r) => (open = r));
    const before = ks.authCount;
    const { client } = track(makeClient(siteConfig(ks)));
    try {
      const pending = Array.from({ length: 10 }, () => get(client));
      await until(() => ks.authCount > before, 'the authentication to arrive');
      // Every request is waiting on that one authentication now.
      assert.equal(ks.authCount - before, 1);
      open();
      const res = await Promise.all(pending);
      assert.deepEqual(res.map((r) => r.status), Array(10).fill(200));
      assert.equal(ks.authCount - before, 1, 'still one after all answered');
    } finally {
      ks.gate = undefined;
      open();
    }
  });

  test('renewal: untouched until 10 % before expiry, then in the background, then waited for', async () => {
    const clock = new Clock();
    ks.now = clock.now;
    ks.lifetimeMs = 100_000; // margin M = min(60 s, 10 s) = 10 s
    try {
      const before = ks.authCount;
      const { client, auth } = track(makeClient(siteConfig(ks), { now: clock.now }));
      assert.equal((await get(client)).status, 200);
      const t1 = auth.token!.id;
      assert.equal(auth.token!.expiresAt, clock.t + 100_000);
      assert.equal(auth.token!.renewAt, clock.t + 90_000);
      assert.equal(auth.token!.mustRenewAt, clock.t + 95_000);

      clock.advance(89_000); // before E - M
      assert.equal((await get(client)).status, 200);
      assert.equal(ks.authCount - before, 1, 'no renewal yet');
      assert.equal(ironic.seen.at(-1)!.token, t1);

      clock.advance(2_000); // E - M < now < E - M/2: background renewal, the request keeps t1
      assert.equal((await get(client)).status, 200);
      assert.equal(ironic.seen.at(-1)!.token, t1, 'the request did not wait for the renewal');
      await until(() => auth.token?.id !== t1, 'the background renewal');
      assert.equal(ks.authCount - before, 2);
      const t2 = auth.token!.id;
      assert.equal((await get(client)).status, 200);
      assert.equal(ironic.seen.at(-1)!.token, t2);

      clock.advance(96_000); // past t2's E - M/2: the request waits for t3
      assert.equal((await get(client)).status, 200);
      assert.equal(ks.authCount - before, 3);
      const t3 = auth.token!.id;
      assert.notEqual(t3, t2);
      assert.equal(ironic.seen.at(-1)!.token, t3, 'sent with the new token');
    } finally {
      ks.now = Date.now;
      ks.lifetimeMs = 3600_000;
    }
  });

  test('clock difference: a proxy clock a year ahead of Keystone still keeps a token for its lifetime', async () => {
    const clock = new Clock();
    clock.t = Date.now() + 365 * 86_400_000;
    const before = ks.authCount;
    const { client, auth } = track(makeClient(siteConfig(ks), { now: clock.now }));
    assert.equal((await get(client)).status, 200);
    const sentAt = clock.t;
    // Lifetime 1 h on Keystone's clock; expires_at (a year "ago" here) only takes the truncation second off.
    assert.equal(auth.token!.expiresAt, sentAt + 3600_000 - 1000);
    clock.advance(3000_000);
    for (let i = 0; i < 5; i++) assert.equal((await get(client)).status, 200);
    assert.equal(ks.authCount - before, 1);
  });

  test('Keystone failing during the background window: the current token keeps serving until it must be renewed', async () => {
    const clock = new Clock();
    ks.now = clock.now;
    ks.lifetimeMs = 100_000;
    const logs = captureLog();
    try {
      const { client, auth } = track(makeClient(siteConfig(ks), { now: clock.now, log: logs }));
      assert.equal((await get(client)).status, 200);
      const t1 = auth.token!.id;
      ks.mode = 'http500';
      const before = ks.authCount;
      clock.advance(91_000);
      assert.equal((await get(client)).status, 200);
      await until(() => logs.lines.some((l) => l.includes('site token renewal failed')), 'the failed renewal to be logged');
      assert.equal(ks.authCount - before, 1);
      assert.equal((await get(client)).status, 200, 'no new attempt within a second, the old token still serves');
      assert.equal(ks.authCount - before, 1);
      assert.equal(ironic.seen.at(-1)!.token, t1);
      clock.advance(4_500); // past E - M/2: must renew, and Keystone still fails
      const err = await rejectsWith(get(client), SiteUnavailableError);
      assert.match(err.message, /^Site ks is unavailable: Keystone at http:\/\/127\.0\.0\.1:\d+\/v3 answered HTTP 500/);
      assert.ok(!err.message.includes(PASSWORD), err.message);
      assert.ok(!logs.lines.join('').includes(PASSWORD));
      ks.mode = 'ok';
      assert.equal((await get(client)).status, 200);
      assert.notEqual(auth.token!.id, t1);
    } finally {
      ks.mode = 'ok';
      ks.now = Date.now;
      ks.lifetimeMs = 3600_000;
    }
  });

  test('a 401 from the site: one retry with a fresh token; a second 401 is final (no loop); forced renewals are rate-limited', async () => {
    const clock = new Clock();
    const logs = captureLog();
    const { client, auth } = track(makeClient(siteConfig(ks), { now: clock.now, log: logs }));
    assert.equal((await get(client, 'r-0')).status, 200);
    const t1 = auth.token!.id;
    const before = ks.authCount;

    ironic.valid.delete(t1); // the site no longer accepts t1 (revoked, keys rotated…)
    const res = await get(client, 'r-1');
    assert.equal(res.status, 200);
    assert.equal(ks.authCount - before, 1, 'one new authentication');
    const t2 = auth.token!.id;
    assert.deepEqual(ironic.tokensOf('r-1'), [t1, t2], 'sent twice: the stale token, then the fresh one');

    clock.advance(1_000);
    ironic.rejectAll = true;
    try {
      const refused = await get(client, 'r-2');
      assert.equal(refused.status, 401, "the site's 401 is relayed");
      const t3 = auth.token!.id;
      assert.deepEqual(ironic.tokensOf('r-2'), [t2, t3], 'exactly one retry');
      assert.equal(ks.authCount - before, 2);

      const again = await get(client, 'r-3');
      assert.equal(again.status, 401);
      assert.deepEqual(ironic.tokensOf('r-3'), [t3], 'within a second of the last forced renewal: no retry');
      assert.equal(ks.authCount - before, 2, 'Keystone is not hammered');
      assert.equal(client.breaker.state, 'closed', 'a 401 is an answer, not a transport failure');
    } finally {
      ironic.rejectAll = false;
    }
    assert.ok(logs.lines.some((l) => l.includes('site refused the proxy token (401)')));
    assert.ok(!logs.lines.join('').match(/tok-\d/), 'no token in the log');
  });

  test('concurrent 401s with the same stale token cause one re-authentication', async () => {
    const { client, auth } = track(makeClient(siteConfig(ks)));
    assert.equal((await get(client)).status, 200);
    const stale = auth.token!.id;
    const before = ks.authCount;
    ironic.valid.delete(stale);
    const res = await Promise.all(Array.from({ length: 8 }, (_, i) => get(client, `c-${i}`)));
    assert.deepEqual(res.map((r) => r.status), Array(8).fill(200));
    assert.equal(ks.authCount - before, 1);
  });

  test('catalog selection by interface and region; none matching is a down site naming them', async () => {
    const internal = track(makeClient(siteConfig(ks, { interface: 'internal' })));
    assert.equal((await get(internal.client)).status, 200);
    assert.equal(internal.client.endpoint, `${ironic.url}/internal`, '/v1 suffix of the catalog URL dropped');
    assert.equal(ironic.seen.at(-1)!.path, '/internal/v1/nodes');

    const r2 = track(makeClient(siteConfig(ks, { region_name: 'RegionTwo', service_type: 'bare-metal' })));
    assert.equal((await get(r2.client)).status, 200);
    assert.equal(r2.client.endpoint, `${ironic.url}/r2`);

    const none = track(makeClient(siteConfig(ks, { region_name: 'RegionThree', interface: 'admin' })));
    const err = await rejectsWith(get(none.client), SiteUnavailableError);
    assert.equal(err.site, 'ks');
    assert.equal(err.status, 503);
    assert.match(err.message, /^Site ks is unavailable: the catalog from Keystone at http:\/\/127\.0\.0\.1:\d+\/v3 has no baremetal endpoint for interface admin in region RegionThree/);
    assert.match(err.message, /it has internal@RegionOne, public@RegionOne, public@RegionTwo/);

    const wrongType = track(makeClient(siteConfig(ks, { service_type: 'volumev3' })));
    assert.match((await rejectsWith(get(wrongType.client), SiteUnavailableError)).message, /it has no volumev3 service at all/);
  });

  test('endpoint_override skips discovery but still uses the token', async () => {
    const { client, auth } = track(makeClient(siteConfig(ks, { endpoint_override: `${ironic.url}/r2/`, region_name: 'Nowhere' })));
    assert.equal(client.endpoint, `${ironic.url}/r2`, 'known at once');
    assert.equal((await get(client)).status, 200);
    assert.equal(ironic.seen.at(-1)!.path, '/r2/v1/nodes');
    assert.equal(ironic.seen.at(-1)!.token, auth.token!.id);
  });

  test('auth_type = token / v3token: the given token authenticates (a wrong one is named, not shown); v3password by user id and project id', async () => {
    const before = ks.authCount;
    const { client } = track(makeClient(siteConfig(ks, { auth_type: 'token', token: GIVEN_TOKEN, username: undefined, password: undefined, user_domain_name: undefined })));
    assert.equal((await get(client)).status, 200);
    assert.deepEqual(ks.requests.at(-1)!.body.auth.identity, { methods: ['token'], token: { id: GIVEN_TOKEN } });
    assert.equal(ks.authCount - before, 1);

    const bad = track(makeClient(siteConfig(ks, { auth_type: 'v3token', token: 'not-the-token-9f', username: undefined, password: undefined, user_domain_name: undefined })));
    const err = await rejectsWith(get(bad.client), SiteUnavailableError);
    assert.match(err.message, /rejected the configured token \(HTTP 404\)/);
    assert.ok(!err.message.includes('not-the-token-9f'), err.message);

    const byId = track(makeClient(siteConfig(ks, { auth_type: 'v3password', username: undefined, user_domain_name: undefined, user_id: 'u-proxy', project_name: undefined, project_domain_id: undefined, project_id: 'p-1' })));
    assert.equal((await get(byId.client)).status, 200);
    assert.deepEqual(ks.requests.at(-1)!.body.auth.scope, { project: { id: 'p-1' } });
  });

  test('wrong password: a down site with a clear reason, never the password', async () => {
    const logs = captureLog();
    const { client } = track(makeClient(siteConfig(ks, { password: WRONG_PASSWORD }), { log: logs }));
    const err = await rejectsWith(get(client), SiteUnavailableError);
    assert.equal(err.site, 'ks');
    assert.match(err.message, /^Site ks is unavailable: Keystone at http:\/\/127\.0\.0\.1:\d+\/v3 rejected the proxy's credentials for user proxy \(HTTP 401\)$/);
    assert.ok(!err.message.includes(WRONG_PASSWORD));
    assert.ok(!logs.lines.join('').includes(WRONG_PASSWORD));
  });

  test('Keystone timing out: SiteTimeoutError naming the site and its Keystone, within the site timeout', async () => {
    ks.mode = 'hang';
    try {
      const { client } = track(makeClient(siteConfig(ks, { timeout: '0.3' })));
      const started = performance.now();
      const err = await rejectsWith(get(client), SiteTimeoutError);
      const ms = performance.now() - started;
      assert.match(err.message, /^Site ks did not answer within 0\.3 seconds \(its Keystone at http:\/\/127\.0\.0\.1:\d+\/v3\)$/);
      assert.equal(err.status, 504);
      assert.ok(ms < 2000, `took ${ms} ms`);
    } finally {
      ks.mode = 'ok';
    }
  });

  test('TLS to Keystone: cafile trusted, an unknown CA refused, insecure accepted', { skip: !hasOpenssl() }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-tls-'));
    let tlsKs: FakeKeystone | undefined;
    try {
      const pem = selfSignedCert(dir, 'keystone');
      tlsKs = new FakeKeystone({ key: readFileSync(pem.key), cert: readFileSync(pem.cert) });
      await tlsKs.start();
      tlsKs.catalog = catalogFor(ironic, tlsKs);
      tlsKs.onIssue = (t) => ironic.valid.add(t);

      const untrusted = track(makeClient(siteConfig(tlsKs, { auth_url: `${tlsKs.url}/v3` })));
      const err = await rejectsWith(get(untrusted.client), SiteUnavailableError);
      assert.match(err.message, /Keystone at https:\/\/127\.0\.0\.1:\d+\/v3 is unreachable \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|.*self.signed.*)\)/i);
      assert.equal(tlsKs.authCount, 0);

      const trusted = track(makeClient(siteConfig(tlsKs, { auth_url: `${tlsKs.url}/v3`, cafile: pem.cert })));
      assert.equal((await get(trusted.client)).status, 200);
      const insecure = track(makeClient(siteConfig(tlsKs, { auth_url: `${tlsKs.url}/v3`, insecure: 'true' })));
      assert.equal((await get(insecure.client)).status, 200);
      assert.equal(tlsKs.authCount, 2);
    } finally {
      await tlsKs?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('Keystone down: SiteUnavailableError naming the site, counted by the circuit breaker', async () => {
    const down = new FakeKeystone();
    await down.start();
    const cfg = siteConfig(down);
    await down.refuse();
    const { client } = track(makeClient(cfg));
    for (let i = 0; i < LIMITS.circuitFailureThreshold; i++) {
      const err = await rejectsWith(get(client), SiteUnavailableError);
      assert.match(err.message, /^Site ks is unavailable: Keystone at http:\/\/127\.0\.0\.1:\d+\/v3 is unreachable \(connection refused\)$/);
    }
    assert.equal(client.breaker.state, 'open');
    const fast = await rejectsWith(get(client), SiteUnavailableError);
    assert.match(fast.message, /circuit open/);
  });
});

describe('the proxy over Keystone sites (startProxy)', () => {
  let ks: FakeKeystone;
  let ironic: FakeIronic;
  let good: RunningProxy | undefined;
  let withBad: RunningProxy | undefined;
  let logs: LogCapture;

  const goodSection = (ks: FakeKeystone) => [
    'auth_type = password',
    `auth_url = ${ks.url}/v3/`,
    'username = proxy',
    `password = ${PASSWORD}`,
    'user_domain_name = Default',
    'project_name = service',
    'project_domain_name = Default',
    'region_name = RegionOne',
    'interface = public',
  ];

  before(async () => {
    ks = new FakeKeystone();
    ironic = new FakeIronic(['/baremetal', '/internal', '/r2']);
    await Promise.all([ks.start(), ironic.start()]);
    ks.catalog = catalogFor(ironic, ks);
    ks.onIssue = (t) => ironic.valid.add(t);
    logs = captureLog();
    const log = logs.log as unknown as Logger;
    good = await startProxy(
      loadConfigText(['[DEFAULT]', 'groups = _:ks', '[api]', 'port = 0', '[group:ks]', ...goodSection(ks), ''].join('\n')),
      { log },
    );
    // The same site, plus one whose Keystone refuses the proxy's password.
    withBad = await startProxy(
      loadConfigText(
        [
          '[DEFAULT]', 'groups = _:ks,grp-bad:bad', '[api]', 'port = 0',
          '[group:ks]', ...goodSection(ks),
          '[group:bad]', 'auth_type = password', `auth_url = ${ks.url}`, 'username = proxy', `password = ${WRONG_PASSWORD}`,
          'user_domain_id = default', 'system_scope = all', '',
        ].join('\n'),
      ),
      { log },
    );
  });

  after(async () => {
    await good?.close();
    await withBad?.close();
    await Promise.all([ks?.close(), ironic?.close()]);
  });

  const call = async (proxy: RunningProxy, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${proxy.url}${path}`, {
      method,
      headers: { 'x-openstack-ironic-api-version': 'latest', ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : undefined };
  };

  test('nodes created, listed and shown through a discovered endpoint; links point at the proxy', async () => {
    const proxy = good!;
    const created = await call(proxy, 'POST', '/v1/nodes', { name: 'ks-created', driver: 'fake-hardware' });
    assert.equal(created.status, 201, created.text);
    const shown = await call(proxy, 'GET', '/v1/nodes/ks-created');
    assert.equal(shown.status, 200, shown.text);
    assert.equal(shown.json.uuid, created.json.uuid);
    const self = shown.json.links.find((l: { rel: string }) => l.rel === 'self').href as string;
    assert.equal(self, `${proxy.url}/v1/nodes/${created.json.uuid}`, 'the site prefix is rewritten away');
    const list = await call(proxy, 'GET', '/v1/nodes');
    assert.equal(list.status, 200);
    assert.ok(list.json.nodes.some((n: { name: string }) => n.name === 'ks-created'));
    assert.equal(list.headers.get('x-ironic-proxy-missing-sites'), null);
    assert.ok(ironic.seen.length > 0 && ironic.seen.every((s) => s.path.startsWith('/baremetal/')), 'all under the public RegionOne endpoint');
    assert.ok(ironic.seen.every((s) => s.token && ks.issued.includes(s.token)), 'only Keystone tokens reach the site');
  });

  test('a site whose Keystone refuses the password: missing from listings, 503 naming it; no secret in bodies, logs or metrics', async () => {
    const proxy = withBad!;
    const list = await call(proxy, 'GET', '/v1/nodes');
    assert.equal(list.status, 200, list.text);
    assert.ok(list.json.nodes.some((n: { name: string }) => n.name === 'ks-created'), 'the healthy site still answers');
    assert.equal(list.headers.get('x-ironic-proxy-missing-sites'), 'bad');
    const res = await call(proxy, 'POST', '/v1/nodes', { name: 'at-bad', driver: 'fake-hardware', conductor_group: 'grp-bad' });
    assert.equal(res.status, 503, res.text);
    assert.match(JSON.parse(res.json.error_message).faultstring as string, /\bbad\b/);
    const metrics = await fetch(`${proxy.url}/metrics`).then((r) => r.text());
    const everything = [list.text, res.text, logs.lines.join(''), metrics].join('\n');
    assert.ok(logs.lines.some((l) => l.includes("rejected the proxy's credentials")), 'the reason is logged');
    for (const secret of [PASSWORD, WRONG_PASSWORD, ...ks.issued]) {
      assert.ok(!everything.includes(secret), `${secret} leaked`);
    }
  });
});

test('no unhandled rejection in this file', () => {
  assert.deepEqual(unhandled, []);
});

