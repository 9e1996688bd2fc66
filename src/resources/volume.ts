/**
 * Volume connectors and targets, and the `/v1/volume` link document.
 * Federation rule (docs/federation/ports.md): both live at their node's site,
 * like ports (routing in ports.ts). A connector's (type, connector_id) is
 * unique over all sites, as in one Ironic: creates and patches that change
 * either are checked against every other site first (409 with Ironic's
 * text; 503 when a site cannot be asked). A target's boot index is unique
 * per node, which its own site enforces. Neither can move to a node at
 * another site (400). `GET /v1/volume` is the same document at every site:
 * one site's, with links pointing at the proxy.
 */
import { conflict, ProxyError, sitesUnavailable } from '../errors.js';
import { fanOut } from '../federation/fanout.js';
import { PageScan, scanLimitsOf } from '../federation/scan.js';
import { parseJsonBody } from '../sites/site-client.js';
import type { SiteClient } from '../sites/site-client.js';
import type { CollectionDef } from './collection-list.js';
import type { ResourceModule } from './plugin.js';
import type { Engine } from '../api/engine.js';
import { sendJson } from '../http/relay.js';
import { volumeLinks } from '../ironic/links.js';
import { assertSameSite, moveRefused, nodeBoundEngines, objectLocator, patchedValue, type WriteContext } from './ports.js';

const connectorNotFound = (ident: string): ProxyError => new ProxyError('VOLUME_CONNECTOR_NOT_FOUND', `Volume connector ${ident} could not be found.`);
const targetNotFound = (ident: string): ProxyError => new ProxyError('VOLUME_TARGET_NOT_FOUND', `Volume target ${ident} could not be found.`);

export const volumeModule: ResourceModule = {
  name: 'volume',
  engines(services) {
    // The volume root is a document of links, the same at every site: built by the proxy, no site asked.
    const root: Engine = (c) => sendJson(c.reply, 200, volumeLinks(c.req.ironic.baseUrl));

    const connectors: CollectionDef = {
      path: '/v1/volume/connectors',
      collectionKey: 'connectors',
      defaultFields: ['uuid', 'node_uuid', 'type', 'connector_id'],
      apiFields: new Set(['uuid', 'node_uuid', 'type', 'connector_id', 'extra', 'created_at', 'updated_at']),
      sortBlacklist: new Set(['extra']),
      locator: objectLocator(services, '/v1/volume/connectors', 'volume connector', connectorNotFound),
      notFound: connectorNotFound,
    };
    const connectorEngines = nodeBoundEngines(services, {
      family: 'volume_connector',
      def: connectors,
      rule: 'volume',
      noun: 'volume connector',
      checkedFields: ['type', 'connector_id', 'node_uuid'],
      hasName: false,
      nodeFilters: ['node'],
      beforeCreate: async (ctx, body) => {
        if (typeof body.type === 'string' && typeof body.connector_id === 'string') await assertConnectorFree(ctx, body.type, body.connector_id);
      },
      beforePatch: async (ctx, ops, ident) => {
        const checks: Promise<void>[] = [];
        const type = patchedValue(ops, 'type');
        const connectorId = patchedValue(ops, 'connector_id');
        if (type !== undefined || connectorId !== undefined) {
          checks.push(
            (async () => {
              const current = await currentConnector(ctx, ident);
              const t = type ?? current?.type;
              const c = connectorId ?? current?.connector_id;
              if (typeof t === 'string' && typeof c === 'string') await assertConnectorFree(ctx, t, c);
            })(),
          );
        }
        checks.push(...nodeMove(ctx, ops, 'volume connector', ident));
        await Promise.all(checks);
      },
    });

    const targets: CollectionDef = {
      path: '/v1/volume/targets',
      collectionKey: 'targets',
      defaultFields: ['uuid', 'node_uuid', 'volume_type', 'boot_index', 'volume_id'],
      apiFields: new Set(['uuid', 'node_uuid', 'volume_type', 'boot_index', 'volume_id', 'properties', 'extra', 'created_at', 'updated_at']),
      sortBlacklist: new Set(['extra', 'properties']),
      locator: objectLocator(services, '/v1/volume/targets', 'volume target', targetNotFound),
      notFound: targetNotFound,
    };
    const targetEngines = nodeBoundEngines(services, {
      family: 'volume_target',
      def: targets,
      rule: 'volume',
      noun: 'volume target',
      checkedFields: ['node_uuid'],
      hasName: false,
      nodeFilters: ['node'],
      beforePatch: async (ctx, ops, ident) => {
        await Promise.all(nodeMove(ctx, ops, 'volume target', ident));
      },
    });
    return { 'volume.root': root, ...connectorEngines, ...targetEngines };
  },
};

function nodeMove(ctx: WriteContext, ops: Parameters<typeof patchedValue>[0], noun: string, ident: string): Promise<void>[] {
  const node = patchedValue(ops, 'node_uuid');
  if (typeof node !== 'string' || !node) return [];
  return [assertSameSite(ctx, ctx.services.nodes, node, (there) => moveRefused(noun, ident, 'node_uuid', `node ${node}`, ctx.site, there))];
}

async function currentConnector(ctx: WriteContext, ident: string): Promise<{ type?: string; connector_id?: string } | undefined> {
  const res = await ctx.site.request({
    method: 'GET',
    path: `/v1/volume/connectors/${encodeURIComponent(ident)}?fields=uuid,type,connector_id`,
    version: ctx.services.internalVersion(),
    requestId: ctx.requestId,
  });
  return res.status === 200 ? parseJsonBody(ctx.site.name, res) : undefined;
}

/**
 * Ironic has no filter on connector_id, so every other site's connectors
 * are read (uuid, type and connector_id only, in pages of max_limit).
 */
async function assertConnectorFree(ctx: WriteContext, type: string, connectorId: string): Promise<void> {
  const { services, requestId } = ctx;
  const taken = `A volume connector with type ${type} and connector ID ${connectorId} already exists.`;
  await ctx.guard?.take(`volume_connector:id:${type}:${connectorId}`, taken, `volume connector ${type} ${connectorId}`);
  const others = services.registry.sites.filter((s) => s !== ctx.site);
  const pageSize = services.config.api.maxLimit;
  const outcomes = await fanOut(others, async (site: SiteClient): Promise<boolean> => {
    let marker: string | undefined;
    const scan = new PageScan(site.name, 'reading volume connectors', scanLimitsOf(services.config.proxy));
    for (;;) {
      scan.next(marker);
      const qs = `fields=uuid,type,connector_id&limit=${pageSize}${marker ? `&marker=${marker}` : ''}`;
      const res = await site.request({ method: 'GET', path: `/v1/volume/connectors?${qs}`, version: services.internalVersion(), requestId });
      if (res.status !== 200) throw new ProxyError('SITE_ERROR', `Site ${site.name} answered ${res.status}`);
      const items = parseJsonBody<{ connectors?: Array<{ uuid: string; type?: string; connector_id?: string }> }>(site.name, res)?.connectors ?? [];
      if (items.some((c) => c.type === type && c.connector_id === connectorId)) return true;
      if (items.length < pageSize) return false;
      marker = items[items.length - 1]!.uuid;
    }
  });
  for (const o of outcomes) {
    if (o.ok && o.value) throw conflict(taken);
  }
  const silent = outcomes.filter((o) => !o.ok).map((o) => o.site.name);
  if (silent.length > 0) throw sitesUnavailable(`Cannot verify that volume connector ${type} ${connectorId} is unused`, silent);
}
