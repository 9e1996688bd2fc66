/**
 * The one place where requests meet the API table. Every path shape of the
 * table becomes one route; a request is then served only by the entry of
 * its method, after the entry's microversion gate, with a query of only
 * the parameters the entry names, and after Ironic's policy for it. Everything else
 * is answered here: a path no entry has is 404 (the server's not-found
 * handler), a method no entry has on a known path is 405 with `Allow`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, bodyTooLarge, methodNotAllowed, pathNotFound, ProxyError, unexpectedArguments } from '../errors.js';
import { isUuidLike } from '../ironic/idents.js';
import { atLeast } from '../ironic/microversion.js';
import { CURSOR_PARAM } from '../resources/list-params.js';
import { NODE_ATTRIBUTE_SEGMENTS, NODE_IDENT_UNROUTABLE } from './table/nodes.js';
import type { ProxyServices } from '../services.js';
import { authorize } from './authorize.js';
import { mayRedact, planRedaction, redactOnSend } from './redact.js';
import type { Engine } from './engine.js';
import type { ApiEntry } from './types.js';
import { checkQueryValues } from './query-checks.js';
import { acceptClientBody, refuseFormBody } from '../http/client-body.js';
import { readWithinBudget } from '../http/body-reading.js';
import type { Authorized } from './engine.js';
import { afterPolicy, checkBody, deferHandlerChecks, handlerReadsNode, NO_ARGUMENTS, type BodySpec, type CheckedBody } from './body.js';
import { readJson } from '../http/forward.js';

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Ironic's default body limit; entries raise it (provision: configdrives). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

interface PathGroup {
  /** Fastify's pattern: arguments become positional `:a0`, `:a1`… (entries name them differently). */
  url: string;
  entries: ApiEntry[];
}

/** `/v1/nodes/{node_ident}/states` → `/v1/nodes/{}/states`: entries of one shape share a route. */
export const shapeOf = (path: string): string => path.replace(/\{[^}]+\}/g, '{}');

export const argumentNames = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);

export function groupByShape(table: readonly ApiEntry[]): PathGroup[] {
  const groups = new Map<string, PathGroup>();
  for (const entry of table) {
    const shape = shapeOf(entry.path);
    let group = groups.get(shape);
    if (!group) {
      let i = 0;
      groups.set(shape, (group = { url: shape.replace(/\{\}/g, () => `:a${i++}`), entries: [] }));
    }
    if (group.entries.some((e) => e.method === entry.method)) throw new Error(`API table: ${entry.method} ${entry.path} is listed twice`);
    group.entries.push(entry);
  }
  return [...groups.values()];
}

