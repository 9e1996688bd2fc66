/**
 * Portgroups. Federation rule (docs/federation/ports.md): a portgroup lives
 * at its node's site, like ports (routing in ports.ts). A portgroup name and
 * a portgroup MAC address are unique over all sites, as in one Ironic:
 * creates and patches that set them are checked against every other site
 * first (409 with Ironic's texts; 503 when a site cannot be asked). A
 * portgroup cannot move to a node at another site (400).
 */
import { isUuidLike, encodeSegment } from '../ironic/idents.js';
import { macKey } from '../coordination/reservations.js';
import type { CollectionDef } from './collection-list.js';
import type { ResourceModule } from './plugin.js';
import { assertFreeElsewhere, assertSameSite, moveRefused, nodeBoundEngines, patchedValue, portgroupLocator, portgroupNotFound, type WriteContext } from './ports.js';

const PORTGROUP_FIELDS = [
  'uuid', 'address', 'name', 'node_uuid', 'extra', 'internal_info', 'mode', 'properties', 'standalone_ports_supported',
  'created_at', 'updated_at', 'physical_network', 'category',
];

export const portgroupsModule: ResourceModule = {
  name: 'portgroups',
  engines(services) {
    const def: CollectionDef = {
      path: '/v1/portgroups',
      detailPath: '/v1/portgroups/detail',
      collectionKey: 'portgroups',
      defaultFields: ['uuid', 'address', 'name'],
      apiFields: new Set(PORTGROUP_FIELDS),
      sortBlacklist: new Set(['extra', 'internal_info', 'properties']),
      locator: portgroupLocator(services),
      notFound: portgroupNotFound,
    };
    const uniqueness = (ctx: WriteContext, name: unknown, address: unknown): Promise<void>[] => {
      const checks: Promise<void>[] = [];
      if (typeof name === 'string' && name && !isUuidLike(name)) {
        checks.push(
          assertFreeElsewhere(ctx, `/v1/portgroups/${encodeSegment(name)}?fields=uuid`, undefined, `A portgroup with name ${name} already exists.`, `portgroup name ${name}`, `portgroup:name:${name}`),
        );
      }
      if (typeof address === 'string' && address) {
        checks.push(
          assertFreeElsewhere(
            ctx,
            `/v1/portgroups?address=${encodeSegment(address)}&fields=uuid`,
            'portgroups',
            `A portgroup with MAC address ${address.toLowerCase()} already exists.`,
            `portgroup MAC address ${address}`,
            `portgroup:mac:${macKey(address)}`,
          ),
        );
      }
      return checks;
    };
    return nodeBoundEngines(services, {
      family: 'portgroup',
      def,
      rule: 'portgroup',
      noun: 'portgroup',
      hasName: true,
      nodeFilters: ['node'],
      uniqueFilter: 'address',
      checkedFields: ['name', 'address', 'node_uuid'],
      beforeCreate: async (ctx, body) => {
        await Promise.all(uniqueness(ctx, body.name, body.address));
      },
      beforePatch: async (ctx, ops, ident) => {
        const checks = uniqueness(ctx, patchedValue(ops, 'name'), patchedValue(ops, 'address'));
        const node = patchedValue(ops, 'node_uuid');
        if (typeof node === 'string' && node) {
          checks.push(assertSameSite(ctx, ctx.services.nodes, node, (there) => moveRefused('portgroup', ident, 'node_uuid', `node ${node}`, ctx.site, there)));
        }
        await Promise.all(checks);
      },
    });
  },
};
