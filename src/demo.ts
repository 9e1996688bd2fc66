/**
 * The embedded demo (`npm start` with no config): three simulated Ironic
 * sites in this process, the proxy in front of them, and a walk-through of
 * federation to paste into a shell. The simulator implements Ironic's API
 * for every resource the proxy federates; nothing here is special-cased for
 * the demo. The production start (a config file given) never loads this
 * module nor the simulator (cli.ts imports it dynamically).
 */
import { randomBytes } from 'node:crypto';

import { loadConfigText } from './config/load.js';
import { createLogger } from './log.js';
import { startSimSite, type SimSite } from './sim/index.js';
import { startProxy, type RunningProxy } from './start.js';

interface DemoSite {
  name: string;
  groups: string[];
  nodes: number;
}

export const DEMO_SITES: readonly DemoSite[] = [
  { name: 'east', groups: ['', 'rack-a'], nodes: 4 },
  { name: 'west', groups: ['rack-b'], nodes: 3 },
  { name: 'edge', groups: ['rack-c'], nodes: 2 },
];

/** One step of the walk-through: what it shows, and the commands, each a line a user can paste. */
export interface WalkStep {
  title: string;
  commands: string[];
}

/**
 * The walk-through, for a proxy at `proxy` over sites at `siteUrls` (in
 * DEMO_SITES order). Every line is a command for a shell in which the
 * `export` line of the demo ran (test/integration/demo-walkthrough.test.ts
 * runs them all with the real `baremetal` CLI).
 */
export function walkThrough(siteUrls: readonly string[]): WalkStep[] {
  const mac = (i: number): string => `52:54:00:00:0d:0${i}`;
  const nodes = [
    { name: 'demo-a', group: 'rack-a', extra: '' },
    { name: 'demo-b', group: 'rack-b', extra: '' },
    { name: 'demo-c', group: 'rack-c', extra: ' --resource-class demo-gpu' },
  ];
  return [
    {
      title: 'A node in each conductor group: the group picks the site (rack-a: east, rack-b: west, rack-c: edge)',
      commands: nodes.map((n) => `baremetal node create --driver fake-hardware --name ${n.name} --conductor-group ${n.group}${n.extra}`),
    },
    {
      title: 'A port on each: it is created at its node\'s site',
      commands: nodes.map((n, i) => `baremetal port create --node $(baremetal node show ${n.name} -f value -c uuid) ${mac(i + 1)}`),
    },
    {
      title: 'A chassis: created once through the proxy, it exists at every site with the same UUID',
      commands: [
        'baremetal chassis create --description "demo rack"',
        ...siteUrls.map((u) => `OS_ENDPOINT=${u} baremetal chassis list`),
      ],
    },
    {
      title: 'An allocation goes to the site that can serve it: only edge has a free demo-gpu node',
      commands: [
        'baremetal node manage demo-c --wait 30 && baremetal node provide demo-c --wait 30 && baremetal node power off demo-c',
        'baremetal allocation create --resource-class demo-gpu --name demo-alloc --wait 30',
        'baremetal node show demo-c -f value -c allocation_uuid',
      ],
    },
    {
      title: 'One listing over all sites, sorted as one Ironic would sort it',
      commands: ['baremetal node list --sort name:desc --fields uuid name conductor_group provision_state'],
    },
  ];
}

export interface RunningDemo {
  url: string;
  sims: SimSite[];
  proxy: RunningProxy;
  /** What `npm start` prints. */
  text: string;
  steps: WalkStep[];
  close(): Promise<void>;
}

/**
 * Starts the sites and the proxy. `port` is the proxy's (0: a free one);
 * the sites listen on the three ports after it (all free ones when `port`
 * is 0), so that the printed walk-through is the same on every start.
 */
export async function startDemo(opts: { port?: number } = {}): Promise<RunningDemo> {
  const port = opts.port ?? Number(process.env.IRONIC_PROXY_DEMO_PORT ?? 6385);
  const sims: SimSite[] = [];
  try {
    for (const [i, s] of DEMO_SITES.entries()) {
      sims.push(await startSimSite({ name: s.name, conductorGroups: s.groups, nodes: s.nodes, port: port === 0 ? 0 : port + 1 + i }));
    }
  } catch (err) {
    await Promise.allSettled(sims.map((s) => s.close()));
    throw err;
  }
  const groups = DEMO_SITES.flatMap((s) => s.groups.map((g) => `${g === '' ? '_' : g}:${s.name}`)).join(',');
  const sections = sims.map((sim) => `[group:${sim.name}]\nauth_type = none\nendpoint_override = ${sim.url}\n`).join('\n');
  // one process, no replicas: a random cursor key is right (and says so only in production)
  const secret = randomBytes(16).toString('hex');
  const config = loadConfigText(`[DEFAULT]\ngroups = ${groups}\n\n[api]\nhost_ip = 127.0.0.1\nport = ${port}\n\n[proxy]\ncursor_secret = ${secret}\n\n${sections}`);
  let proxy: RunningProxy;
  try {
    proxy = await startProxy(config, { log: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }) });
  } catch (err) {
    await Promise.allSettled(sims.map((s) => s.close()));
    throw err;
  }
  const url = proxy.url.replace('[::1]', 'localhost');
  const steps = walkThrough(sims.map((s) => s.url));
  const lines = [
    '',
    `ironic-proxy demo: ${sims.length} simulated Ironic sites behind ${url}`,
    ...DEMO_SITES.map((s, i) => `  site ${s.name.padEnd(5)} groups ${s.groups.map((g) => `"${g}"`).join(', ').padEnd(16)} ${sims[i]!.url}`),
    '',
    'Point the baremetal CLI at the proxy:',
    `  export OS_ENDPOINT=${url} OS_AUTH_TYPE=none OS_BAREMETAL_API_VERSION=latest`,
    '  baremetal node list',
    '',
    'Walk-through (paste line by line):',
    ...steps.flatMap((s, i) => ['', `  # ${i + 1}. ${s.title}`, ...s.commands.map((c) => `  ${c}`)]),
    '',
    'Stop with Ctrl-C.',
    '',
  ];
  return {
    url,
    sims,
    proxy,
    text: lines.join('\n'),
    steps,
    close: async () => {
      await Promise.allSettled([proxy.close(), ...sims.map((s) => s.close())]);
    },
  };
}

export async function runDemo(opts: { port?: number } = {}): Promise<void> {
  const demo = await startDemo(opts);
  process.stdout.write(demo.text);
  const stop = (): void => {
    void demo.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
