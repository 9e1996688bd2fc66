/**
 * THE API table: every request form the proxy serves, deny by default —
 * a request that matches no entry is answered by the proxy (404, or 405
 * with `Allow`) and never reaches a site. One file per resource family;
 * each also exports the forms pecan would accept that the proxy refuses
 * (PECAN_FORMS_REFUSED) and how Ironic redacts the family's fields.
 */
import type { ApiEntry } from '../types.js';
import { AGENT_ENTRIES } from './agent.js';
import { ALLOCATION_ENTRIES } from './allocations.js';
import { CHASSIS_ENTRIES } from './chassis.js';
import { CONDUCTOR_ENTRIES } from './conductors.js';
import { DEPLOY_TEMPLATE_ENTRIES } from './deploy-templates.js';
import { DRIVER_ENTRIES } from './drivers.js';
import { EVENT_ENTRIES } from './events.js';
import { MISSING_ARGUMENT_ENTRIES } from './missing-arguments.js';
import { NODE_ENTRIES } from './nodes.js';
import { PORTGROUP_ENTRIES } from './portgroups.js';
import { PORT_ENTRIES } from './ports.js';
import { ROOT_ENTRIES } from './root.js';
import { RUNBOOK_ENTRIES } from './runbooks.js';
import { SHARD_ENTRIES } from './shards.js';
import { VOLUME_ENTRIES } from './volume.js';

/** Each family's entries, by the file that declares them. */
export const API_TABLE_FILES = {
  root: ROOT_ENTRIES,
  nodes: NODE_ENTRIES,
  ports: PORT_ENTRIES,
  portgroups: PORTGROUP_ENTRIES,
  volume: VOLUME_ENTRIES,
  chassis: CHASSIS_ENTRIES,
  'deploy-templates': DEPLOY_TEMPLATE_ENTRIES,
  runbooks: RUNBOOK_ENTRIES,
  allocations: ALLOCATION_ENTRIES,
  drivers: DRIVER_ENTRIES,
  conductors: CONDUCTOR_ENTRIES,
  shards: SHARD_ENTRIES,
  events: EVENT_ENTRIES,
  agent: AGENT_ENTRIES,
  'missing-arguments': MISSING_ARGUMENT_ENTRIES,
} as const satisfies Record<string, readonly ApiEntry[]>;

export const API_TABLE: readonly ApiEntry[] = Object.values(API_TABLE_FILES).flat();
