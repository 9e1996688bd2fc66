/**
 * The state of one simulated site that every controller module works on: its
 * configuration, the node table and the tables of the other resources, plus
 * the few node helpers the others need (api_utils.get_rpc_node, the RPC
 * topic check, the conductor's clock).
 */

import type { NodeRec } from './node-model.js';
import type { Ctx } from './kit.js';
import type { NodeStore } from './store.js';
import type { Table } from './kit.js';
import type { AllocationRec } from './resources/allocations.js';
import type { ChassisRec } from './resources/chassis.js';
import type { TemplateRec } from './resources/deploy-templates.js';
import type { PortgroupRec } from './resources/portgroups.js';
import type { PortRec } from './resources/ports.js';
import type { ConnectorRec, TargetRec } from './resources/volume.js';

export interface SimApiConfig {
  name: string;
  /** Conductor groups served by this site (lower-case, '' = default group). */
  groups: string[];
  maxMinor: number;
  maxLimit: number;
  /** Hardware types the site's conductors enable. */
  drivers: string[];
  /** Delay before a conductor finishes a transitional state, in ms (0 = next tick). */
  tickMs: number;
  /** `[api]public_endpoint`: base of every link; else `http://<Host header>`. */
  publicEndpoint?: string;
  seedNodes: number;
  /** Host names of the conductors, per conductor group (default `<site>` or `<site>-<group>`). */
  conductorHosts?: Record<string, string>;
  /** What `GET /v1/drivers/{name}/properties` answers, per hardware type (default `{}`). */
  driverProperties?: Record<string, Record<string, string>>;
  /** Per hardware type and interface: what the driver listing says (default: the lab's enabled interfaces). */
  driverInterfaces?: Record<string, Record<string, { enabled: string[]; default: string | null }>>;
}

export interface World {
  readonly cfg: SimApiConfig;
  readonly store: NodeStore;
  readonly ports: Table<PortRec>;
  readonly portgroups: Table<PortgroupRec>;
  readonly chassis: Table<ChassisRec>;
  readonly templates: Table<TemplateRec>;
  readonly runbooks: Table<TemplateRec>;
  readonly allocations: Table<AllocationRec>;
  readonly connectors: Table<ConnectorRec>;
  readonly targets: Table<TargetRec>;
  /** api_utils.get_rpc_node (+ the `.json` suffix retry): the node or Ironic's 400/404. */
  getNode(ctx: Ctx, ident: string, jsonSuffix?: boolean): NodeRec;
  /** rpcapi.get_topic_for: a conductor serves this driver and group, or the 400. */
  checkTopic(driver: string, group: string): void;
  conductorHost(group: string): string;
  conductorFor(n: NodeRec): string | null;
  /** Runs `fn` after the conductor's delay (cancelled when the site closes). */
  later(fn: () => void, ms?: number): void;
  /** Marks the node table changed (listing caches); `before` = the node's name and instance_uuid before the change. */
  nodesChanged(n?: NodeRec, before?: { name: string | null; instance_uuid: string | null }): void;
}
