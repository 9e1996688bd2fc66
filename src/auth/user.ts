/** Who is calling, as Keystone vouched for it. */
export interface UserContext {
  userId: string;
  userName?: string;
  /** Set for project-scoped tokens. */
  projectId?: string;
  projectName?: string;
  /** True for system-scoped tokens (`"system": {"all": true}`). */
  system: boolean;
  /** Role names, implied roles included (Keystone expands them). */
  roles: string[];
  /** Epoch milliseconds. */
  expiresAt: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Undefined under auth_strategy = noauth. */
    user?: UserContext;
  }
}
