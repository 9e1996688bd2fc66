/**
 * The shape of the API table (src/api/table/*.ts): every request form the
 * proxy serves is one entry. Nothing reaches a site unless an entry names the
 * form (method, path, the query parameters its Ironic handler binds), the
 * policy Ironic checks for it, its microversion gate and the federation
 * engine that serves it. What matches no entry is answered by the proxy
 * itself (404, or 405 with `Allow`).
 */

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
    }
  /**
   * A creation whose target is a node named in the body (ports, portgroups,
   * volume objects: `check_owner_policy('node', rule, node.owner, node.lessee)`).
   */
  | { check: 'create-on-node'; rules: string[] };

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
  };
  /**
   * Query parameters the Ironic handler binds (its keyword arguments).
   * Only these reach a site; any other is dropped, as pecan drops
   * arguments a handler does not take.
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
  /** Larger request bodies than the default 1 MiB (provision: configdrives). */
  bodyLimit?: number;
}
