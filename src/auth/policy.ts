/**
 * Who may do what, decided by the proxy: it calls every site with its own
 * service credentials, so without this any authenticated user would act as
 * admin everywhere. Modelled on Ironic's default policy:
 *  - an admin role (any scope) may do everything;
 *  - a system-scoped member may read and act on every node, a system-scoped
 *    reader may read every node;
 *  - a project-scoped member may read and act on the nodes whose owner or
 *    lessee is its project, a project-scoped reader may read them — other
 *    nodes do not exist for them (404, as Ironic conceals them);
 *  - creating and deleting nodes is for admins.
 * Role names come from `[proxy_policy]`.
 */
import type { PolicyConfig } from '../config/types.js';
import { ProxyError } from '../errors.js';
import type { UserContext } from './user.js';

export type NodeAction = 'read' | 'act' | 'admin';

export interface NodeGrant {
  /** Undefined: every node; else only nodes whose owner or lessee is this project. */
  project?: string;
}

export class Policy {
  constructor(private readonly cfg: PolicyConfig) {}

  /**
   * What the user may do to nodes for `action`, or a 403 naming the Ironic
   * policy rule (`rule`) that was denied.
   */
  nodes(user: UserContext | undefined, action: NodeAction, rule: string): NodeGrant {
    if (!user) return {};
    const has = (roles: string[]): boolean => user.roles.some((r) => roles.includes(r));
    if (has(this.cfg.adminRoles)) return {};
    const canAct = has(this.cfg.memberRoles);
    const canRead = canAct || has(this.cfg.readerRoles);
    const allowed = action === 'read' ? canRead : action === 'act' ? canAct : false;
    if (!allowed) throw denied(rule);
    if (user.system) return {};
    if (!user.projectId) throw denied(rule);
    return { project: user.projectId };
  }

  /** Anything beyond the node API (operational endpoints): admins only. */
  admin(user: UserContext | undefined, rule: string): void {
    if (user && !user.roles.some((r) => this.cfg.adminRoles.includes(r))) throw denied(rule);
  }
}

export function denied(rule: string): ProxyError {
  return new ProxyError(403, 'FORBIDDEN', `Access was denied to the following resource: ${rule}`);
}
