/**
 * Workers of one proxy process over simulated sites, the real command line:
 * without a store they share their reservations through the primary —
 * concurrent creates of one name through both workers, at both sites, make
 * exactly one node; a worker killed mid-write frees its names. And the
 * worker count: `--workers auto` and a file without `api_workers` start one
 * per core; an invalid count is refused (exit 2) with a message naming it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'undici';
import { startSimSite, type SimSite } from '../../src/sim/index.js';
import { startProxyProcess, type ProxyProcess } from '../support/proxy-process.js';

const VERSION = { 'x-openstack-ironic-api-version': 'latest' };

/** Site `a` serves the default conductor group, `b` the group g1. */
const ini = (a: SimSite, b: SimSite): string =>
  `[DEFAULT]\ngroups = _:${a.name},g1:${b.name}\n` + [a, b].map((s) => `[group:${s.name}]\nendpoint_override = ${s.url}\n`).join('');

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The pid of the worker that serves this connection (an undici Client is one connection). */
async function pidOf(client: Client): Promise<number> {
  const res = await client.request({ method: 'GET', path: '/status', headers: { accept: 'application/json' } });
  assert.equal(res.statusCode, 200);
  return ((await res.body.json()) as { proxy: { pid: number } }).proxy.pid;
}

async function statusOf(url: string): Promise<{ proxy: { pid: number; workers: number } }> {
  const res = await fetch(`${url}/status`, { headers: { accept: 'application/json' } });
  assert.equal(res.status, 200);
  return (await res.json()) as { proxy: { pid: number; workers: number } };
}

/** `each` connections to every worker in `pids` (the primary hands new connections to its workers in turn). */
async function connectionsTo(url: string, pids: number[], each: number): Promise<Map<number, Client[]>> {
  const by = new Map(pids.map((p) => [p, [] as Client[]]));
  for (let tries = 0; tries < 40 && [...by.values()].some((cs) => cs.length < each); tries++) {
    const c = new Client(url, { pipelining: 1 });
    const list = by.get(await pidOf(c));
    if (list && list.length < each) list.push(c);
    else await c.close();
  }
  for (const [pid, cs] of by) assert.equal(cs.length, each, `connections to worker ${pid}`);
  return by;
}

/** POST /v1/nodes through `client`: the status and the body's text. */
async function create(client: Client, name: string, group: string): Promise<{ status: number; text: string }> {
  const res = await client.request({
    method: 'POST',
    path: '/v1/nodes',
    headers: { ...VERSION, 'content-type': 'application/json' },
    body: JSON.stringify({ name, driver: 'fake-hardware', ...(group ? { conductor_group: group } : {}) }),
  });
  return { status: res.statusCode, text: await res.body.text() };
}

/** How many sites hold a node of this name, asked of the sites themselves. */
async function sitesHolding(sites: SimSite[], name: string): Promise<number> {
  const found = await Promise.all(sites.map(async (s) => (await fetch(`${s.url}/v1/nodes/${name}`, { headers: VERSION })).status === 200));
  return found.filter(Boolean).length;
}

