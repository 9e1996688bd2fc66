/**
 * Several proxy processes as one, through a real Redis ([coordination]
 * backend_url), over two real Ironic sites (loc1: the default group, loc2:
 * grp1):
 *
 * - concurrent creates of one node name through different proxies, to
 *   different sites, give exactly one node, over many trials;
 * - a node created through one proxy is found through another without
 *   asking the site that does not have it (the site's own request log);
 * - a proxy killed while it holds a reservation blocks the name only until
 *   the reservation expires;
 * - with Redis stopped, guarded writes are 503 and everything else works;
 *   once it is back, guarded writes are too.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startRealSites, type RealSites } from '../support/real-ironic.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startProxyProcess, type ProxyProcess } from '../support/proxy-process.js';

const TTL_SECONDS = 2;
const TRIALS = 30;
const V = { 'X-OpenStack-Ironic-API-Version': '1.82', 'Content-Type': 'application/json' };

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(base + path, { method, headers: V, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const errorText = (json: any): string => JSON.parse(json.error_message).faultstring;

/** The coordination store's state on the proxy's status page (its JSON form). */
async function storeState(base: string): Promise<string> {
  const res = await fetch(`${base}/status`, { headers: { accept: 'application/json' } });
  return ((await res.json()) as { proxy: { coordination: string } }).proxy.coordination;
}

/** Re-checks a condition (bounded) for what happens in another process. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Requests in a site's API log that name `ident` (Ironic logs every request line at INFO). */
function requestsNaming(logFile: string, ident: string): number {
  return fs
    .readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes(`/v1/nodes/${ident}`)).length;
}

