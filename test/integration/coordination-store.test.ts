/**
 * The coordination store's parts against a real Redis (no Ironic): a
 * reservation is exclusive across processes' stores, freed by its holder,
 * expires after a crash, is kept alive while its write runs; a store that is
 * down refuses guarded writes (503) or lets them through, logged and
 * counted; locations go through the store and are invalidated by its
 * messages. Also the config section.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText, ConfigError } from '../../src/config/load.js';
import type { CoordinationConfig } from '../../src/config/types.js';
import { CoordinationStore } from '../../src/coordination/store.js';
import { Reservations } from '../../src/coordination/reservations.js';
import { ProxyError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { KeystoneSession } from '../../src/sites/keystone.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasOpenssl, selfSignedCert } from '../support/tls-and-errors.js';

const log = createLogger({ level: 'silent' });

function storeConfig(redis: TestRedis, extra: Partial<CoordinationConfig> = {}): CoordinationConfig {
  return {
    backendUrl: redis.url,
    required: true,
    reservationTtlMs: 1000,
    locationTtlSeconds: 60,
    timeoutMs: 500,
    keyPrefix: `t${Math.random().toString(36).slice(2)}`,
    shareSiteTokens: false,
    insecure: false,
    ...extra,
  };
}

/** Waits for a condition by re-checking it (bounded), for things that happen on another connection. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const counting = () => {
  const counts = { unguarded: 0, contended: 0 };
  return { counts, events: { unguarded: () => void counts.unguarded++, contended: () => void counts.contended++ } };
};

describe('coordination store (real Redis)', () => {
  let redis: TestRedis;
  const stores: CoordinationStore[] = [];
  const open = async (cfg: CoordinationConfig, waitMs = 3000): Promise<CoordinationStore> => {
    const s = new CoordinationStore(cfg, log);
    stores.push(s);
    await s.start(waitMs);
    return s;
  };

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await redis?.dispose();
  });

  test('a reservation held by one replica is a 409 with the given text for another, and free once released', async () => {
    const cfg = storeConfig(redis);
    const a = new Reservations(await open(cfg), log, counting().events);
    const bc = counting();
    const b = new Reservations(await open(cfg), log, bc.events);
    let release!: () => void;
    const holding = a.guarded(async (guard) => {
      await guard.take('node:name:n1', 'A node with name n1 already exists.', 'node name n1');
      await new Promise<void>((r) => (release = r));
    });
    await until('the reservation', async () => (await stores[0]!.redis.exists(`${cfg.keyPrefix}:rsv:node:name:n1`)) === 1);
    await assert.rejects(
      b.guarded((guard) => guard.take('node:name:n1', 'A node with name n1 already exists.', 'node name n1')),
      (err: unknown) => err instanceof ProxyError && err.status === 409 && err.message === 'A node with name n1 already exists.',
    );
    assert.equal(bc.counts.contended, 1);
    release();
    await holding;
    assert.equal(await stores[0]!.redis.exists(`${cfg.keyPrefix}:rsv:node:name:n1`), 0, 'released by its holder');
    await b.guarded((guard) => guard.take('node:name:n1', 'taken', 'node name n1'));
  });

  test("with a store, the workers' primary is never asked: the store is the truth across replicas and workers", async () => {
    const cfg = storeConfig(redis);
    const asked: string[] = [];
    const primary = {
      reserve: async (key: string) => {
        asked.push(key);
        return true;
      },
      release: (key: string) => void asked.push(key),
    };
    const r = new Reservations(await open(cfg), log, counting().events, primary);
    await r.guarded(async (g) => {
      await g.take('node:name:w1', 'taken', 'node name w1');
      assert.equal(await stores.at(-1)!.redis.exists(`${cfg.keyPrefix}:rsv:node:name:w1`), 1, 'held in the store');
    });
    assert.deepEqual(asked, []);
  });

  test('in one process, without a store, the second concurrent write of an identifier is refused', async () => {
    const c = counting();
    const r = new Reservations(undefined, log, c.events);
    let release!: () => void;
    const first = r.guarded(async (g) => {
      await g.take('port:mac:aa', 'A port with MAC address aa already exists.', 'MAC aa');
      await new Promise<void>((res) => (release = res));
    });
    await until('the first reservation', () => release !== undefined);
    await assert.rejects(r.guarded((g) => g.take('port:mac:aa', 'A port with MAC address aa already exists.', 'MAC aa')), /already exists/);
    release();
    await first;
    await r.guarded((g) => g.take('port:mac:aa', 'x', 'MAC aa'));
    assert.equal(c.counts.contended, 1);
  });

  test('a reservation whose holder died expires after its ttl; one whose holder lives is renewed past it', async () => {
    const cfg = storeConfig(redis, { reservationTtlMs: 300 });
    const store = await open(cfg);
    // A holder that crashed: the key was set and never released.
    assert.equal(await store.reserve(store.key('rsv', 'allocation:name:gone'), 'dead-token'), true);
    const r = new Reservations(store, log, counting().events);
    await assert.rejects(r.guarded((g) => g.take('allocation:name:gone', 'taken', 'x')), /taken/);
    await until('expiry', async () => (await store.redis.exists(store.key('rsv', 'allocation:name:gone'))) === 0, 2000);
    await r.guarded((g) => g.take('allocation:name:gone', 'taken', 'x'));

    // A live holder keeps it for three ttls.
    let release!: () => void;
    const held = r.guarded(async (g) => {
      await g.take('allocation:name:long', 'taken', 'x');
      await new Promise<void>((res) => (release = res));
    });
    await until('the reservation', () => release !== undefined);
    const t0 = Date.now();
    await until('three ttls', () => Date.now() - t0 > 900, 2000);
    assert.equal(await store.redis.get(store.key('rsv', 'allocation:name:long')) !== null, true, 'still held while its write runs');
    release();
    await held;
    assert.equal(await store.redis.exists(store.key('rsv', 'allocation:name:long')), 0);
  });

  test('a release never frees a reservation another holder took after expiry', async () => {
    const store = await open(storeConfig(redis));
    const k = store.key('rsv', 'node:name:x');
    await store.redis.set(k, 'someone-else', 'PX', 5000);
    await store.release(k, 'my-token');
    assert.equal(await store.redis.get(k), 'someone-else');
  });

  test('locations: stored by one replica, read by another, dropped everywhere on invalidation', async () => {
    const cfg = storeConfig(redis);
    const a = await open(cfg);
    const b = await open(cfg);
    const dropped: string[] = [];
    b.onInvalidate((kind, key) => dropped.push(`${kind} ${key}`));
    a.setLocation('/v1/nodes', 'n:n1', 'loc2');
    await until('the location', async () => (await b.getLocation('/v1/nodes', 'n:n1')) === 'loc2');
    await until('the message', () => dropped.length === 1);
    assert.deepEqual(dropped, ['/v1/nodes n:n1']);
    assert.ok((await a.redis.ttl(a.key('loc', '/v1/nodes', 'n:n1'))) > 0, 'location entries expire');
    a.deleteLocation('/v1/nodes', 'n:n1');
    await until('the deletion', async () => (await b.getLocation('/v1/nodes', 'n:n1')) === undefined);
    await until('the second message', () => dropped.length === 2);
  });

  test('a store that is down: guarded writes 503 when required, unguarded (counted) when not; both recover', async () => {
    const cfg = storeConfig(redis);
    const required = await open(cfg);
    const optional = await open({ ...cfg, required: false });
    const oc = counting();
    const strict = new Reservations(required, log, counting().events);
    const lenient = new Reservations(optional, log, oc.events);
    await redis.stop();
    try {
      await until('the store to be seen down', () => !required.up && !optional.up);
      const t0 = Date.now();
      await assert.rejects(
        strict.guarded((g) => g.take('node:name:down', 'taken', 'node name down')),
        (err: unknown) => err instanceof ProxyError && err.status === 503 && /Cannot reserve node name down: the coordination store/.test(err.message),
      );
      assert.ok(Date.now() - t0 < 400, 'fails at once, without waiting for a timeout');
      assert.equal(await required.getLocation('/v1/nodes', 'n:x'), undefined, 'a location read answers "unknown"');
      let ran = false;
      await lenient.guarded(async (g) => {
        await g.take('node:name:down', 'taken', 'node name down');
        ran = true;
      });
      assert.equal(ran, true);
      assert.equal(oc.counts.unguarded, 1);
    } finally {
      await redis.start();
    }
    await until('reconnection', () => required.up, 10_000);
    await strict.guarded((g) => g.take('node:name:down', 'taken', 'node name down'));
  });

  test('a replica started while the store is down connects when it comes up; its log names the store without the password', async () => {
    const late = await startRedis();
    await late.stop();
    const lines: string[] = [];
    const capture = createLogger({ level: 'info', to: { write: (l: string) => void lines.push(l) } });
    const store = new CoordinationStore(storeConfig(late), capture);
    stores.push(store);
    try {
      await store.start(300);
      assert.equal(store.up, false);
      await late.start();
      await until('the connection', () => store.up);
      await new Reservations(store, log, counting().events).guarded((g) => g.take('node:name:late', 'taken', 'x'));
      assert.ok(lines.some((l) => l.includes('coordination store connected')));
      assert.ok(lines.every((l) => !l.includes(late.password)), 'no password in the log');
    } finally {
      await late.dispose();
    }
  });

  test('share_site_tokens: one Keystone token per site for the fleet; a token a site refused is not shared again', async () => {
    let issued = 0;
    const keystone = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        issued++;
        const now = Date.now();
        res.writeHead(201, { 'content-type': 'application/json', 'x-subject-token': `tok-${issued}` });
        res.end(JSON.stringify({ token: { issued_at: new Date(now).toISOString(), expires_at: new Date(now + 3600_000).toISOString(), catalog: [] } }));
      });
    });
    await new Promise<void>((r) => keystone.listen(0, '127.0.0.1', () => r()));
    const authUrl = `http://127.0.0.1:${(keystone.address() as AddressInfo).port}/v3`;
    const cfg = storeConfig(redis, { shareSiteTokens: true });
    const auth = { authUrl, username: 'proxy', password: 'pw-secret', userDomainName: 'Default', projectName: 'service', projectDomainName: 'Default', interface: 'public', serviceType: 'baremetal' };
    const session = async (): Promise<KeystoneSession> =>
      new KeystoneSession({ method: 'password', auth, timeoutMs: 2000, tls: { rejectUnauthorized: true }, shared: (await open(cfg)).sharedToken('loc1', 'digest') });
    const [a, b, c] = [await session(), await session(), await session()];
    try {
      const first = await a.getToken();
      await until('the token in the store', async () => (await stores[0]!.redis.exists(`${cfg.keyPrefix}:token:loc1:digest`)) === 1);
      assert.equal((await b.getToken()).id, first.id, 'a second replica takes the fleet token');
      assert.equal(issued, 1);
      assert.ok((await stores[0]!.redis.pttl(`${cfg.keyPrefix}:token:loc1:digest`)) > 3500_000, 'kept as long as the token lives');
      // A site refused it (through b): dropped from the store; b and then c get one new token between them.
      assert.equal(b.invalidate(first.id, 'refused'), true);
      await until('the refused token to leave the store', async () => (await stores[0]!.redis.exists(`${cfg.keyPrefix}:token:loc1:digest`)) === 0);
      const second = await b.getToken();
      assert.notEqual(second.id, first.id);
      await until('the new token in the store', async () => (await stores[0]!.redis.get(`${cfg.keyPrefix}:token:loc1:digest`))?.includes(second.id) === true);
      assert.equal((await c.getToken()).id, second.id);
      assert.equal(issued, 2);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
      keystone.close();
    }
  });

  test('rediss:// (TLS, password): the configured CA is trusted, another refused, insecure accepted', { skip: !hasOpenssl() }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ironic-proxy-redis-tls-'));
    const cert = selfSignedCert(dir, 'redis');
    const other = selfSignedCert(dir, 'other');
    const secure = await startRedis({ tls: cert });
    try {
      assert.match(secure.url, /^rediss:/);
      const trusted = await open(storeConfig(secure, { cafile: cert.cert }));
      assert.equal(trusted.up, true);
      await new Reservations(trusted, log, counting().events).guarded((g) => g.take('node:name:tls', 'taken', 'node name tls'));
      const wrongCa = await open(storeConfig(secure, { cafile: other.cert }), 500);
      const refused = await new Promise<Error>((r) => wrongCa.redis.once('error', r));
      assert.match(refused.message, /self[- ]signed|certificate/i, 'the TLS handshake refused the store');
      assert.equal(wrongCa.up, false, 'a store whose certificate the CA did not sign is not used');
      await assert.rejects(new Reservations(wrongCa, log, counting().events).guarded((g) => g.take('node:name:tls', 'taken', 'x')), (err: unknown) => err instanceof ProxyError && err.status === 503);
      const insecure = await open(storeConfig(secure, { insecure: true }));
      assert.equal(insecure.up, true);
    } finally {
      await secure.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('[coordination] options', () => {
    const base = '[DEFAULT]\ngroups = _:a\n[group:a]\nendpoint_override = http://127.0.0.1:1\n';
    assert.equal(loadConfigText(base).coordination, undefined);
    const c = loadConfigText(`${base}[coordination]\nbackend_url = rediss://:pw@store:6380/2\nreservation_ttl = 2.5\n`).coordination!;
    assert.equal(c.required, true);
    assert.equal(c.reservationTtlMs, 2500);
    assert.equal(c.shareSiteTokens, false);
    assert.equal(loadConfigText(`${base}[coordination]\nbackend_url = redis://s\nshare_site_tokens = true\n`).coordination!.shareSiteTokens, true);
    assert.equal(loadConfigText(`${base}[coordination]\nbackend_url = redis://s\nrequired = false\n`).coordination!.required, false);
    assert.throws(
      () => loadConfigText(`${base}[coordination]\nbackend_url = memcached://:secret@s\n`),
      (err: unknown) => err instanceof ConfigError && /backend_url: not a redis/.test(err.message) && !err.message.includes('secret'),
    );
  });
});
