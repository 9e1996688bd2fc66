/**
 * The simulated Ironic 21.4 API: a pure request → reply function over
 * in-memory tables, routed as Ironic's v1 controller routes (one module per
 * resource in resources/, shared helpers in kit.ts). The HTTP layer (server.ts) adds transport, latency and
 * fault injection. Behaviour, texts and orders follow the real code in
 * ironic/api/controllers/v1/{node,utils,collection}.py and were checked against
 * a running 21.4 (see test/contract).
 */

import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import { faultBody, routingErrorBody } from '../ironic/error-body.js';
import { negotiate, VERSION_HEADER } from '../ironic/microversion.js';
import { parseQuery } from './args.js';
import { Fault, RoutingError } from './errors.js';
import { ok, type Ctx, type Reply } from './kit.js';
import type { Json, JsonObject } from './node-model.js';
import { routeAllocations } from './resources/allocations.js';
import { routeChassis } from './resources/chassis.js';
import { routeConductors } from './resources/conductors.js';
import { routeDeployTemplates, routeRunbooks } from './resources/deploy-templates.js';
import { routeDrivers } from './resources/drivers.js';
import { routeEvents } from './resources/events.js';
import { NodesController } from './resources/nodes.js';
import { routePortgroups } from './resources/portgroups.js';
import { routePorts } from './resources/ports.js';
import { routeShards } from './resources/shards.js';
import { routeVolume } from './resources/volume.js';

export type { SimApiConfig } from './world.js';

export interface ApiRequest {
  method: string;
  /** Path without the query string, as received (percent-encoded). */
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type ReplyKind = 'v1' | 'root' | 'routing' | 'version';

export interface ApiReply {
  status: number;
  body?: string;
  headers: Record<string, string>;
}


const MIN_HEADER = 'X-OpenStack-Ironic-API-Minimum-Version';
const MAX_HEADER = 'X-OpenStack-Ironic-API-Maximum-Version';
const VER_HEADER = 'X-OpenStack-Ironic-API-Version';

/** The simulated site's API: the entry (versions, errors, headers) and the v1 route table over the resource modules. */
export class SimApi extends NodesController {
  // ------------------------------------------------------------------ entry

  handle(req: ApiRequest): ApiReply {
    const requestId = `req-${randomUUID()}`;
    const rawSegments = req.path.split('/').filter((s) => s !== '');
    let segments: string[];
    try {
      segments = rawSegments.map((s) => decodeURIComponent(s));
    } catch {
      return this.finish({ status: 404, body: routingErrorBody(404, '') }, 'routing', requestId);
    }
    let jsonSuffix = false;
    const last = segments.length - 1;
    if (last >= 0 && segments[last]!.endsWith('.json')) {
      segments[last] = segments[last]!.slice(0, -5);
      jsonSuffix = true;
      if (segments[last] === '') segments.pop();
    }
    const base = this.baseUrl(req.headers);
    if (req.method === 'OPTIONS') return { status: 200, headers: {} };
    if (segments.length === 0) {
      // the root index answers any method
      return this.finish({ status: 200, body: JSON.stringify(this.rootDoc(base)) }, 'root', requestId);
    }
    if (segments[0] !== 'v1') segments.unshift('v1');

    const neg = negotiate({ [VERSION_HEADER]: req.headers[VERSION_HEADER] }, {
      min: { major: 1, minor: 1 },
      max: { major: 1, minor: this.cfg.maxMinor },
    });
    if (!neg.ok) {
      const headers: Record<string, string> = {};
      if (neg.withRangeHeaders) {
        headers[MIN_HEADER] = '1.1';
        headers[MAX_HEADER] = `1.${this.cfg.maxMinor}`;
      }
      return { status: 406, body: routingErrorBody(406, neg.description), headers: { ...headers, ...json() } };
    }
    const minor = neg.version.minor;
    if (req.method === 'HEAD') {
      // pecan has no HEAD handlers here: 405, with the Allow list of the controller
      const top = segments[1];
      if (top !== undefined && !V1_RESOURCES.has(top)) {
        return this.finish({ status: 404, body: routingErrorBody(404, '') }, 'routing', requestId);
      }
      const allow = top === 'nodes' ? headAllow(segments.slice(2)) : undefined;
      return this.finish({ status: 405, body: routingErrorBody(405, ''), headers: allow ? { Allow: allow } : {} }, 'routing', requestId);
    }
    const ctx: Ctx = {
      method: req.method,
      minor,
      base,
      query: parseQuery(req.query),
      rawBody: req.body,
      headers: {},
      render: {
        minor,
        base,
        conductorFor: this.conductorFor,
        chassisUuid: (id) => this.chassis.byId(id)?.uuid ?? null,
        allocationUuid: (id) => this.allocations.byId(id)?.uuid ?? null,
      },
    };
    try {
      const r = this.route(ctx, segments.slice(1), jsonSuffix);
      return this.finish({ ...r, headers: { ...ctx.headers, ...(r.headers ?? {}) } }, 'v1', requestId, minor);
    } catch (e) {
      if (e instanceof Fault) {
        return this.finish({ status: e.status, body: faultBody(e.status, e.message), headers: ctx.headers }, 'v1', requestId, minor);
      }
      if (e instanceof RoutingError) {
        return this.finish({ status: e.status, body: routingErrorBody(e.status, e.description), headers: e.headers }, 'routing', requestId);
      }
      const msg = e instanceof Error ? e.message : String(e);
      return this.finish({ status: 500, body: faultBody(500, msg), headers: ctx.headers }, 'v1', requestId, minor);
    }
  }