describe('replicas sharing a Redis, over real Ironic sites', { timeout: 120_000 }, () => {
  let sites: RealSites;
  let redis: TestRedis;
  let store: Redis;
  let proxies: ProxyProcess[] = [];

  before(async () => {
    [sites, redis] = await Promise.all([
      startRealSites([{ name: 'loc1' }, { name: 'loc2', conductorGroups: ['grp1'] }]),
      startRedis(),
    ]);
    store = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    store.on('error', () => undefined);
    await store.connect();
    const ini = [
      '[DEFAULT]',
      'groups = _:loc1,grp1:loc2',
      ...sites.sites.map((s) => `[group:${s.name}]\nauth_type = none\nendpoint_override = ${s.url}`),
      '[coordination]',
      `backend_url = ${redis.url}`,
      `reservation_ttl = ${TTL_SECONDS}`,
    ].join('\n');
    proxies = await Promise.all([0, 1, 2].map(() => startProxyProcess(ini)));
  });

  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    store?.disconnect();
    await Promise.all([sites?.stop(), redis?.dispose()]);
  });

  test(`${TRIALS} trials of 3 concurrent creates of one name through 3 proxies to 2 sites: one node each time`, async () => {
    const groups = ['', 'grp1', ''];
    for (let trial = 0; trial < TRIALS; trial++) {
      const name = `race-${trial}`;
      // Which proxy writes to which site changes from trial to trial.
      const answers = await Promise.all(
        proxies.map((p, i) => call(p.url, 'POST', '/v1/nodes', { name, driver: 'fake-hardware', conductor_group: groups[(i + trial) % 3] })),
      );
      const created = answers.filter((a) => a.status === 201);
      const refused = answers.filter((a) => a.status === 409);
      assert.equal(created.length, 1, `trial ${trial}: ${answers.map((a) => a.status).join(',')}`);
      assert.equal(refused.length, 2, `trial ${trial}: ${answers.map((a) => a.status).join(',')}`);
      for (const r of refused) assert.equal(errorText(r.json), `A node with name ${name} already exists.`);
      // The sites themselves, asked directly: the name is at exactly one of them.
      const at = await Promise.all(sites.sites.map((s) => call(s.url, 'GET', `/v1/nodes/${name}`)));
      assert.deepEqual(at.map((a) => a.status).sort(), [200, 404], `trial ${trial}`);
    }
  });

  test('a node created through one proxy is found through another without asking the other site', async () => {
    const [p0, p1] = proxies as [ProxyProcess, ProxyProcess];
    const loc1 = sites.site('loc1');
    // Control: a node the proxies never saw (made at loc2 directly) is looked for at loc1 too.
    assert.equal((await call(sites.site('loc2').url, 'POST', '/v1/nodes', { name: 'unseen-1', driver: 'fake-hardware', conductor_group: 'grp1' })).status, 201);
    assert.equal((await call(p1.url, 'GET', '/v1/nodes/unseen-1')).status, 200);
    await until('the control request in loc1\'s log', () => requestsNaming(loc1.logFile, 'unseen-1') > 0);

    // The identifiers a create sends are what it teaches (a uuid the site chose is not: issue 16.1).
    const uuid = randomUUID();
    const made = await call(p0.url, 'POST', '/v1/nodes', { name: 'seen-1', uuid, driver: 'fake-hardware', conductor_group: 'grp1' });
    assert.equal(made.status, 201);
    const before = requestsNaming(loc1.logFile, 'seen-1');
    const beforeUuid = requestsNaming(loc1.logFile, uuid);
    const byName = await call(p1.url, 'GET', '/v1/nodes/seen-1');
    const byUuid = await call(p1.url, 'GET', `/v1/nodes/${made.json.uuid}`);
    assert.equal(byName.status, 200);
    assert.equal(byName.json.uuid, made.json.uuid);
    assert.equal(byUuid.status, 200);
    // loc2 answered (its log has the GET); loc1 was not asked (its log has nothing new about the node).
    await until('loc2 to log the GET', () => requestsNaming(sites.site('loc2').logFile, 'seen-1') >= 1);
    assert.equal(requestsNaming(loc1.logFile, 'seen-1'), before, 'no fan-out for a node another replica created');
    assert.equal(requestsNaming(loc1.logFile, uuid), beforeUuid);
  });

  test('a proxy killed while holding a reservation blocks the name only until the reservation expires', async () => {
    const victim = proxies[2]!;
    const loc2 = sites.site('loc2');
    const key = 'ironic-proxy:rsv:node:name:crash-1';
    // loc2 is frozen: the victim's create at loc1 reserves the name, then waits on its check of loc2.
    process.kill(-loc2.pid, 'SIGSTOP');
    let killedAt = 0;
    try {
      const pending = call(victim.url, 'POST', '/v1/nodes', { name: 'crash-1', driver: 'fake-hardware' }).catch(() => undefined);
      await until('the reservation', async () => (await store.exists(key)) === 1);
      await victim.kill();
      killedAt = Date.now();
      await pending;
    } finally {
      process.kill(-loc2.pid, 'SIGCONT');
    }
    proxies = proxies.filter((p) => p !== victim);
    // Still held: another proxy is refused as for a duplicate.
    const blocked = await call(proxies[0]!.url, 'POST', '/v1/nodes', { name: 'crash-1', driver: 'fake-hardware', conductor_group: 'grp1' });
    assert.equal(blocked.status, 409);
    assert.equal(errorText(blocked.json), 'A node with name crash-1 already exists.');
    await until('the reservation to expire', async () => (await store.exists(key)) === 0, TTL_SECONDS * 1000 + 2000);
    assert.ok(Date.now() - killedAt <= TTL_SECONDS * 1000 + 1000, `expired ${Date.now() - killedAt} ms after the crash`);
    const made = await call(proxies[0]!.url, 'POST', '/v1/nodes', { name: 'crash-1', driver: 'fake-hardware', conductor_group: 'grp1' });
    assert.equal(made.status, 201);
  });

  test('Redis stopped: guarded writes are 503, everything else works; back: guarded writes work', async () => {
    const [p0, p1] = proxies as [ProxyProcess, ProxyProcess];
    const known = await call(p0.url, 'POST', '/v1/nodes', { name: 'before-outage', driver: 'fake-hardware' });
    assert.equal(known.status, 201);
    await redis.stop();
    try {
      const refused = await call(p0.url, 'POST', '/v1/nodes', { name: 'during-outage', driver: 'fake-hardware' });
      assert.equal(refused.status, 503);
      assert.match(errorText(refused.json), /^Cannot reserve node name during-outage: the coordination store/);
      const renamed = await call(p1.url, 'PATCH', '/v1/nodes/before-outage', [{ op: 'replace', path: '/name', value: 'renamed-in-outage' }]);
      assert.equal(renamed.status, 503);
      // Not guarded: reads (known and unknown to the store's cache), listings, unnamed creates, other patches.
      assert.equal((await call(p1.url, 'GET', '/v1/nodes/before-outage')).status, 200);
      assert.equal((await call(p1.url, 'GET', '/v1/nodes/seen-1')).status, 200);
      assert.equal((await call(p0.url, 'GET', '/v1/nodes/unseen-1')).status, 200);
      const list = await call(p1.url, 'GET', '/v1/nodes?limit=1000');
      assert.equal(list.status, 200);
      assert.ok(list.json.nodes.some((n: any) => n.name === 'before-outage'));
      // The status page says so.
      await until('the status page to show the store unreachable', async () => (await storeState(p0.url)) === 'unreachable');
      const unnamed = await call(p1.url, 'POST', '/v1/nodes', { driver: 'fake-hardware', conductor_group: 'grp1' });
      assert.equal(unnamed.status, 201);
      assert.equal((await call(p0.url, 'PATCH', `/v1/nodes/${unnamed.json.uuid}`, [{ op: 'add', path: '/extra/a', value: 'b' }])).status, 200);
    } finally {
      await redis.start();
    }
    // Back: the proxy reconnects by itself; a guarded write goes through.
    await until('the proxy to reconnect', async () => {
      const text = await (await fetch(`${p0.url}/metrics`)).text();
      return /^ironic_proxy_coordination_up 1$/m.test(text);
    });
    assert.equal((await call(p0.url, 'POST', '/v1/nodes', { name: 'during-outage', driver: 'fake-hardware' })).status, 201);
    assert.equal(await storeState(p0.url), 'connected');
  });
});
