/**
 * The production command as users start it — `bin/ironic-proxy.js
 * --config-file FILE`, a file without `[api]api_workers`, so one worker per
 * core — over two real Ironic sites (loc1: the default conductor group,
 * loc2: grp1), driven by the real `baremetal` CLI:
 *
 * - creates land at the site of their conductor group;
 * - listings page ([api]max_limit 3) with the proxy's cursor, and by hand
 *   with --marker in separate CLI processes: every node exactly once; a
 *   cursor made by one worker continues on another without the fallback to
 *   the plain marker (the workers share its key);
 * - show by name, set/unset a property, a port create/list, node delete;
 * - concurrent creates of one name from several CLI processes (the sites
 *   frozen meanwhile, so that they overlap): exactly one node, the others
 *   get Ironic's 409 text, refused by the workers' shared reservation;
 * - every worker served requests (the pid of the access lines).
 *
 * Each CLI process keeps one connection, which the primary hands to its
 * workers in turn, so consecutive CLI calls are spread over the workers; the
 * pages one CLI process follows stay on its one connection, so the test
 * follows a cursor across workers on connections of its own, one per worker.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { availableParallelism } from 'node:os';
import { Client, type Dispatcher } from 'undici';
import { startRealSites, type RealSites } from '../support/real-ironic.js';
import { startProxyProcess, type ProxyProcess } from '../support/proxy-process.js';
import { baremetal, baremetalJsonOk, ironicRequest, type BaremetalOptions } from '../support/clients.js';

const WORKERS = availableParallelism();
const MAX_LIMIT = 3;
/** Node name → conductor group: even ones at loc1 (default group), odd ones at loc2 (grp1). */
const NODES = Array.from({ length: 8 }, (_, i) => [`cw-${i}`, i % 2 === 0 ? '' : 'grp1'] as const);

interface NodeRow {
  UUID: string;
  Name: string;
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Runs the tasks at most `width` at a time (two cores: more Python start-ups at once only queue). */
async function inBatches<T>(tasks: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < tasks.length; i += width) out.push(...(await Promise.all(tasks.slice(i, i + width).map((t) => t()))));
  return out;
}

/** Lines of a site's API log (Ironic logs every request line) that ask for this node by path. */
function lookupsOf(logFile: string, uuid: string): number {
  return fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes(`/v1/nodes/${uuid}`)).length;
}