  private finish(
    r: { status: number; body?: string; headers?: Record<string, string> },
    kind: ReplyKind,
    requestId: string,
    minor?: number,
  ): ApiReply {
    const headers: Record<string, string> = {};
    if (kind === 'v1') {
      headers[MIN_HEADER] = '1.1';
      headers[MAX_HEADER] = `1.${this.cfg.maxMinor}`;
      headers[VER_HEADER] = `1.${minor}`;
    }
    Object.assign(headers, r.headers ?? {});
    if (kind === 'v1' || kind === 'root') headers['Openstack-Request-Id'] = requestId;
    if (r.body !== undefined) headers['Content-Type'] = 'application/json';
    return { status: r.status, body: r.body, headers };
  }

  private baseUrl(headers: IncomingHttpHeaders): string {
    if (this.cfg.publicEndpoint) return this.cfg.publicEndpoint.replace(/\/+$/, '');
    return `http://${headers.host ?? 'localhost'}`;
  }

  // ------------------------------------------------------------- documents

  private versionDoc(base: string): JsonObject {
    return {
      id: 'v1',
      links: [{ href: `${base}/v1/`, rel: 'self' }],
      status: 'CURRENT',
      min_version: '1.1',
      version: `1.${this.cfg.maxMinor}`,
    };
  }

  rootDoc(base: string): JsonObject {
    const v = this.versionDoc(base);
    return {
      name: 'OpenStack Ironic API',
      description:
        'Ironic is an OpenStack project which enables the provision and management of baremetal machines.',
      default_version: v,
      versions: [v],
    };
  }

  private v1Doc(base: string, minor: number): JsonObject {
    const res = (r: string): Json => [
      { href: `${base}/v1/${r}/`, rel: 'self' },
      { href: `${base}/${r}/`, rel: 'bookmark' },
    ];
    const doc: JsonObject = {
      id: 'v1',
      links: [
        { href: `${base}/v1/`, rel: 'self' },
        {
          href: 'https://docs.openstack.org//ironic/latest/contributor//webapi.html',
          rel: 'describedby',
          type: 'text/html',
        },
      ],
      media_types: { base: 'application/json', type: 'application/vnd.openstack.ironic.v1+json' },
      chassis: res('chassis'),
      nodes: res('nodes'),
      ports: res('ports'),
      drivers: res('drivers'),
      version: this.versionDoc(base),
    };
    const optional: Array<[string, number]> = [
      ['portgroups', 23], ['volume', 32], ['lookup', 22], ['heartbeat', 22], ['conductors', 49],
      ['allocations', 52], ['events', 54], ['deploy_templates', 55], ['shards', 82], ['runbooks', 92],
    ];
    for (const [r, v] of optional) if (minor >= v) doc[r] = res(r);
    return doc;
  }

  // --------------------------------------------------------------- routing

  private route(ctx: Ctx, seg: string[], jsonSuffix: boolean): Reply {
    if (seg.length === 0) {
      if (ctx.method === 'GET') return ok(this.v1Doc(ctx.base, ctx.minor));
      throw new Fault(
        405,
        'The server could not comply with the request since it is either malformed or otherwise incorrect.',
      );
    }
    const [top, ...rest] = seg as [string, ...string[]];
    const r = this.routes[top];
    if (!r) throw new RoutingError(404);
    return r(ctx, rest, jsonSuffix);
  }

  /**
   * The v1 controller's `_subcontroller_map`: each resource's module answers
   * everything below its name (microversion gates included, as Ironic's
   * controllers do them).
   */
  private readonly routes: Readonly<Record<string, (ctx: Ctx, rest: string[], jsonSuffix: boolean) => Reply>> = {
    nodes: (ctx, rest, jsonSuffix) => this.routeNodes(ctx, rest, jsonSuffix),
    ports: (ctx, rest) => routePorts(this, ctx, rest),
    portgroups: (ctx, rest) => routePortgroups(this, ctx, rest),
    chassis: (ctx, rest) => routeChassis(this, ctx, rest, (c, uuid, detail) => this.listNodes(c, detail, uuid)),
    drivers: (ctx, rest) => routeDrivers(this, ctx, rest),
    volume: (ctx, rest) => routeVolume(this, ctx, rest),
    conductors: (ctx, rest) => routeConductors(this, ctx, rest),
    allocations: (ctx, rest) => routeAllocations(this, ctx, rest),
    events: (ctx, rest) => routeEvents(this, ctx, rest),
    deploy_templates: (ctx, rest) => routeDeployTemplates(this, ctx, rest),
    runbooks: (ctx, rest) => {
      // the controller exists from the release that serves 1.92
      if (this.cfg.maxMinor < 92) throw new RoutingError(404);
      return routeRunbooks(this, ctx, rest);
    },
    shards: (ctx, rest) => routeShards(this, ctx, rest),
  };

}

const V1_RESOURCES = new Set([
  'nodes', 'ports', 'portgroups', 'chassis', 'drivers', 'volume', 'lookup', 'heartbeat', 'conductors',
  'allocations', 'events', 'deploy_templates', 'shards',
]);

/** The Allow header pecan sends with a 405 for HEAD under /v1/nodes. */
function headAllow(rest: string[]): string | undefined {
  if (rest.length <= 1) return 'DELETE, GET, PATCH, POST';
  const sub = rest[1];
  if (rest.length === 2 && sub === 'states') return 'GET';
  if (sub === 'traits') return 'DELETE, GET, PUT';
  return undefined;
}

function json(): Record<string, string> {
  return { 'Content-Type': 'application/json' };
}
