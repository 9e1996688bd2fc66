/**
 * Benchmark backend: simulated Ironic sites in their own process, so that the
 * proxy under test never shares an event loop with them.
 *
 *   node --import tsx bench/backend.ts '{"sites":[{"name":"s000","nodes":1000,"latencyMs":0}]}'
 *
 * Prints one line `READY <json>` with every site's name and URL, the seeding
 * time and the process's RSS once all sites listen. Stops on SIGTERM/SIGINT,
 * and when its standard input closes (the benchmark that started it died).
 *
 * Node uuids are unique over all sites, as they are between real Ironic
 * installations: the simulator's seeding derives each site's random stream
 * from its name, and two names can give overlapping streams (hence identical
 * uuids at two sites); such a site is started again under another name
 * (`<name>x`), and the READY line lists the renames.
 */
import { startSimSite, type SimSite, type SimSiteOptions } from '../src/sim/index.js';

interface BackendSpec {
  sites: SimSiteOptions[];
}

const spec = JSON.parse(process.argv[2] ?? '{"sites":[]}') as BackendSpec;
const t0 = performance.now();
const sims: SimSite[] = [];
const uuids = new Set<string>();
const renamed: Array<{ from: string; to: string; duplicates: number }> = [];
// One at a time: seeding is synchronous CPU work, parallel starts would not help.
for (const s of spec.sites) {
  let name = s.name;
  for (let attempt = 0; ; attempt++) {
    const sim = await startSimSite({ host: '127.0.0.1', ...s, name });
    const mine = sim.api.store.all().map((n) => n.uuid);
    const duplicates = mine.filter((u) => uuids.has(u)).length;
    if (duplicates === 0 || attempt === 5) {
      for (const u of mine) uuids.add(u);
      sims.push(sim);
      if (name !== s.name) renamed.push({ from: s.name, to: name, duplicates });
      break;
    }
    await sim.close();
    name = `${name}x`;
  }
}
uuids.clear();
const seedMs = Math.round(performance.now() - t0);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void Promise.all(sims.map((s) => s.close())).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();

const report = {
  sites: sims.map((s) => ({ name: s.name, url: s.url, nodes: s.nodeCount() })),
  renamed,
  seedMs,
  rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
};
process.stdout.write(`READY ${JSON.stringify(report)}\n`);