describe('two workers without a store share their reservations', () => {
  let a: SimSite;
  let b: SimSite;
  let proxy: ProxyProcess;
  const clients: Client[] = [];

  before(async () => {
    [a, b] = await Promise.all([startSimSite({ name: 'wa', nodes: 0 }), startSimSite({ name: 'wb', conductorGroups: ['g1'], nodes: 0 })]);
    proxy = await startProxyProcess(ini(a, b), 60_000, { apiWorkers: '2', listeners: 2 });
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.destroy()));
    await proxy?.stop();
    await b?.setFault('none');
    await Promise.all([a?.close(), b?.close()]);
  });

  test('concurrent creates of one name through both workers, at both sites: exactly one node per name', async () => {
    const [w1, w2] = proxy.listening() as [number, number];
    assert.notEqual(w1, w2);
    const by = await connectionsTo(proxy.url, [w1, w2], 2);
    clients.push(...[...by.values()].flat());
    // Each worker sends one create to each site, in the opposite order (the first a worker reads wins its own
    // reservation): without a shared reservation, their winners go to different sites, whose own checks cannot help.
    const senders: Array<[Client, string, number]> = [
      [by.get(w1)![0]!, '', w1],
      [by.get(w2)![0]!, 'g1', w2],
      [by.get(w1)![1]!, 'g1', w1],
      [by.get(w2)![1]!, '', w2],
    ];
    // Each site answers after 30 ms: a check and its create take 60 ms, so creates sent together overlap (without a
    // shared reservation, two workers whose creates go to different sites both find the name free at the other).
    for (const s of [a, b]) s.setLatency(30);
    for (let trial = 0; trial < 20; trial++) {
      const name = `race-${trial}`;
      const answers = await Promise.all(senders.map(([c, group]) => create(c, name, group)));
      const statuses = answers.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 201).length, 1, `${name}: one create succeeds (${statuses.join(', ')})`);
      assert.ok(statuses.every((s) => s === 201 || s === 409), `${name}: the others are duplicates (${answers.map((r) => r.text).join(' | ')})`);
      assert.equal(await sitesHolding([a, b], name), 1, `${name}: one node over both sites`);
    }
    for (const s of [a, b]) s.setLatency(0);
    // The connections stayed with their workers: both served their share.
    for (const [c, , pid] of senders) assert.equal(await pidOf(c), pid);
  });

  test("a worker killed while it holds a name frees it; until then the other worker is refused it", async () => {
    const [w1, w2] = proxy.listening() as [number, number];
    const by = await connectionsTo(proxy.url, [w1, w2], 1);
    const [holder, other] = [by.get(w1)![0]!, by.get(w2)![0]!];
    clients.push(holder, other);
    // The create at site a checks site b for the name, and that check hangs: the reservation stays held.
    const before = b.faulted;
    await b.setFault('hang', { method: 'GET', path: '/v1/nodes/held', count: 1 });
    const hung = create(holder, 'held', '');
    hung.catch(() => undefined);
    await until('the check at site b', () => b.faulted > before);

    const refused = await create(other, 'held', 'g1');
    assert.equal(refused.status, 409, refused.text);
    assert.match(refused.text, /A node with name held already exists/);
    assert.equal(await sitesHolding([a, b], 'held'), 0, 'refused by the reservation: no site has the node');

    process.kill(w1, 'SIGKILL');
    await assert.rejects(hung, 'the killed worker never answers');
    let last = { status: 0, text: '' };
    await until('the name to be free again', async () => {
      last = await create(other, 'held', 'g1');
      return last.status !== 409;
    });
    assert.equal(last.status, 201, last.text);
    assert.equal(await sitesHolding([a, b], 'held'), 1);
  });
});

describe('how many workers', () => {
  let a: SimSite;
  let b: SimSite;
  let dir: string;
  const n = availableParallelism();

  before(async () => {
    [a, b] = await Promise.all([startSimSite({ name: 'na', nodes: 0 }), startSimSite({ name: 'nb', conductorGroups: ['g1'], nodes: 0 })]);
    dir = mkdtempSync(join(tmpdir(), 'ipx-workers-'));
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [what, opts] of [
    ['--workers auto', { apiWorkers: '1', args: ['--workers', 'auto'] }],
    ['[api]api_workers = auto', { apiWorkers: 'auto' }],
    ['a file without api_workers', { apiWorkers: null }],
  ] as const) {
    test(`${what}: one worker per core (${n})`, async () => {
      const proxy = await startProxyProcess(ini(a, b), 60_000, { ...opts, listeners: n });
      try {
        assert.equal(new Set(proxy.listening()).size, n);
        assert.equal((await statusOf(proxy.url)).proxy.workers, n);
      } finally {
        await proxy.stop();
      }
    });
  }

  const run = (args: string[], conf: string): ReturnType<typeof spawnSync> => {
    const file = join(dir, 'p.conf');
    writeFileSync(file, conf);
    return spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config-file', file, ...args], { encoding: 'utf8', timeout: 60_000 });
  };

  test('an invalid --workers is refused with exit code 2, naming the value', () => {
    for (const bad of ['0', 'many', '1.5']) {
      const r = run(['--workers', bad], `${ini(a, b)}[api]\nport = 0\n`);
      assert.equal(r.status, 2, String(r.stderr));
      assert.match(String(r.stderr), new RegExp(`--workers: "${bad.replace('.', '\\.')}" is not a positive integer or auto`));
    }
  });

  test('an invalid [api]api_workers is refused with exit code 2, naming the option', () => {
    const r = run([], `${ini(a, b)}[api]\nport = 0\napi_workers = lots\n`);
    assert.equal(r.status, 2, String(r.stderr));
    assert.match(String(r.stderr), /\[api\]api_workers: "lots" is not a positive integer or auto/);
  });
});
