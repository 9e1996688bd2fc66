/**
 * Every resource family the proxy serves, in one list: `GET /v1` advertises
 * what they declare, the server registers their routes. Each module carries
 * its own federation rule (how the resource maps onto sites).
 */
import type { ResourcePlugin } from './plugin.js';
import { nodesPlugin } from './nodes.js';
import { portsPlugin } from './ports.js';
import { portgroupsPlugin } from './portgroups.js';
import { volumePlugin } from './volume.js';
import { chassisPlugin } from './chassis.js';
import { deployTemplatesPlugin } from './deploy-templates.js';
import { runbooksPlugin } from './runbooks.js';
import { allocationsPlugin } from './allocations.js';
import { driversPlugin } from './drivers.js';
import { conductorsPlugin } from './conductors.js';
import { shardsPlugin } from './shards.js';
import { eventsPlugin } from './events.js';
import { agentPlugin } from './agent.js';

export const RESOURCE_PLUGINS: readonly ResourcePlugin[] = [
  nodesPlugin,
  portsPlugin,
  portgroupsPlugin,
  volumePlugin,
  chassisPlugin,
  deployTemplatesPlugin,
  runbooksPlugin,
  allocationsPlugin,
  driversPlugin,
  conductorsPlugin,
  shardsPlugin,
  eventsPlugin,
  agentPlugin,
];
