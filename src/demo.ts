/**
 * The embedded demo (`npm start` with no config): three simulated Ironic
 * sites in this process, the proxy in front of them, and what to type to try
 * it. The simulator implements the node API's semantics; nothing here is
 * special-cased for the demo.
 */
import { loadConfigText } from './config/load.js';
import { createLogger } from './log.js';
import { startSimSite, type SimSite } from './sim/index.js';
import { startProxy } from './start.js';

interface DemoSite {
  name: string;
  groups: string[];
  nodes: number;
}

const DEMO_SITES: DemoSite[] = [
  { name: 'east', groups: ['', 'rack-a'], nodes: 4 },
  { name: 'west', groups: ['rack-b'], nodes: 3 },
  { name: 'edge', groups: ['rack-c'], nodes: 2 },
];

export async function runDemo(opts: { port?: number } = {}): Promise<void> {
  const port = opts.port ?? Number(process.env.IRONIC_PROXY_DEMO_PORT ?? 6385);
  const sims: SimSite[] = await Promise.all(
    DEMO_SITES.map((s) => startSimSite({ name: s.name, conductorGroups: s.groups, nodes: s.nodes })),
  );
  const groups = DEMO_SITES.flatMap((s) => s.groups.map((g) => `${g === '' ? '_' : g}:${s.name}`)).join(',');
  const sections = sims.map((sim) => `[group:${sim.name}]\nauth_type = none\nendpoint_override = ${sim.url}\n`).join('\n');
  const config = loadConfigText(`[DEFAULT]\ngroups = ${groups}\n\n[api]\nhost_ip = 127.0.0.1\nport = ${port}\n\n${sections}`);
  const proxy = await startProxy(config, { log: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }) });
  const url = proxy.url.replace('[::1]', 'localhost');

  const lines = [
    '',
    `ironic-proxy demo: ${sims.length} simulated Ironic sites behind ${url}`,
    ...DEMO_SITES.map((s, i) => `  site ${s.name.padEnd(5)} groups ${s.groups.map((g) => `"${g}"`).join(', ').padEnd(16)} ${sims[i]!.url}`),
    '',
    'Try:',
    `  curl -s ${url}/v1/nodes -H 'X-OpenStack-Ironic-API-Version: latest'`,
    `  export OS_ENDPOINT=${url} OS_AUTH_TYPE=none OS_BAREMETAL_API_VERSION=latest`,
    '  baremetal node list --long',
    '  baremetal node create --driver fake-hardware --name demo-1 --conductor-group rack-b',
    '  baremetal node manage demo-1 --wait 30 && baremetal node provide demo-1 --wait 30',
    '',
    'Stop with Ctrl-C.',
    '',
  ];
  process.stdout.write(lines.join('\n'));

  const stop = (): void => {
    void Promise.allSettled([proxy.close(), ...sims.map((s) => s.close())]).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