export function registerApiTable(app: FastifyInstance, services: ProxyServices, table: readonly ApiEntry[], engines: Readonly<Record<string, Engine>>): void {
  for (const entry of table) {
    if (!engines[entry.engine]) throw new Error(`API table: ${entry.method} ${entry.path} names engine ${entry.engine}, which does not exist`);
  }
  for (const group of groupByShape(table)) {
    // As pecan builds it: the sorted methods of the path.
    const allow = group.entries.map((e) => e.method).sort().join(', ');
    const byMethod = new Map(group.entries.map((e) => [e.method as string, { entry: e, names: argumentNames(e.path) }]));
    const bodyLimit = Math.max(DEFAULT_BODY_LIMIT, ...group.entries.map((e) => e.bodyLimit ?? 0));
    // A path whose entry takes a large body (provision: a configdrive) reads it only once the request is
    // located and authorised (deferred-body.ts); its route gets the body unread.
    const deferBody = group.entries.some((e) => e.bodyLimit !== undefined);
    const route = {
      method: [...ALL_METHODS],
      url: group.url,
      bodyLimit,
      config: { deferBody },
      // Only routes whose answers may need redacting pay for the hook that does it.
      ...(group.entries.some(mayRedact) ? { onSend: redactOnSend } : {}),
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const found = byMethod.get(req.method);
        if (!found) {
          reply.header('allow', allow);
          throw methodNotAllowed();
        }
        const { entry, names } = found;
        if (entry.bodyLimit === undefined && Buffer.isBuffer(req.body) && req.body.length > DEFAULT_BODY_LIMIT) {
          throw bodyTooLarge();
        }
        const positional = req.params as Record<string, string>;
        const params: Record<string, string> = {};
        names.forEach((name, i) => (params[name] = positional[`a${i}`]!));
        refuseRerouting(entry, params);
        const below = entry.since !== undefined && !atLeast(req.ironic.version, entry.since);
        if (below && !entry.belowSince?.afterAuthz) throw belowVersion(entry);
        const query = checkQuery(req, entry);
        checkUuidIdent(entry, params, req.ironic.version.minor);
        checkQueryValues(entry, query, services.registry.commonRange()?.max.minor ?? 0, req.ironic.version.minor);
        const unread = deferBody ? takeUnreadBody(req) : undefined;
        const body = bodySpecOf(entry, req);
        const bodyContext = { params, minor: req.ironic.version.minor };
        // Ironic checks the body's shape (args.validate) before its policy; the handler's own checks come after it.
        let checked: CheckedBody | undefined = body && !deferBody ? checkBody(body, readJson(req), hasBody(req), req.headers['content-type'], bodyContext) : undefined;
        const authz = await authorize({ services, req, entry, params, query });
        if (below) throw belowVersion(entry);
        if (deferBody) {
          // The node is located (404 before a byte is read) and the policy passed: now the body is read, then checked.
          await locateNode(services, req, params, authz);
          if (unread) {
            const length = req.headers['content-length'];
            const declared = length === undefined ? undefined : Number(length);
            const bytes = await readWithinBudget(unread, req.ironic.scope, entry.bodyLimit ?? DEFAULT_BODY_LIMIT, services.memory.limit, declared);
            refuseFormBody(req.headers['content-type'], bytes);
            req.body = acceptClientBody(bytes);
          }
          if (body) checked = checkBody(body, readJson(req), hasBody(req), req.headers['content-type'], bodyContext);
        }
        if (body && checked) {
          deferHandlerChecks(req, body, checked, bodyContext);
          // Otherwise the engine runs them after its own policy check, or the forwarding with the node's site.
          if (!engineAuthorizes(entry) && !handlerReadsNode(body)) await afterPolicy(req);
        }
        planRedaction(services, req, entry);
        return engines[entry.engine]!({ services, req, reply, entry, params, query, authz });
      },
    };
    if (!deferBody) {
      app.route(route);
      continue;
    }
    // Its own context: a content type parser that hands the body over unread.
    void app.register(async (child) => {
      child.removeAllContentTypeParsers();
      child.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
      child.route(route);
    });
  }
}

/** The body the deferred route's parser handed over unread (a stream), taken off the request. */
function takeUnreadBody(req: FastifyRequest): NodeJS.ReadableStream | undefined {
  const body = req.body as NodeJS.ReadableStream | undefined;
  req.body = undefined;
  return body && typeof (body as { on?: unknown }).on === 'function' ? body : undefined;
}

/**
 * The node a deferred-body request is about, located before its body is
 * read: authorisation located it already when it checked the node's policy;
 * without policy (noauth) the locator is asked now (a missing node is its
 * 404, the body unread) and remembers it for the engine.
 */
async function locateNode(services: ProxyServices, req: FastifyRequest, params: Record<string, string>, authz: Authorized): Promise<void> {
  const ident = params.node_ident;
  if (ident === undefined || authz.node) return;
  const locator = services.nodes;
  const site = locator.cached(ident) ?? (await locator.known(ident)) ?? (await locator.lookup(ident, { requestId: req.ironic.globalRequestId })).site;
  locator.remember(site, ident);
}

