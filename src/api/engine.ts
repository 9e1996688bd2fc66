/**
 * What an engine receives: the request as the table matched it (entry, path
 * arguments by Ironic's names, a query holding only what the entry names)
 * and what authorisation learnt on the way (the project a listing is
 * restricted to, the object's site and owner when they had to be looked up).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ProxyServices } from '../services.js';
import type { SiteClient } from '../sites/site-client.js';
import type { ApiEntry } from './types.js';

/** An object whose policy target authorisation had to read (the site that holds it comes with it). */
export interface LoadedTarget {
  site: SiteClient;
  uuid: string;
  owner: string | null;
  lessee: string | null;
}

export interface Authorized {
  /** Set when Ironic restricts a listing to the caller's project (`check_list_policy` fell back to `:list`). */
  listProject?: string;
  /** The node (or the node of a port, portgroup, volume object) as authorisation read it. */
  node?: LoadedTarget;
  /** The allocation as authorisation read it. */
  allocation?: LoadedTarget;
}

export interface EngineContext {
  services: ProxyServices;
  req: FastifyRequest;
  reply: FastifyReply;
  entry: ApiEntry;
  /** Path arguments by the entry's names (`node_ident`), decoded. */
  params: Record<string, string>;
  /** The query, checked to hold only what the entry accepts (anything else was a 400). */
  query: URLSearchParams;
  authz: Authorized;
}

export type Engine = (ctx: EngineContext) => Promise<FastifyReply> | FastifyReply;

/** The path argument that names the entry's object (`port_uuid`, `template_ident`…), whatever the table calls it. */
export function objectIdent(c: Pick<EngineContext, 'entry' | 'params'>): string {
  const param = c.entry.object?.param;
  const ident = param ? c.params[param] : undefined;
  if (ident === undefined) throw new Error(`API table entry ${c.entry.method} ${c.entry.path} names no object argument`);
  return ident;
}

/** The caller's project (project-scoped tokens), if any. */
export function projectOf(creds: { project_id?: unknown }): string | undefined {
  return typeof creds.project_id === 'string' && creds.project_id ? creds.project_id : undefined;
}
