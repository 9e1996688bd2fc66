/**
 * The shape of the API table (src/api/table/*.ts): every request form the
 * proxy serves is one entry. Nothing reaches a site unless an entry names the
 * form (method, path, the query parameters its Ironic handler binds), the
 * policy Ironic checks for it, its microversion gate and the federation
 * engine that serves it. What matches no entry is answered by the proxy
 * itself (404, or 405 with `Allow`).
 */

import type { BodySpec } from './body.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * How Ironic authorises the form, as its controllers do (ironic/api/controllers/v1/utils.py).
 * The rule names are Ironic's (`baremetal:node:set_power_state`).
 */
export type Authz =
  /** No policy: the version documents, and forms the proxy answers itself without touching a site. */
  | { check: 'public' }
  /**
   * `api_utils.check_policy(rule)`: the caller's own credentials are the target
   * (chassis, deploy templates, runbooks, drivers, conductors, events, node create…).
   */
  | {
      check: 'policy';
      rules: string[];
      /**
       * Node create (`[api]project_admin_can_manage_own_nodes`, default true):
       * this rule is tried first, the caller's credentials as target; when it
       * passes, `rules` are not checked, and a caller that is not system-scoped
       * creates the node in its own project (owner = its project; a body naming
       * another owner is a 400). See src/api/table/nodes.ts.
       */
      selfOwned?: string;
    }
  /**
   * `check_node_policy_and_retrieve` / `check_multiple_node_policies_and_retrieve`:
   * the node (from `object`) must exist (404), be visible (`baremetal:node:get`,
   * concealed as 404 for project-scoped callers), then every rule is checked
   * with the node's owner/lessee as target (403).
   */
  | {
      check: 'node';
      rules: string[];
      /**
       * PATCH of a node: the rules come from the JSON patch body
       * (NODE_UPDATE_FIELD_RULES in src/api/table/nodes.ts); `rules` is the
       * list for a patch that names no field with a rule of its own.
       */
      rulesFromPatch?: boolean;
      /**
       * Node delete: when a rule is denied (403; not the 404 of visibility) and
       * `[api]project_admin_can_manage_own_nodes` is true (the default), the
       * whole check (lookup, visibility, rules) is made again with these rules.
       */
      selfOwnedFallback?: string[];
      /** Status of a node that does not exist when it is not 404 (GET /v1/nodes/{node_ident}/allocation: 400). */
      missingNodeStatus?: number;
      /**
       * Then the node's allocation (none: 404) is checked against these rules
       * with `allocation.owner` as target (403).
       */
      allocationRules?: string[];
    }
  /**
   * Node-bound objects (ports, portgroups, volume connectors/targets): the
   * object's node's owner/lessee is the target (`check_port_policy_and_retrieve` & co.);
   * an object the caller may not see is the object's 404.
   */
  | { check: 'node-object'; rules: string[] }
  /** Allocations: `allocation.owner` is the target (`check_allocation_policy_and_retrieve`). */
  | { check: 'allocation'; rules: string[] }
  /**
   * Listings (`check_list_policy`): `baremetal:<kind>:list_all` lets the caller
   * see everything; else `baremetal:<kind>:list` restricts it to its project
   * (the engine applies the project filter Ironic forces). `ownerParam`: the
   * query parameter naming a project (nodes: `project`, allocations: `owner`);
   * asking for another project than the caller's is refused (403 list_all).
   */
  | {
      check: 'list';
      kind: string;
      ownerParam?: string;
      /**
       * Node-scoped sub-collections (/v1/nodes/{node_ident}/ports…): before the
       * list rules, the node named by this path argument is looked up BY UUID
       * ONLY (a name is "not found") and must pass `baremetal:node:get` with its
       * owner/lessee as target; either failure is a 404 (`parentNotFound`).
       */
      parentNode?: string;
      /**
       * The 404 Ironic raises for a parent node that is missing (or named):
       * 'node' → "Node <ident> could not be found."; 'portgroup' → "Portgroup
       * None could not be found." (ports and portgroups listings). An invisible
       * node is always "Node <uuid> could not be found.".
       */
      parentNotFound?: 'node' | 'portgroup';
      /**
       * A portgroup's ports (/v1/portgroups/{portgroup_ident}/ports…,
       * check_port_list_policy(parent_portgroup=…)): before the list rules,
       * the portgroup named by this path argument is looked up BY UUID ONLY
       * (a name, like a missing portgroup, is 404 "Portgroup <ident> could
       * not be found."), and its node must pass `baremetal:node:get` with the
       * node's owner/lessee as target (denied: the same portgroup 404).
       */
      parentPortgroup?: string;
      /**
       * A query parameter naming a node to filter by, whose existence and
       * visibility Ironic checks after the list rules (allocations' `node`):
       * a node that does not exist → 400 "Node <ident> could not be found.";
       * one denied `baremetal:node:get` (owner/lessee target, not concealed)
       * → 404 "Resource could not be found.".
       */
      nodeParam?: string;
      /**
       * Every object of the page is then checked against this rule with
       * `<kind>.owner` (the object's owner) as target; one denial makes the
       * whole listing a 403 naming it (allocations: baremetal:allocation:get).
       */
      itemRule?: string;
    }
  /**
   * A creation whose target is a node named in the body (ports, portgroups,
   * volume objects: `check_owner_policy('node', rule, node.owner, node.lessee)`).
   */
  | { check: 'create-on-node'; rules: string[] }
  /**
   * POST /v1/allocations (AllocationsController._authorize_create_allocation
   * and post), after the body was validated (400). `rules` (create) with the
   * caller's credentials as target; while [oslo_policy]enforce_new_defaults
   * is false (the default) and the body names no `owner`, `preRbac` too.
   * If either is denied: a project-scoped caller whose body names another
   * owner → that 403; a body naming an owner (defaults not enforced) →
   * `preRbac` (403); then `restricted` (403), and the allocation's owner
   * becomes the caller's project. With enforce_new_defaults, a caller that is
   * not system-scoped gets owner := its project when the body names none,
   * and a body naming another owner needs `restricted` (else 403
   * "Cannot create allocation with an owner Project ID value …").
   * Then the body's references: `node` (backfill, 1.58) must exist (400) and
   * pass `baremetal:node:get` (owner/lessee, concealed: 400 "Node … could not
   * be found."); `candidate_nodes` are looked up restricted to the caller's
   * project (owner or lessee) unless `restricted` passes (400 for one not
   * found). See src/api/table/allocations.ts.
   */
  | { check: 'allocation-create'; rules: string[]; preRbac: string; restricted: string }
  /**
   * Runbooks (1.92, modelled on upstream Ironic, not 21.4):
   * `check_runbook_policy_and_retrieve` — the runbook (from `object`, UUID or
   * name) must exist (404, before any policy), then the FIRST rule with
   * `runbook.owner` as target (403, NOT concealed), then each further rule
   * (403). `publicFallback` (GET): when the first rule is denied, a runbook
   * whose `public` is true is shown anyway (else the 403 of the policy).
   * `patchRules`: PATCH computes its rules from the body — a path starting
   * with one of these prefixes adds that rule; any other path (or a patch
   * matching none) adds `rules`; the list is checked in patch order.
   */
  | {
      check: 'runbook';
      rules: string[];
      publicFallback?: boolean;
      patchRules?: readonly { prefix: string; rule: string }[];
    };

