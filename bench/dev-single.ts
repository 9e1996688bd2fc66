/**
 * Working on the single-node GET figure: starts one simulated site and the
 * proxy over it, loads the proxy with autocannon, and prints throughput and
 * the CPU the proxy process spent per request, per thread (main thread,
 * GC helpers, libuv pool). Not part of `npm run bench`.
 *
 *   npx tsx bench/dev-single.ts [seconds] [connections] [requests per second]
 *
 * STATIC=1: against nginx serving the site's node documents (bench/parts.ts
 * startStaticBackend), whose cost per request is almost nothing; with the bare
 * Node.js proxy (bench/floor-proxy.ts) beside it. METHOD=PATCH: node PATCHes.
 * AB_BASE=<another checkout, built>: its proxy ("proxy-base") beside this one, both loaded in turn,
 * ROUNDS times (default 1), with the ratio of CPU per request (this / base) per round: an A/B within one run.
 * AB_SIMUL=1 (with AB_BASE): the two proxies loaded at the same time instead of in turn (steadier on a drifting machine).
 * AB_THIS=<checkout>: runs that one's build as "proxy" instead of this one's (AB_THIS=AB_BASE: an A/A run, the noise).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { startBackend, startFloorProxy, startProxy, startStaticBackend, runLoad, siteSpecs } from './parts.js';
import { cleanup, getJson, get, LATEST } from './procs.js';

function threadTicks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = Number(tid) === pid ? 'main' : 'other threads';
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${name} user`, (out.get(`${name} user`) ?? 0) + Number(f[11]));
      out.set(`${name} sys`, (out.get(`${name} sys`) ?? 0) + Number(f[12]));
    } catch {
      // the thread ended
    }
  }
  return out;
}

const seconds = Number(process.argv[2] ?? 5);
const connections = Number(process.argv[3] ?? 16);
const rate = process.argv[4] ? Number(process.argv[4]) : undefined;
try {
  const sim = await startBackend('dev', siteSpecs(1, 1000));
  const simSite = sim.sites[0]!;
  const uuids = (await getJson<{ nodes: Array<{ uuid: string }> }>(`${simSite.url}/v1/nodes?limit=100`)).body.nodes.map((n) => n.uuid);
  const paths = uuids.map((u) => `/v1/nodes/${u}`);
  const backend = process.env.STATIC ? await startStaticBackend(simSite.url, await staticDocs(simSite.url, paths)) : { ...sim, url: simSite.url };
  const site = { ...simSite, url: backend.url };
  const proxy = await startProxy('dev', [{ ...site, group: 'g0' }], '', '', process.env.AB_THIS);
  const base = process.env.AB_BASE ? await startProxy('base', [{ ...site, group: 'g0' }], '', '', process.env.AB_BASE) : undefined;
  const rounds = Number(process.env.ROUNDS ?? 1);
  const floor = process.env.STATIC ? await startFloorProxy(site.url) : undefined;
  const floorFastify = process.env.STATIC ? await startFloorProxy(site.url, 'fastify') : undefined;
  for (const p of paths) await get(`${proxy.url}${p}`);
  if (base) for (const p of paths) await get(`${base.url}${p}`);
  if (process.env.PIN) {
    // The proxies (one at a time under load) alone on CPU 1, everything else (simulator, load generator, this script) on CPU 0: steadier figures.
    for (const p of [proxy, base, floor, floorFastify]) if (p) execFileSync('taskset', ['-a', '-pc', '1', String(p.proc.pid)]);
    for (const pid of [backend.proc.pid, process.pid]) execFileSync('taskset', ['-a', '-pc', '0', String(pid)]);
  }
  const method = process.env.METHOD ?? 'GET';
  const patch = method === 'PATCH' ? { method, body: '[{"op":"replace","path":"/extra/bench","value":"1"}]' } : {};
  const headers = method === 'PATCH' ? { ...LATEST, 'content-type': 'application/json' } : LATEST;
  const targets: Array<readonly [string, string, number]> = [['direct', site.url, backend.proc.pid]];
  if (floor) targets.push(['bare-node-proxy', floor.url, floor.proc.pid]);
  if (floorFastify) targets.push(['bare-fastify-proxy', floorFastify.url, floorFastify.proc.pid]);
  targets.push(['proxy', proxy.url, proxy.proc.pid]);
  if (base) targets.push(['proxy-base', base.url, base.proc.pid]);
  const ratios: number[] = [];
  if (base && process.env.AB_SIMUL) {
    // Both proxies loaded at once, on the same CPU with PIN: whatever the machine's speed does meanwhile
    // (this VM drifts by a third within minutes), it does to both — the ratio of their CPU per request is
    // far steadier than that of two runs one after the other.
    for (let round = 0; round < rounds; round++) {
      const pair = [['proxy', proxy], ['proxy-base', base]] as const;
      const t0 = pair.map(([, p]) => threadTicks(p.proc.pid));
      const rs = await Promise.all(pair.map(([name, p]) => runLoad(name, { url: p.url, paths, connections, warmupSeconds: 0, seconds, headers, rate, ...patch })));
      const per = pair.map(([, p], i) => {
        const t1 = threadTicks(p.proc.pid);
        const ticks = [...t1].reduce((a, [k, v]) => a + v - (t0[i]!.get(k) ?? 0), 0);
        return (ticks * 1e4) / rs[i]!.requests;
      });
      ratios.push(per[0]! / per[1]!);
      console.log(`round ${round + 1} (simultaneous): proxy ${Math.round(rs[0]!.rps)} req/s ${per[0]!.toFixed(0)} µs/request, proxy-base ${Math.round(rs[1]!.rps)} req/s ${per[1]!.toFixed(0)} µs/request: ratio ${(per[0]! / per[1]!).toFixed(3)}`);
    }
    const sorted = [...ratios].sort((a, b) => a - b);
    console.log(`CPU per request, proxy / proxy-base (simultaneous): median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(3)} over ${ratios.length} rounds`);
    targets.length = 0;
  }
  for (let round = 0; round < (targets.length ? rounds : 0); round++) {
  const cpu = new Map<string, number>();
  // Alternate the order of the two proxies from round to round: neither always runs first.
  const order = base && round % 2 === 1 ? [...targets.slice(0, -2), targets.at(-1)!, targets.at(-2)!] : targets;
  for (const [name, url, pid] of order) {
    const t0 = threadTicks(pid);
    const r = await runLoad(name, { url, paths, connections, warmupSeconds: 0, seconds, headers, rate, ...patch });
    const t1 = threadTicks(pid);
    const per = [...t1].map(([k, v]) => [k, ((v - (t0.get(k) ?? 0)) * 1e4) / r.requests] as const).filter(([, v]) => v > 0.5);
    const total = per.reduce((a, [, v]) => a + v, 0);
    cpu.set(name, total);
    console.log(
      `${name}: ${Math.round(r.rps)} req/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms; CPU µs/request ${total.toFixed(0)}: ` +
        per.map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', '),
    );
  }
  if (base) {
    const ratio = cpu.get('proxy')! / cpu.get('proxy-base')!;
    ratios.push(ratio);
    console.log(`round ${round + 1}: CPU per request, proxy / proxy-base = ${ratio.toFixed(3)}`);
  }
  }
  if (ratios.length > 1) {
    const sorted = [...ratios].sort((a, b) => a - b);
    console.log(`CPU per request, proxy / proxy-base: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(3)} over ${ratios.length} rounds`);
  }
} finally {
  await cleanup();
}

/** The documents a static backend serves for `paths`: the version document and each node, as the simulator answers them. */
async function staticDocs(from: string, paths: string[]): Promise<Map<string, string>> {
  const docs = new Map<string, string>();
  for (const p of ['/', ...paths]) docs.set(p, (await get(`${from}${p}`)).text);
  return docs;
}
