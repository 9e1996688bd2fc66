/**
 * Policy targets read from the sites: a node's owner and lessee, the node of
 * a port (portgroup, volume connector, volume target) and that node's owner
 * and lessee, an allocation's owner. Each is read from the site that holds
 * the object, with the proxy's own microversion, fields reduced to what the
 * policy needs. An object that is nowhere is Ironic's 404 for it.
 */
import type { FastifyRequest } from 'fastify';
import { nodeNotFound, ProxyError, type ErrorCode } from '../errors.js';
import type { Locator } from '../federation/locator.js';
import { objectAnswer, readAtOwner as readObjectAtOwner } from '../federation/ask.js';
import type { ProxyServices } from '../services.js';
import type { SiteClient } from '../sites/site-client.js';
import type { LoadedTarget } from './engine.js';
import { objectLocator } from '../resources/ports.js';

export type TargetKind = 'node' | 'port' | 'portgroup' | 'volume_connector' | 'volume_target' | 'allocation';

interface KindInfo {
  collectionPath: string;
  noun: string;
  notFound: (ident: string) => ProxyError;
  hasName: boolean;
}

const notFound =
  (code: ErrorCode, text: (ident: string) => string) =>
  (ident: string): ProxyError =>
    new ProxyError(code, text(ident));

export const KINDS: Record<Exclude<TargetKind, 'node'>, KindInfo> = {
  port: { collectionPath: '/v1/ports', noun: 'port', notFound: notFound('PORT_NOT_FOUND', (i) => `Port ${i} could not be found.`), hasName: false },
  portgroup: { collectionPath: '/v1/portgroups', noun: 'portgroup', notFound: notFound('PORTGROUP_NOT_FOUND', (i) => `Portgroup ${i} could not be found.`), hasName: true },
  volume_connector: {
    collectionPath: '/v1/volume/connectors',
    noun: 'volume connector',
    notFound: notFound('VOLUME_CONNECTOR_NOT_FOUND', (i) => `Volume connector ${i} could not be found.`),
    hasName: false,
  },
  volume_target: {
    collectionPath: '/v1/volume/targets',
    noun: 'volume target',
    notFound: notFound('VOLUME_TARGET_NOT_FOUND', (i) => `Volume target ${i} could not be found.`),
    hasName: false,
  },
  allocation: {
    collectionPath: '/v1/allocations',
    noun: 'allocation',
    notFound: notFound('ALLOCATION_NOT_FOUND', (i) => `Allocation ${i} could not be found.`),
    hasName: true,
  },
};

export function notFoundOf(kind: TargetKind, ident: string): ProxyError {
  return kind === 'node' ? nodeNotFound(ident) : KINDS[kind].notFound(ident);
}

/** The location cache of a kind of object (one per process, shared with the engines). */
export function locatorOf(services: ProxyServices, kind: TargetKind): Locator {
  if (kind === 'node') return services.nodes;
  const k = KINDS[kind];
  return objectLocator(services, k.collectionPath, k.noun, k.notFound, k.hasName);
}

type Doc = Record<string, unknown>;

/**
 * The object, read at its site (federation/ask.ts): Ironic's own 404 is the
 * object's "not found"; a site that cannot be asked, answers another object
 * or leaves out a field asked for is a 503/502 naming it — never a false 404.
 */
async function readAtOwner(services: ProxyServices, req: FastifyRequest, kind: TargetKind, ident: string, fields: string): Promise<{ site: SiteClient; doc: Doc }> {
  const requestId = req.ironic.globalRequestId;
  const base = kind === 'node' ? '/v1/nodes' : KINDS[kind].collectionPath;
  return readObjectAtOwner(
    locatorOf(services, kind),
    ident,
    { requestId },
    (s) => s.request({ method: 'GET', path: `${base}/${encodeURIComponent(ident)}?fields=${fields}`, version: services.internalVersion(), requestId }),
    (i) => notFoundOf(kind, i),
    fields.split(','),
  );
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export async function loadTarget(services: ProxyServices, req: FastifyRequest, kind: TargetKind, ident: string): Promise<LoadedTarget> {
  if (kind === 'node') {
    const { site, doc } = await readAtOwner(services, req, 'node', ident, 'uuid,owner,lessee');
    return { site, uuid: String(doc.uuid), owner: str(doc.owner), lessee: str(doc.lessee) };
  }
  if (kind === 'allocation') {
    const { site, doc } = await readAtOwner(services, req, 'allocation', ident, 'uuid,owner');
    return { site, uuid: String(doc.uuid), owner: str(doc.owner), lessee: null };
  }
  const { site, doc } = await readAtOwner(services, req, kind, ident, 'uuid,node_uuid');
  const nodeUuid = str(doc.node_uuid);
  let owner: string | null = null;
  let lessee: string | null = null;
  if (nodeUuid) {
    const requestId = req.ironic.globalRequestId;
    // The object's node is at the object's site: it is asked there, not located anew (a node gone is no owner).
    const res = await site.request({ method: 'GET', path: `/v1/nodes/${nodeUuid}?fields=uuid,owner,lessee`, version: services.internalVersion(), requestId });
    const answer = objectAnswer(site, res, nodeUuid, ['owner', 'lessee']);
    if (answer.found) {
      owner = str(answer.doc.owner);
      lessee = str(answer.doc.lessee);
    }
  }
  return { site, uuid: String(doc.uuid), owner, lessee };
}
