/**
 * Working on the merged-listing figures: 100 cached simulated sites at 20 ms
 * (bench/backend.ts), the proxy over them, `count` sequential requests of one
 * listing query; prints p50 and the proxy's CPU per page. Not part of
 * `npm run bench`.
 *
 *   npx tsx bench/dev-listing.ts [query] [count] [sites]
 *   BENCH_PROXY_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npx tsx bench/dev-listing.ts
 */
import { startBackend, startProxy, siteSpecs } from './parts.js';
import { cleanup, cpuSecondsOf, get } from './procs.js';

const query = process.argv[2] ?? 'sort_key=name&limit=100';
const count = Number(process.argv[3] ?? 200);
const sites = Number(process.argv[4] ?? 100);
try {
  const backend = await startBackend('dev-listing', siteSpecs(sites, 100, 20).map((s) => ({ ...s, cached: true })));
  const proxy = await startProxy('dev-listing', backend.sites.map((s, i) => ({ ...s, group: `g${i}` })));
  const url = `${proxy.url}/v1/nodes?${query}`;
  for (let i = 0; i < 5; i++) await get(url);
  const cpu0 = cpuSecondsOf(proxy.proc.pid);
  const t: number[] = [];
  for (let i = 0; i < count; i++) t.push((await get(url)).ms);
  const cpu = ((cpuSecondsOf(proxy.proc.pid) - cpu0) * 1000) / count;
  t.sort((a, b) => a - b);
  console.log(`${query} over ${sites} sites: p50 ${t[t.length >> 1]!.toFixed(2)} ms, p90 ${t[Math.floor(t.length * 0.9)]!.toFixed(2)} ms; proxy CPU ${cpu.toFixed(2)} ms/page`);
  await proxy.close();
} finally {
  await cleanup();
}