/** Entries whose engine checks Ironic's policy itself (it then runs the body's handler checks: afterPolicy). */
function engineAuthorizes(entry: ApiEntry): boolean {
  const a = entry.authz;
  switch (a.check) {
    case 'policy':
      return Boolean(a.selfOwned);
    case 'node':
      return Boolean(a.rulesFromPatch || a.selfOwnedFallback);
    case 'allocation-create':
    case 'runbook':
    case 'create-on-node':
      return true;
    default:
      return false;
  }
}

const hasBody = (req: FastifyRequest): boolean => Buffer.isBuffer(req.body) && req.body.length > 0;

/**
 * The body spec of the request: the entry's; for a GET none (pecan never
 * reads a GET's body, so the proxy drops it rather than pass it on); for
 * any other method without one, no arguments in the body.
 */
function bodySpecOf(entry: ApiEntry, req: FastifyRequest): BodySpec | undefined {
  if (entry.body) return entry.body;
  if (req.method === 'GET') {
    req.body = undefined;
    return undefined;
  }
  return NO_ARGUMENTS;
}


/** Ironic's answer below the entry's microversion: a 404 from routing unless the table says otherwise. */
function belowVersion(entry: ApiEntry): ProxyError {
  const status = entry.belowSince?.status ?? 404;
  if (status === 404) return pathNotFound();
  if (status === 405) return methodNotAllowed();
  // exception.NotAcceptable, raised by the handler: a fault body.
  if (status === 406) return new ProxyError('NOT_ACCEPTABLE_FAULT', 'Request not acceptable.');
  return new ProxyError('VERSION_GATE', '', status);
}

/**
 * Path arguments that would make pecan route the request elsewhere: a node
 * "named" like a sub-controller (`/v1/nodes/ports`), or a later argument
 * equal to an attribute controller (`…/traits/maintenance` puts the node in
 * maintenance at a real Ironic). Refused as the 404 they are to a client
 * that meant the argument.
 */
function refuseRerouting(entry: ApiEntry, params: Record<string, string>): void {
  if (!entry.path.startsWith('/v1/nodes/{node_ident}')) return;
  for (const [name, value] of Object.entries(params)) {
    if (name === 'node_ident' ? NODE_IDENT_UNROUTABLE.includes(value) : NODE_ATTRIBUTE_SEGMENTS.includes(value)) throw pathNotFound();
  }
}

/** An object named by `args.uuid` (entry.object.uuidOnly): a path argument that is not a UUID is Ironic's 400. */
function checkUuidIdent(entry: ApiEntry, params: Record<string, string>, minor: number): void {
  const object = entry.object;
  if (!object?.uuidOnly || object.fromQuery) return;
  if (object.uuidOnly.namesSince !== undefined && minor >= object.uuidOnly.namesSince) return;
  const ident = params[object.param];
  if (ident !== undefined && !isUuidLike(ident)) throw badRequest(`Expected UUID for ${object.param}: ${ident}`);
}

/**
 * The query must hold only the parameters the entry's Ironic handler takes
 * (its keyword arguments): Ironic refuses any other with 400 "Unexpected
 * arguments", and so does the proxy — a dropped parameter could change the
 * meaning of what reaches the site (`DELETE …/traits?trait=X`).
 */
function checkQuery(req: FastifyRequest, entry: ApiEntry): URLSearchParams {
  const url = req.url;
  const q = url.indexOf('?');
  if (q < 0) return new URLSearchParams();
  const given = new URLSearchParams(url.slice(q + 1));
  const allowed = entry.query ?? [];
  // The proxy's own paging cursor travels with Ironic's marker.
  const cursorAllowed = allowed.includes('marker');
  const unexpected: string[] = [];
  for (const k of given.keys()) {
    if (!allowed.includes(k) && !(cursorAllowed && k === CURSOR_PARAM) && !unexpected.includes(k)) unexpected.push(k);
  }
  if (unexpected.length > 0) throw unexpectedArguments(unexpected);
  return given;
}