/** The kinds of object an entry acts on: how the proxy finds its site and its policy target. */
export type ObjectKind =
  | 'node'
  | 'port'
  | 'portgroup'
  | 'volume_connector'
  | 'volume_target'
  | 'allocation'
  | 'chassis'
  | 'deploy_template'
  | 'runbook'
  | 'conductor'
  | 'driver';

/**
 * The federation rule that serves the form (docs/federation/*.md): the key
 * of an engine in src/api/engines.ts. The rule's family is its prefix.
 */
export type EngineKey = string;

export interface ApiEntry {
  method: HttpMethod;
  /**
   * Path pattern with Ironic's argument names in braces, e.g.
   * `/v1/nodes/{node_ident}/states/power`. Static segments win over
   * arguments (`/v1/nodes/detail` before `/v1/nodes/{node_ident}`).
   */
  path: string;
  /** The object the form acts on, and the path argument that names it. */
  object?: {
    kind: ObjectKind;
    param: string;
    /**
     * The object is named by the first of these query parameters that is set,
     * not by a path argument (GET /v1/nodes/validate?node_uuid=…|node=…).
     */
    fromQuery?: readonly string[];
    /**
     * The handler takes the argument with `args.uuid` (21.4's ports, volume
     * connectors and targets): anything else is Ironic's 400 "Expected UUID
     * for <param>: <value>", before its policy — answered by the router, as
     * no site could be asked where it is. `namesSince`: names identify the
     * object from this microversion (minor) on (ports: 1.88).
     */
    uuidOnly?: { namesSince?: number };
  };
  /**
   * Query parameters the Ironic handler binds (its keyword arguments).
   * A request with any other is refused by the proxy with Ironic's 400
   * "Unexpected arguments" (what Ironic's args.validate answers).
   */
  query?: readonly string[];
  /** Smallest microversion (minor) at which Ironic serves the form; below it the proxy answers Ironic's 404. */
  since?: number;
  /**
   * How Ironic answers below `since` when it is not that 404 before any
   * policy: e.g. PUT …/states/raid is a 406 after the node policy, PUT
   * …/states/boot_mode a 404 after it, PUT …/traits (below 1.37) a 405.
   */
  belowSince?: { status: number; afterAuthz: boolean };
  /** Ironic's policy for the form. */
  authz: Authz;
  /** The federation engine that serves it. */
  engine: EngineKey;
  /** One line for the README's table: what Ironic does, what the proxy does. */
  doc?: string;
  /**
   * The body the Ironic handler takes (src/api/body.ts), checked by the
   * router before any site is asked. Without it, a GET's body is ignored (as
   * pecan does) and any other method's JSON object body may hold no keys
   * (pecan would bind them as arguments).
   */
  body?: BodySpec;
  /**
   * Larger request bodies than the default 1 MiB (provision: configdrives).
   * Such a body is read only after the entry's object was located and its
   * policy passed (src/api/deferred-body.ts), within the memory budget.
   */
  bodyLimit?: number;
  /**
   * Engine `proxy.missing-argument`: the form exists at Ironic only with this
   * handler argument given in the query or body (`DELETE /v1/nodes?node_ident=X`),
   * which the proxy refuses; without it Ironic's answer is a 400 "Missing
   * mandatory parameter", which the proxy gives itself.
   */
  missingArgument?: string;
}