describe('the production CLI with its default worker count, driven by the baremetal CLI over real sites', {
  timeout: 120_000,
  skip: WORKERS < 2 ? 'one core: the default is one process, no workers' : false,
}, () => {
  let sites: RealSites;
  let proxy: ProxyProcess;
  let cli: BaremetalOptions;
  const uuids = new Map<string, string>();
  const clients: Client[] = [];

  const list = (args: string[]): Promise<NodeRow[]> => baremetalJsonOk<NodeRow[]>(['node', 'list', ...args], cli);
  const atSite = async (site: string, ident: string): Promise<number> =>
    (await ironicRequest(sites.site(site).url, 'GET', `/v1/nodes/${ident}`, { apiVersion: '1.82' })).status;
  const statusPid = async (c: Client): Promise<number> => {
    const res = await c.request({ method: 'GET', path: '/status', headers: { accept: 'application/json' } });
    assert.equal(res.statusCode, 200);
    return ((await res.body.json()) as { proxy: { pid: number } }).proxy.pid;
  };

  before(async () => {
    sites = await startRealSites([{ name: 'loc1' }, { name: 'loc2', conductorGroups: ['grp1'] }]);
    const ini = [
      '[DEFAULT]',
      'groups = _:loc1,grp1:loc2',
      ...sites.sites.map((s) => `[group:${s.name}]\nauth_type = none\nendpoint_override = ${s.url}`),
      '[api]',
      `max_limit = ${MAX_LIMIT}`,
    ].join('\n');
    proxy = await startProxyProcess(ini, 60_000, { production: true, apiWorkers: null, listeners: WORKERS });
    cli = { endpoint: proxy.url, maxRetries: 0 };
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.destroy()));
    await proxy?.stop();
    await sites?.stop();
  });

  test(`a file without api_workers: one worker per core (${WORKERS}), all listening`, async () => {
    assert.equal(new Set(proxy.listening()).size, WORKERS, proxy.output());
    assert.ok(!proxy.listening().includes(proxy.pid), 'the primary itself does not serve');
    const status = await fetch(`${proxy.url}/status`, { headers: { accept: 'application/json' } });
    assert.equal(((await status.json()) as { proxy: { workers: number } }).proxy.workers, WORKERS);
  });

  test('node create: each node at the site of its conductor group', async () => {
    const made = await inBatches(
      NODES.map(([name, group]) => () =>
        baremetalJsonOk<{ uuid: string; name: string; conductor_group: string }>(
          ['node', 'create', '--driver', 'fake-hardware', '--name', name, ...(group ? ['--conductor-group', group] : [])],
          cli,
        ),
      ),
      WORKERS,
    );
    for (const [i, node] of made.entries()) {
      const [name, group] = NODES[i]!;
      assert.equal(node.name, name);
      assert.equal(node.conductor_group, group);
      uuids.set(name, node.uuid);
      const [home, other] = group ? ['loc2', 'loc1'] : ['loc1', 'loc2'];
      assert.equal(await atSite(home, node.uuid), 200, `${name} at ${home}`);
      assert.equal(await atSite(other, node.uuid), 404, `${name} not at ${other}`);
    }
  });

  test(`listings page (max_limit ${MAX_LIMIT}): every node exactly once, however the calls fall on the workers`, async () => {
    const all = [...uuids.keys()].sort();
    // --limit 0: the CLI follows the proxy's next links (its cursor) to the end; --limit 5: until it has 5.
    const [whole1, whole2, five] = await Promise.all([list(['--limit', '0']), list(['--limit', '0']), list(['--limit', '5'])]);
    for (const rows of [whole1, whole2]) assert.deepEqual(rows.map((r) => r.Name).sort(), all);
    assert.equal(five.length, 5);
    assert.deepEqual(five.map((r) => r.Name), whole1.slice(0, 5).map((r) => r.Name), 'the same order on every worker');
    // Without --limit: one page of max_limit.
    assert.equal((await list([])).length, MAX_LIMIT);

    // By hand, one CLI process per page (so pages fall on different workers): a plain marker each time.
    const seen: string[] = [];
    let marker: string | undefined;
    for (let page = 0; page < 10; page++) {
      const rows = await list(['--limit', String(MAX_LIMIT), ...(marker ? ['--marker', marker] : [])]);
      seen.push(...rows.map((r) => r.Name));
      if (rows.length < MAX_LIMIT) break;
      marker = rows[rows.length - 1]!.UUID;
    }
    assert.deepEqual([...seen].sort(), all);
    assert.equal(new Set(seen).size, seen.length, 'no node twice');
  });

  test("a cursor made by one worker continues on another, without resolving the marker again", async () => {
    // One connection to each of two workers (the primary hands new connections to its workers in turn).
    const byPid = new Map<number, Client>();
    for (let tries = 0; tries < 20 && byPid.size < 2; tries++) {
      const c = new Client(proxy.url, { pipelining: 1 });
      clients.push(c);
      const pid = await statusPid(c);
      if (!byPid.has(pid)) byPid.set(pid, c);
    }
    assert.equal(byPid.size, 2, 'connections to two workers');
    const [a, b] = [...byPid.values()] as [Client, Client];
    const logs = sites.sites.map((s) => s.logFile);
    const lookups = (uuid: string): number => logs.reduce((n, f) => n + lookupsOf(f, uuid), 0);
    // Earlier tests paged by hand with these markers: only new lookups count.
    const before = new Map([...uuids.values()].map((u) => [u, lookups(u)]));
    const seen: Array<{ uuid: string; name: string }> = [];
    let path: string | undefined = '/v1/nodes';
    for (let page = 0; path !== undefined && page < 10; page++) {
      const res: Dispatcher.ResponseData = await (page % 2 === 0 ? a : b).request({ method: 'GET', path, headers: { 'x-openstack-ironic-api-version': '1.82' } });
      const text = await res.body.text();
      assert.equal(res.statusCode, 200, text);
      const body = JSON.parse(text) as { nodes: Array<{ uuid: string; name: string }>; next?: string };
      seen.push(...body.nodes);
      if (body.next === undefined) break;
      const next = new URL(body.next);
      assert.match(next.search, /[?&]marker=/, body.next);
      path = next.pathname + next.search;
    }
    assert.deepEqual(seen.map((n) => n.name).sort(), [...uuids.keys()].sort());
    assert.ok(seen.length > MAX_LIMIT, 'more than one page');
    // Each site logs a request once it has answered it: a request of ours logged after the pages means the
    // site has logged every request the pages caused.
    await Promise.all(
      sites.sites.map(async (s) => {
        assert.equal((await ironicRequest(s.url, 'GET', '/v1/nodes/cw-barrier', { apiVersion: '1.82' })).status, 404);
        await until(`${s.name} to log our request`, () => lookupsOf(s.logFile, 'cw-barrier') > 0);
      }),
    );
    // A cursor the other worker could not verify would have cost a lookup of its marker at a site first.
    for (const n of seen) assert.equal(lookups(n.uuid), before.get(n.uuid), `no lookup of ${n.name} while following the cursor`);
    // Control: the second page asked with the plain marker alone (no cursor) is right too, but costs that lookup.
    const marker = seen[MAX_LIMIT - 1]!.uuid;
    const res = await b.request({ method: 'GET', path: `/v1/nodes?limit=${MAX_LIMIT}&marker=${marker}`, headers: { 'x-openstack-ironic-api-version': '1.82' } });
    assert.equal(res.statusCode, 200);
    const rest = (JSON.parse(await res.body.text()) as { nodes: Array<{ name: string }> }).nodes.map((n) => n.name);
    assert.deepEqual(rest, seen.slice(MAX_LIMIT, 2 * MAX_LIMIT).map((n) => n.name));
    await until('the marker lookup in a site log', () => lookups(marker) > before.get(marker)!);
  });

  test('show by name, set and unset a property (PATCH), each call on whichever worker it reaches', async () => {
    const shown = await baremetalJsonOk<{ uuid: string; conductor_group: string }>(['node', 'show', 'cw-3'], cli);
    assert.equal(shown.uuid, uuids.get('cw-3'));
    assert.equal(shown.conductor_group, 'grp1');
    const set = await baremetal(['node', 'set', 'cw-3', '--property', 'cpus=4', '--extra', 'team=blue'], cli);
    assert.equal(set.code, 0, set.stderr);
    const after1 = await baremetalJsonOk<{ properties: Record<string, unknown>; extra: Record<string, unknown> }>(['node', 'show', 'cw-3'], cli);
    assert.equal(after1.properties.cpus, 4);
    assert.equal(after1.extra.team, 'blue');
    const unset = await baremetal(['node', 'unset', 'cw-3', '--property', 'cpus'], cli);
    assert.equal(unset.code, 0, unset.stderr);
    const after2 = await baremetalJsonOk<{ properties: Record<string, unknown>; extra: Record<string, unknown> }>(['node', 'show', 'cw-3'], cli);
    assert.ok(!('cpus' in after2.properties), JSON.stringify(after2.properties));
    assert.equal(after2.extra.team, 'blue');
    const missing = await baremetal(['node', 'show', 'cw-none'], cli);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Node cw-none could not be found\. \(HTTP 404\)/);
  });

  test('port create and list: at the site of its node', async () => {
    const port = await baremetalJsonOk<{ uuid: string; node_uuid: string }>(['port', 'create', '52:54:00:cc:00:01', '--node', uuids.get('cw-5')!], cli);
    assert.equal(port.node_uuid, uuids.get('cw-5'));
    assert.equal((await ironicRequest(sites.site('loc2').url, 'GET', `/v1/ports/${port.uuid}`, { apiVersion: '1.82' })).status, 200);
    const [byNode, all] = await Promise.all([
      baremetalJsonOk<Array<{ UUID: string; Address: string }>>(['port', 'list', '--node', 'cw-5'], cli),
      baremetalJsonOk<Array<{ UUID: string; Address: string }>>(['port', 'list', '--limit', '0'], cli),
    ]);
    assert.deepEqual(byNode.map((p) => p.UUID), [port.uuid]);
    assert.deepEqual(all.map((p) => p.Address), ['52:54:00:cc:00:01']);
  });

  test('node delete: gone from its site and from listings', async () => {
    const del = await baremetal(['node', 'delete', 'cw-4', 'cw-5'], cli);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(await atSite('loc1', uuids.get('cw-4')!), 404);
    assert.equal(await atSite('loc2', uuids.get('cw-5')!), 404);
    uuids.delete('cw-4');
    uuids.delete('cw-5');
    // Several processes, so several workers: none still knows the deleted nodes.
    const lists = await Promise.all(Array.from({ length: WORKERS }, () => list(['--limit', '0'])));
    for (const rows of lists) assert.deepEqual(rows.map((r) => r.Name).sort(), [...uuids.keys()].sort());
    const shown = await baremetal(['node', 'show', 'cw-4'], cli);
    assert.match(shown.stderr, /Node cw-4 could not be found/);
  });

  test('concurrent creates of one name from several CLI processes: exactly one node, the rest 409', async () => {
    // Python start-ups spread the CLI processes' requests out: with the sites frozen, the first create holds
    // its name (it waits on the sites) while the others arrive, so the creates overlap for certain.
    const refusedElsewhere: string[] = [];
    for (const name of ['dup-a', 'dup-b']) {
      const since = Date.now();
      for (const s of sites.sites) process.kill(-s.pid, 'SIGSTOP');
      let runs: Array<Awaited<ReturnType<typeof baremetal>>>;
      try {
        const done: boolean[] = [];
        // Alternating groups: creates of one name meant for both sites.
        const pending = Array.from({ length: 4 }, (_, i) =>
          baremetal(['node', 'create', '--driver', 'fake-hardware', '--name', name, ...(i % 2 ? ['--conductor-group', 'grp1'] : [])], cli).finally(() => {
            done[i] = true;
          }),
        );
        // Refused by the name's reservation (held by the one create, whichever worker has it), without a site.
        // Left waiting instead, a create on another worker would mean that worker reserved the name too.
        await until(`3 of 4 creates of ${name} to be refused while the sites are frozen (reservations shared by the workers)`, () => done.filter(Boolean).length >= 3, 20_000);
        for (const s of sites.sites) process.kill(-s.pid, 'SIGCONT');
        runs = await Promise.all(pending);
      } finally {
        for (const s of sites.sites) process.kill(-s.pid, 'SIGCONT');
      }
      const codes = runs.map((r) => r.code);
      assert.equal(codes.filter((c) => c === 0).length, 1, `${name}: one create succeeds (${codes.join(', ')})`);
      for (const r of runs.filter((x) => x.code !== 0)) {
        assert.match(r.stderr, new RegExp(`A node with name ${name} already exists\\. \\(HTTP 409\\)`), r.stderr);
      }
      const held = await Promise.all(['loc1', 'loc2'].map((s) => atSite(s, name)));
      assert.deepEqual(held.sort(), [200, 404], `${name}: at exactly one site`);
      // Which workers answered: the refusals by a worker other than the one that created.
      let posts: Array<Record<string, unknown>> = [];
      await until(`the access lines of ${name}'s creates`, () => {
        posts = proxy.logLines().filter((l) => l.msg === 'request' && l.method === 'POST' && l.path === '/v1/nodes' && (l.time as number) >= since);
        return posts.length >= 4;
      });
      const creator = posts.find((l) => l.status === 201)!.pid;
      refusedElsewhere.push(...posts.filter((l) => l.status === 409 && l.pid !== creator).map(() => name));
    }
    assert.ok(refusedElsewhere.length > 0, 'a create was refused by a worker other than the one that held the name');
  });

  test('every worker served requests (the pid of the access lines)', async () => {
    const workers = new Set(proxy.listening());
    const served = new Map<number, number>();
    // Access lines reach standard output in batches, at most a second late.
    await until('access lines from every worker', () => {
      served.clear();
      for (const l of proxy.logLines()) if (l.msg === 'request') served.set(l.pid as number, (served.get(l.pid as number) ?? 0) + 1);
      return served.size >= workers.size;
    });
    for (const pid of served.keys()) assert.ok(workers.has(pid), `pid ${pid} is a worker`);
    // Only the CLI wrote (the test's own connections only read): its processes reached every worker.
    const writes = proxy.logLines().filter((l) => l.msg === 'request' && ['POST', 'PATCH', 'DELETE'].includes(String(l.method)));
    assert.equal(new Set(writes.map((l) => l.pid)).size, workers.size, `the CLI's writes reached every worker (${writes.length} writes)`);
  });
});
