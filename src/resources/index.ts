/**
 * Every resource family the proxy serves, in one list: each gives the API
 * table its engines (how the family maps onto sites). The table
 * (src/api/table/) says which request forms exist and who may use them.
 */
import type { ResourceModule } from './plugin.js';
import { nodesModule } from './nodes.js';
import { portsModule } from './ports.js';
import { portgroupsModule } from './portgroups.js';
import { volumeModule } from './volume.js';
import { chassisModule } from './chassis.js';
import { deployTemplatesModule } from './deploy-templates.js';
import { runbooksModule } from './runbooks.js';
import { allocationsModule } from './allocations.js';
import { driversModule } from './drivers.js';
import { conductorsModule } from './conductors.js';
import { shardsModule } from './shards.js';
import { eventsModule } from './events.js';
import { agentModule } from './agent.js';

export const RESOURCE_MODULES: readonly ResourceModule[] = [
  nodesModule,
  portsModule,
  portgroupsModule,
  volumeModule,
  chassisModule,
  deployTemplatesModule,
  runbooksModule,
  allocationsModule,
  driversModule,
  conductorsModule,
  shardsModule,
  eventsModule,
  agentModule,
];
