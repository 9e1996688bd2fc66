/**
 * Who is calling, as Keystone vouched for it: what keystonemiddleware puts in
 * the X-User-*, X-Project-*, X-Domain-*, X-Roles and X-Is-Admin-Project
 * headers, from which oslo.context's to_policy_values takes user_id,
 * user_domain_id, system_scope, domain_id, project_id, project_domain_id,
 * roles and is_admin_project (Ironic adds project_name).
 */
export interface UserContext {
  userId: string;
  userName?: string;
  /** The domain of the user (user_domain_id). */
  userDomainId?: string;
  userDomainName?: string;
  /** Set for project-scoped tokens. */
  projectId?: string;
  projectName?: string;
  /** The domain of the project (project_domain_id); set for project-scoped tokens. */
  projectDomainId?: string;
  projectDomainName?: string;
  /** Set for domain-scoped tokens (domain_id). */
  domainId?: string;
  domainName?: string;
  /** True for system-scoped tokens (`"system": {"all": true}`; system_scope = 'all'). */
  system: boolean;
  /** Role names, implied roles included (Keystone expands them). */
  roles: string[];
  /**
   * is_admin_project: the token's `is_admin_project`, true when Keystone
   * does not say (no admin project configured), as keystoneauth reads it.
   */
  isAdminProject: boolean;
  /** Epoch milliseconds. */
  expiresAt: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Undefined under auth_strategy = noauth. */
    user?: UserContext;
  }
}
