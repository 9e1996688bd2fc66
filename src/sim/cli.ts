/**
 * Runs simulated Ironic sites from the command line, e.g.
 *
 *   npx tsx src/sim/cli.ts --site edge1:_,grp1 --site edge2:grp2 --nodes 1000 --port 16385
 *
 * `--site NAME[:GROUPS]` (GROUPS comma-separated, `_` = the default group; one
 * site per flag, on consecutive ports from --port, 0 = free ports),
 * `--nodes N` seeded nodes per site, `--latency MS`, `--max-minor N`,
 * `--max-limit N`, `--host H`. Prints one `name url` line per site; stops on
 * SIGINT/SIGTERM.
 */

import { parseArgs } from 'node:util';

import { startSimSite, type SimSite } from './server.js';

const { values } = parseArgs({
  options: {
    site: { type: 'string', multiple: true },
    nodes: { type: 'string', default: '0' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    latency: { type: 'string', default: '0' },
    'max-minor': { type: 'string', default: '82' },
    'max-limit': { type: 'string', default: '1000' },
  },
});

const specs = values.site?.length ? values.site : ['sim:_'];
const basePort = Number(values.port);
const sites: SimSite[] = [];
for (const [i, spec] of specs.entries()) {
  const [name, groupText] = spec.split(':', 2) as [string, string | undefined];
  const groups = (groupText ?? '_').split(',').map((g) => (g === '_' ? '' : g));
  const site = await startSimSite({
    name,
    conductorGroups: groups,
    nodes: Number(values.nodes),
    port: basePort ? basePort + i : 0,
    host: values.host,
    latencyMs: Number(values.latency),
    maxMinor: Number(values['max-minor']),
    maxLimit: Number(values['max-limit']),
  });
  sites.push(site);
  process.stdout.write(`${site.name} ${site.url}\n`);
}

const stop = (): void => {
  void Promise.all(sites.map((s) => s.close())).then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
