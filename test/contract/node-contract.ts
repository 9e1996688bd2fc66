/**
 * The node contract: what any Bare Metal endpoint that claims to be Ironic
 * 21.4 (API 1.82) must do for nodes — a simulator site, a real Ironic, or the
 * proxy in front of several sites. HTTP only; structure and texts are
 * compared, volatile values (uuids, timestamps, request ids) are not.
 *
 * The target should hold few nodes besides the ones the suite creates (it
 * pages through the whole listing several times), none of them without a
 * name. It must serve the default conductor group '' and a named one (both
 * asserted in `before`): the suite creates nodes in both. Every node the
 * suite creates is named `<prefix>-…` (but two nameless ones that 'NULL sort
 * values' removes again) and deleted again in `after`.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import {
  Client,
  expectEmpty,
  expectError,
  expectFault,
  expectRouting,
  expectStatus,
  expectVersionHeaders,
  waitFor,
  type Res,
} from './http.js';

export interface ContractTarget {
  /** Base URL of the endpoint (no trailing slash). */
  url: string;
  /**
   * Conductor groups that accept node creates. Must include the default group
   * '' and at least one named (lower-case) group; the first named one is the
   * suite's group for creates, '' is used where a test needs the default one.
   */
  groups: string[];
  cleanup(): Promise<void>;
  /**
   * A federating target may answer some things in its own (documented) way:
   * an opaque cursor in `next` links, and its own 400 text for a conductor
   * group that no site serves. Defaults to false (exact Ironic behaviour).
   */
  federated?: boolean;
  /**
   * Required for a federating target: the conductor groups of each of its
   * sites, in the order it breaks ties between sites. 'NULL sort values'
   * holds each site to Ironic's own pagination (a node's site is the one
   * serving its conductor group).
   */
  siteGroups?: string[][];
}

const DEFAULT_FIELDS = ['instance_uuid', 'maintenance', 'power_state', 'provision_state', 'uuid', 'name'];

/** Keys of a full node at 1.82, in Ironic's order. */
const FULL_KEYS_182 = [
  'uuid', 'created_at', 'updated_at', 'automated_clean', 'bios_interface', 'boot_interface', 'boot_mode',
  'clean_step', 'conductor_group', 'console_enabled', 'console_interface', 'deploy_interface', 'deploy_step',
  'description', 'driver', 'driver_info', 'driver_internal_info', 'extra', 'fault', 'inspection_finished_at',
  'inspection_started_at', 'inspect_interface', 'instance_info', 'instance_uuid', 'last_error', 'lessee',
  'maintenance', 'maintenance_reason', 'management_interface', 'name', 'network_data', 'network_interface',
  'owner', 'power_interface', 'power_state', 'properties', 'protected', 'protected_reason', 'provision_state',
  'provision_updated_at', 'raid_config', 'raid_interface', 'rescue_interface', 'reservation', 'resource_class',
  'retired', 'retired_reason', 'secure_boot', 'shard', 'storage_interface', 'target_power_state',
  'target_provision_state', 'target_raid_config', 'traits', 'vendor_interface', 'links', 'conductor',
  'allocation_uuid', 'chassis_uuid', 'ports', 'states', 'portgroups', 'volume',
];

/** Keys of a full node at 1.5. */
const FULL_KEYS_15 = [
  'uuid', 'created_at', 'updated_at', 'console_enabled', 'driver', 'driver_info', 'driver_internal_info', 'extra',
  'instance_info', 'instance_uuid', 'last_error', 'maintenance', 'maintenance_reason', 'name', 'power_state',
  'properties', 'provision_state', 'provision_updated_at', 'reservation', 'target_power_state',
  'target_provision_state', 'links', 'chassis_uuid', 'ports',
];

const PATCHABLE =
  'automated_clean, bios_interface, boot_interface, chassis_uuid, conductor_group, console_interface, ' +
  'deploy_interface, description, driver, driver_info, extra, inspect_interface, instance_info, instance_uuid, ' +
  'lessee, maintenance, management_interface, name, network_data, network_interface, owner, power_interface, ' +
  'properties, protected, protected_reason, raid_interface, rescue_interface, resource_class, retired, ' +
  'retired_reason, shard, storage_interface, vendor_interface';

const noValidHost = (driver: string, group: string): string =>
  `No valid host was found. Reason: No conductor service registered which supports driver ${driver} for conductor group "${group}".`;

function linkPair(base: string, args: string): Array<{ href: string; rel: string }> {
  return [
    { href: `${base}/v1/nodes/${args}`, rel: 'self' },
    { href: `${base}/nodes/${args}`, rel: 'bookmark' },
  ];
}

interface Row {
  uuid: string;
  key: string | null;
  id: number;
}

/**
 * What a client following `next` gets from Ironic (SQLite): ORDER BY key, id
 * with NULL lowest; after a marker with value v, `key > v OR (key = v AND id >
 * marker.id)` (mirrored for desc, and NULL rows never match); after a marker
 * whose value is NULL, only `id > marker.id` (`<` for desc).
 */
export function keysetReference(rows: Row[], dir: 'asc' | 'desc', limit: number): string[] {
  const order = keysetOrder(rows, dir);
  const out: string[] = [];
  let marker: Row | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const page = keysetAfter(order, dir, marker).slice(0, limit);
    out.push(...page.map((r) => r.uuid));
    if (page.length < limit) return out;
    marker = page[page.length - 1];
  }
  throw new Error('reference pagination does not end');
}

/** ORDER BY key, id (NULL lowest), reversed for desc. */
function keysetOrder(rows: Row[], dir: 'asc' | 'desc'): Row[] {
  const order = [...rows].sort((a, b) => {
    if (a.key !== b.key) return compareKeys(a.key, b.key);
    return a.id - b.id;
  });
  if (dir === 'desc') order.reverse();
  return order;
}

/** What one unbounded page after marker `m` (none: the first page) holds, in order. */
function keysetAfter(order: Row[], dir: 'asc' | 'desc', m: Row | undefined): Row[] {
  return order.filter((r) => {
    if (!m) return true;
    if (m.key === null) return dir === 'asc' ? r.id > m.id : r.id < m.id;
    if (r.key === null) return false;
    if (r.key === m.key) return dir === 'asc' ? r.id > m.id : r.id < m.id;
    return dir === 'asc' ? r.key > m.key : r.key < m.key;
  });
}

/** NULL lowest, then code-point order (the names here are ASCII). */
function compareKeys(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

/**
 * Whether `seq` is what a client of one Ironic (the reference model above)
 * can get by paging with page sizes of its own choosing, each page asked
 * for after the last item it received, until a page comes back short. This
 * is how a federating target reads each of its sites: it continues a site
 * from that site's last item, with page sizes that depend on the merge.
 */
export function keysetPossible(rows: Row[], dir: 'asc' | 'desc', seq: string[]): boolean {
  const order = keysetOrder(rows, dir);
  const byUuid = new Map(rows.map((r) => [r.uuid, r]));
  const pages = new Map<string, Row[]>();
  // '' is the first page, else the uuid of the marker
  const pageAfter = (from: string): Row[] => {
    let p = pages.get(from);
    if (!p) {
      p = keysetAfter(order, dir, from === '' ? undefined : byUuid.get(from));
      pages.set(from, p);
    }
    return p;
  };
  // the states the client may be in: reading the page after `from`, `read` items of it so far
  let states = new Map<string, { from: string; read: number }>([[':0', { from: '', read: 0 }]]);
  for (let k = 0; k < seq.length; k++) {
    if (!byUuid.has(seq[k]!)) return false;
    const candidates = [...states.values()];
    if (k > 0) candidates.push({ from: seq[k - 1]!, read: 0 }); // a new page after the last item received
    const next = new Map<string, { from: string; read: number }>();
    for (const s of candidates) {
      if (pageAfter(s.from)[s.read]?.uuid === seq[k]) next.set(`${s.from}:${s.read + 1}`, { from: s.from, read: s.read + 1 });
    }
    if (next.size === 0) return false;
    states = next;
  }
  // the end: the page being read ran out (it came back short), or a new page after the last item is empty
  for (const s of states.values()) if (s.read === pageAfter(s.from).length) return true;
  return seq.length > 0 && pageAfter(seq[seq.length - 1]!).length === 0;
}

/**
 * A federating target's merge of its sites' streams: the head that sorts
 * first by (key, site order) goes next (reversed for desc), each stream kept
 * in its own order.
 */
export function mergeByKey(streams: Array<Array<{ uuid: string; key: string | null }>>, dir: 'asc' | 'desc'): string[] {
  const sign = dir === 'asc' ? 1 : -1;
  const heads = streams.map(() => 0);
  const out: string[] = [];
  for (;;) {
    let best = -1;
    for (let s = 0; s < streams.length; s++) {
      if (heads[s]! >= streams[s]!.length) continue;
      if (best < 0) {
        best = s;
        continue;
      }
      const c = compareKeys(streams[s]![heads[s]!]!.key, streams[best]![heads[best]!]!.key);
      if ((c !== 0 ? c : s - best) * sign < 0) best = s;
    }
    if (best < 0) return out;
    out.push(streams[best]![heads[best]!]!.uuid);
    heads[best]!++;
  }
}

export function defineNodeContract(label: string, getTarget: () => Promise<ContractTarget>): void {
  describe(`node contract: ${label}`, () => {
    let t: ContractTarget;
    let c: Client;
    let base: string;
    /** The named conductor group: where the suite creates nodes unless a test needs the default one. */
    let group: string;
    const defaultGroup = '';
    let max: string;
    const prefix = `ct${randomUUID().slice(0, 6)}`;
    const created = new Set<string>();

    before(async () => {
      t = await getTarget();
      c = new Client(t.url);
      base = t.url;
      // contract preconditions: both kinds of conductor group, so that no test depends on which one a target has
      assert.ok(
        t.groups.includes(defaultGroup),
        `contract precondition: the target must serve the default conductor group '' (it declares ${JSON.stringify(t.groups)})`,
      );
      const named = t.groups.find((g) => g !== defaultGroup);
      assert.ok(named !== undefined, `contract precondition: the target must serve a named conductor group (it declares ${JSON.stringify(t.groups)})`);
      assert.equal(named, named.toLowerCase(), 'contract precondition: conductor groups are lower case (Ironic stores them so)');
      group = named;
      if (t.federated) {
        const sg = t.siteGroups;
        assert.ok(sg && sg.length > 0, 'contract precondition: a federated target declares the conductor groups of each site (siteGroups)');
        for (const g of t.groups) {
          assert.equal(sg.filter((s) => s.includes(g)).length, 1, `contract precondition: group '${g}' is served by exactly one site`);
        }
      }
      const v1 = await c.get('/v1/');
      expectStatus(v1, 200);
      max = v1.json.version.version;
    });

    after(async () => {
      if (!c) return;
      for (const uuid of created) await removeNode(uuid);
      await t.cleanup();
    });

    async function removeNode(uuid: string): Promise<void> {
      const r = await c.get(`/v1/nodes/${uuid}`);
      if (r.status === 404) return;
      await waitFor(`${uuid} to settle`, async () => {
        const s = await c.get(`/v1/nodes/${uuid}?fields=target_provision_state,reservation`);
        return s.status === 404 || (s.json.target_provision_state === null && s.json.reservation === null) ? true : undefined;
      });
      await c.put(`/v1/nodes/${uuid}/maintenance`, { reason: 'contract cleanup' });
      const d = await c.del(`/v1/nodes/${uuid}`);
      assert.ok(d.status === 204 || d.status === 404, `cleanup of ${uuid}: ${d.status} ${d.text}`);
    }

    async function createNode(body: Record<string, unknown>, version = 'latest'): Promise<Res> {
      const r = await c.post('/v1/nodes', { driver: 'fake-hardware', conductor_group: group, ...body }, { version });
      if (r.status === 201) created.add(r.json.uuid);
      return r;
    }

    async function newNode(suffix: string, extra: Record<string, unknown> = {}): Promise<any> {
      const r = await createNode({ name: `${prefix}-${suffix}`, ...extra });
      expectStatus(r, 201);
      return r.json;
    }

    async function settled(ident: string): Promise<any> {
      return waitFor(`${ident} to leave its transitional state`, async () => {
        const s = await c.get(`/v1/nodes/${ident}/states`);
        expectStatus(s, 200);
        return s.json.target_provision_state === null ? s.json : undefined;
      });
    }

    /** Every node of a listing, in one page. */
    async function all(query: string, version = 'latest'): Promise<any[]> {
      const r = await c.get(`/v1/nodes?limit=1000${query ? `&${query}` : ''}`, { version });
      expectStatus(r, 200);
      assert.equal(r.json.next, undefined, 'the suite expects fewer than 1000 nodes on the target');
      return r.json.nodes;
    }

    /** Follows `next` as openstacksdk does (absolute URL); returns items and pages. */
    async function follow(first: string): Promise<{ items: any[]; pages: number }> {
      const items: any[] = [];
      let url: string | undefined = first;
      let pages = 0;
      while (url) {
        const r = await c.get(url);
        expectStatus(r, 200);
        pages++;
        assert.ok(pages < 500, 'too many pages');
        items.push(...r.json.nodes);
        const limit: number = Number(new URL(url, base).searchParams.get('limit'));
        if (r.json.next !== undefined) {
          assert.equal(r.json.nodes.length, limit, 'next only on a full page');
          assert.ok(String(r.json.next).startsWith(`${base}/v1/nodes`), `next points elsewhere: ${r.json.next}`);
        } else {
          assert.ok(r.json.nodes.length < limit, 'a full page must carry next');
        }
        url = r.json.next;
      }
      return { items, pages };
    }

    // ------------------------------------------------------------------ root

    describe('root documents and version negotiation', () => {
      it('GET / describes v1 with its version range', async () => {
        const r = await c.get('/', { version: null });
        expectStatus(r, 200);
        const v = {
          id: 'v1',
          links: [{ href: `${base}/v1/`, rel: 'self' }],
          status: 'CURRENT',
          min_version: '1.1',
          version: max,
        };
        assert.equal(r.json.name, 'OpenStack Ironic API');
        assert.equal(typeof r.json.description, 'string');
        assert.deepEqual(r.json.default_version, v);
        assert.deepEqual(r.json.versions, [v]);
        assert.match(max, /^1\.\d+$/);
      });

      it('GET /v1 without a version header is API 1.1', async () => {
        const r = await c.get('/v1/', { version: null });
        expectStatus(r, 200);
        expectVersionHeaders(r, '1.1', max);
        assert.match(r.headers.get('openstack-request-id') ?? '', /^req-[0-9a-f-]{36}$/);
        assert.deepEqual(r.json.links, [
          { href: `${base}/v1/`, rel: 'self' },
          { href: 'https://docs.openstack.org//ironic/latest/contributor//webapi.html', rel: 'describedby', type: 'text/html' },
        ]);
        assert.deepEqual(r.json.media_types, { base: 'application/json', type: 'application/vnd.openstack.ironic.v1+json' });
        assert.deepEqual(r.json.nodes, [
          { href: `${base}/v1/nodes/`, rel: 'self' },
          { href: `${base}/nodes/`, rel: 'bookmark' },
        ]);
        const keys = ['chassis', 'drivers', 'id', 'links', 'media_types', 'nodes', 'ports', 'version'];
        if (t.federated) {
          // A federating target lists only the collections it serves (documented), never one Ironic lacks.
          for (const k of Object.keys(r.json)) assert.ok(keys.includes(k), `unexpected key ${k}`);
          for (const k of ['id', 'links', 'media_types', 'nodes', 'version']) assert.ok(k in r.json, `missing ${k}`);
        } else {
          assert.deepEqual(Object.keys(r.json).sort(), keys);
        }
      });

      it('GET /v1 at latest lists the newer resources', async () => {
        const r = await c.get('/v1/', { version: 'latest' });
        expectStatus(r, 200);
        expectVersionHeaders(r, max, max);
        const newer = ['portgroups', 'volume', 'lookup', 'heartbeat', 'conductors', 'allocations', 'events', 'deploy_templates'];
        const r22 = await c.get('/v1/', { version: '1.22' });
        if (t.federated) {
          // Agent endpoints stay with each site; other collections appear as the target serves them, each at its version.
          assert.ok(!('lookup' in r.json) && !('heartbeat' in r.json), 'agent endpoints are not advertised');
          assert.ok(!('portgroups' in r22.json));
        } else {
          for (const k of newer) assert.ok(k in r.json, `missing ${k}`);
          assert.ok('lookup' in r22.json && !('portgroups' in r22.json));
        }
      });

      it('normalises the version it echoes', async () => {
        const r = await c.get('/v1/', { version: ' 1.05' });
        expectStatus(r, 200);
        expectVersionHeaders(r, '1.5', max);
      });

      it('refuses versions outside the range with 406 and Ironic texts', async () => {
        const range = `[1.1, ${max}]`;
        const above = `1.${Number(max.split('.')[1]) + 1}`;
        let r = await c.get('/v1/nodes', { version: above });
        expectRouting(r, 406, `Version ${above} was requested but the minor version is not supported by this service. The supported version range is: ${range}.`);
        assert.equal(r.headers.get('x-openstack-ironic-api-maximum-version'), max);
        assert.equal(r.headers.get('x-openstack-ironic-api-minimum-version'), '1.1');
        r = await c.get('/v1/nodes', { version: '1.0' });
        expectRouting(r, 406, `Version 1.0 was requested but the minor version is not supported by this service. The supported version range is: ${range}.`);
        r = await c.get('/v1/nodes', { version: '2.1' });
        expectRouting(r, 406, `Mutually exclusive versions requested. Version 2.1 requested but not supported by this service. The supported version range is: ${range}.`);
        for (const bad of ['abc', '1', '1.5.1']) {
          r = await c.get('/v1/nodes', { version: bad });
          expectRouting(r, 406, 'Invalid value for X-OpenStack-Ironic-API-Version header');
          assert.equal(r.headers.get('x-openstack-ironic-api-maximum-version'), null);
        }
      });

      it('routes like pecan: no /v1 prefix, trailing slash, .json suffix, HEAD and other methods', async () => {
        const n = await newNode('route');
        let r = await c.get(`/nodes/${n.uuid}?fields=name`);
        expectStatus(r, 200);
        assert.equal(r.json.name, `${prefix}-route`);
        r = await c.get(`/v1/nodes/${prefix}-route.json?fields=uuid`);
        expectStatus(r, 200);
        assert.equal(r.json.uuid, n.uuid);
        expectStatus(await c.get('/v1/nodes/?limit=1'), 200);
        r = await c.req('HEAD', '/v1/nodes');
        expectStatus(r, 405);
        assert.equal(r.headers.get('allow'), 'DELETE, GET, PATCH, POST');
        r = await c.req('PUT', '/v1/nodes', { body: {} });
        expectRouting(r, 405, '');
        assert.equal(r.headers.get('allow'), 'DELETE, GET, PATCH, POST');
        expectFault(await c.del('/v1/nodes'), 400, 'Missing mandatory parameter: node_ident');
        expectRouting(await c.req('POST', `/v1/nodes/${n.uuid}/states`, { body: {} }), 405, '');
      });

      it('answers an unknown path with a routing 404', async () => {
        const r = await c.get('/v1/no-such-thing');
        expectRouting(r, 404, '');
      });
    });

    // ------------------------------------------------------------- node CRUD

    describe('create, show, update, delete', () => {
      it('creates a node: 201, Location, full object with links', async () => {
        const r = await createNode({ name: `${prefix}-create` });
        expectStatus(r, 201);
        const n = r.json;
        assert.equal(r.headers.get('location'), `${base}/v1/nodes/${n.uuid}`);
        expectVersionHeaders(r, max, max);
        assert.deepEqual(Object.keys(n), FULL_KEYS_182);
        assert.match(n.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        assert.equal(n.name, `${prefix}-create`);
        assert.equal(n.driver, 'fake-hardware');
        assert.equal(n.conductor_group, group);
        assert.equal(n.provision_state, 'enroll');
        assert.equal(n.power_state, null);
        assert.equal(n.target_provision_state, null);
        assert.equal(n.maintenance, false);
        assert.equal(n.protected, false);
        assert.equal(n.retired, false);
        assert.equal(n.resource_class, null);
        assert.deepEqual(n.traits, []);
        assert.deepEqual(n.extra, {});
        assert.equal(n.deploy_interface, 'fake');
        assert.equal(n.network_interface, 'noop');
        assert.equal(n.allocation_uuid, null);
        assert.equal(n.chassis_uuid, null);
        assert.equal(typeof n.conductor, 'string');
        assert.match(n.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
        assert.deepEqual(n.links, linkPair(base, n.uuid));
        assert.deepEqual(n.ports, linkPair(base, `${n.uuid}/ports`));
        assert.deepEqual(n.states, linkPair(base, `${n.uuid}/states`));
        assert.deepEqual(n.portgroups, linkPair(base, `${n.uuid}/portgroups`));
        assert.deepEqual(n.volume, linkPair(base, `${n.uuid}/volume`));

        // the same in the default group
        const d = await createNode({ name: `${prefix}-create-default`, conductor_group: defaultGroup });
        expectStatus(d, 201);
        assert.equal(d.headers.get('location'), `${base}/v1/nodes/${d.json.uuid}`);
        assert.deepEqual(Object.keys(d.json), FULL_KEYS_182);
        assert.equal(d.json.conductor_group, defaultGroup);
        assert.equal(d.json.provision_state, 'enroll');
        assert.equal(typeof d.json.conductor, 'string');
        assert.deepEqual(d.json.links, linkPair(base, d.json.uuid));
        const shown = await c.get(`/v1/nodes/${prefix}-create-default?fields=uuid,conductor_group`);
        expectStatus(shown, 200);
        assert.deepEqual(shown.json, { uuid: d.json.uuid, conductor_group: defaultGroup, links: linkPair(base, d.json.uuid) });
      });

      it('creates nodes in "available" below 1.11 (in the default group)', async () => {
        const r = await c.post('/v1/nodes', { driver: 'fake-hardware', name: `${prefix}-old` }, { version: '1.10' });
        expectStatus(r, 201);
        created.add(r.json.uuid);
        assert.equal(r.json.provision_state, 'available');
        assert.deepEqual(Object.keys(r.json).includes('resource_class'), false);
        assert.ok(!('conductor_group' in r.json));
        const now = await c.get(`/v1/nodes/${r.json.uuid}?fields=conductor_group,provision_state`);
        expectStatus(now, 200);
        assert.equal(now.json.conductor_group, defaultGroup, 'a create that cannot name a group lands in the default one');
        assert.equal(now.json.provision_state, 'available');
      });

      it('refuses bad creates with Ironic texts', async () => {
        expectFault(await c.post('/v1/nodes', { name: `${prefix}-x` }), 400, "Schema error for node: 'driver' is a required property");
        expectFault(
          await createNode({ bogus: 1 }),
          400,
          "Schema error for node: Additional properties are not allowed ('bogus' was unexpected)",
        );
        expectFault(await createNode({ name: 5 }), 400, "Schema error for node: 5 is not of type 'string', 'null'");
        expectFault(await createNode({ driver: 'ipmi' }), 400, noValidHost('ipmi', group));
        expectFault(await createNode({ driver: 'ipmi', conductor_group: defaultGroup }), 400, noValidHost('ipmi', defaultGroup));
        const r = await createNode({ conductor_group: 'no-such-group' });
        if (t.federated) expectStatus(r, 400);
        else expectFault(r, 400, noValidHost('fake-hardware', 'no-such-group'));
        const u = randomUUID();
        expectFault(await createNode({ name: u }), 400, `Cannot create node with invalid name '${u}'`);
        expectFault(await createNode({ name: 'a b' }), 400, "Cannot create node with invalid name 'a b'");
        expectFault(
          await createNode({ name: 'detail' }),
          400,
          'The word "detail" is reserved and can not be used as a node name. Reserved words are: maintenance, management, states, vendor_passthru, detail, validate.',
        );
        expectFault(await createNode({ uuid: 'nope' }), 400, 'Expected UUID for uuid: nope');
        expectFault(await createNode({ resource_class: 'x' }, '1.20'), 406, 'Request not acceptable.');
        expectFault(await createNode({ owner: 'x' }, '1.49'), 406, 'Request not acceptable.');
        // noauth (and project-scoped admins): the owner must be the caller's project, here none
        expectFault(
          await createNode({ owner: 'someone' }),
          400,
          'Cannot create a node as a project scoped admin with an owner other than your own project.',
        );
      });

      it('refuses duplicates with 409', async () => {
        const n = await newNode('dup');
        expectFault(await createNode({ name: `${prefix}-dup` }), 409, `A node with name ${prefix}-dup already exists.`);
        expectFault(await createNode({ uuid: n.uuid, name: `${prefix}-dup2` }), 409, `A node with UUID ${n.uuid} already exists.`);
      });

      it('shows a node by uuid and by name, hiding newer fields at older versions', async () => {
        const n = await newNode('show');
        const byUuid = await c.get(`/v1/nodes/${n.uuid}`);
        expectStatus(byUuid, 200);
        const byName = await c.get(`/v1/nodes/${prefix}-show`);
        expectStatus(byName, 200);
        assert.deepEqual(byName.json, byUuid.json);
        const old = await c.get(`/v1/nodes/${n.uuid}`, { version: '1.5' });
        expectStatus(old, 200);
        expectVersionHeaders(old, '1.5', max);
        assert.deepEqual(Object.keys(old.json), FULL_KEYS_15);
        const v20 = await c.get(`/v1/nodes/${n.uuid}`, { version: '1.20' });
        assert.ok('network_interface' in v20.json && !('resource_class' in v20.json) && 'states' in v20.json);
        assert.ok(!('portgroups' in v20.json));
        // names are not identifiers before 1.5
        expectFault(await c.get(`/v1/nodes/${prefix}-show`, { version: '1.4' }), 404, `Node ${prefix}-show could not be found.`);
      });

      it('shows selected fields', async () => {
        const n = await newNode('fields');
        const r = await c.get(`/v1/nodes/${n.uuid}?fields=name,UUID,maintenance`);
        expectStatus(r, 200);
        assert.deepEqual(r.json, { uuid: n.uuid, name: `${prefix}-fields`, maintenance: false, links: linkPair(base, n.uuid) });
        expectFault(await c.get(`/v1/nodes/${n.uuid}?fields=name`, { version: '1.7' }), 406, 'Request not acceptable.');
        expectFault(await c.get(`/v1/nodes/${n.uuid}?fields=resource_class`, { version: '1.20' }), 406, 'Request not acceptable.');
        expectFault(await c.get(`/v1/nodes/${n.uuid}?fields=bogus`), 400, 'Field bogus is not a valid field.');
        expectFault(await c.get(`/v1/nodes/${n.uuid}?bogus=1`), 400, 'Unexpected arguments: bogus');
      });

      it('answers unknown and malformed identifiers', async () => {
        const u = randomUUID();
        expectFault(await c.get(`/v1/nodes/${u}`), 404, `Node ${u} could not be found.`);
        expectFault(await c.get(`/v1/nodes/${prefix}-nobody`), 404, `Node ${prefix}-nobody could not be found.`);
        expectRouting(await c.get('/v1/nodes/a%20b'), 400, 'Expected UUID or name for node: a b');
        expectRouting(await c.get('/v1/nodes/ports'), 404, '');
        expectFault(await c.del(`/v1/nodes/${u}`), 404, `Node ${u} could not be found.`);
        expectFault(await c.patch(`/v1/nodes/${u}`, [{ op: 'add', path: '/extra/a', value: 1 }]), 404, `Node ${u} could not be found.`);
      });

      it('patches a node (RFC 6902) and refuses bad patches as Ironic does', async () => {
        const n = await newNode('patch');
        const other = await newNode('patch-other');
        const path = `/v1/nodes/${n.uuid}`;
        let r = await c.patch(path, [
          { op: 'add', path: '/extra/foo', value: 'bar' },
          { op: 'add', path: '/properties/cpus', value: 4 },
          { op: 'replace', path: '/description', value: 'hello' },
          { op: 'replace', path: '/maintenance', value: 'yes' },
        ]);
        expectStatus(r, 200);
        assert.deepEqual(r.json.extra, { foo: 'bar' });
        assert.deepEqual(r.json.properties, { cpus: 4 });
        assert.equal(r.json.description, 'hello');
        assert.equal(r.json.maintenance, true);
        assert.deepEqual(Object.keys(r.json), FULL_KEYS_182);
        r = await c.patch(path, [{ op: 'remove', path: '/extra/foo' }, { op: 'replace', path: '/maintenance', value: false }]);
        expectStatus(r, 200);
        assert.deepEqual(r.json.extra, {});
        assert.equal(r.json.maintenance, false);

        expectFault(
          await c.patch(path, [{ op: 'add', path: '/extra/a/b', value: 'bar' }]),
          400,
          "Couldn't apply patch '{'op': 'add', 'path': '/extra/a/b', 'value': 'bar'}'. Reason: member 'a' not found in {}",
        );
        expectFault(
          await c.patch(path, [{ op: 'remove', path: '/extra/zzz' }]),
          400,
          "Couldn't apply patch '{'op': 'remove', 'path': '/extra/zzz'}'. Reason: can't remove a non-existent object 'zzz'",
        );
        for (const field of ['uuid', 'provision_state', 'traits', 'bogus']) {
          expectFault(
            await c.patch(path, [{ op: 'replace', path: `/${field}`, value: 'x' }]),
            400,
            `Cannot patch /${field}. Only the following can be updated: ${PATCHABLE}`,
          );
        }
        expectFault(
          await c.patch(path, [{ op: 'move', path: '/extra', from: '/x' }]),
          400,
          "Schema error for patch: Additional properties are not allowed ('from' was unexpected)",
        );
        expectFault(
          await c.patch(path, [{ op: 'replace', path: '/resource_class', value: 5 }]),
          400,
          "Schema error for patch: 5 is not of type 'string', 'null'",
        );
        expectFault(
          await c.patch(path, [{ op: 'replace', path: '/name', value: other.name }]),
          409,
          `A node with name ${other.name} already exists.`,
        );
        expectFault(
          await c.patch(path, [{ op: 'replace', path: '/name', value: 'states' }]),
          400,
          'The word "states" is reserved and can not be used as a node name. Reserved words are: maintenance, management, states, vendor_passthru, detail, validate.',
        );
        expectFault(
          await c.patch(`/v1/nodes/${prefix}-patch`, [{ op: 'replace', path: '/name', value: 'a~b c' }]),
          400,
          `Node ${prefix}-patch: Cannot change name to invalid name 'a~b c'`,
        );
        expectFault(
          await c.patch(path, [{ op: 'replace', path: '/resource_class', value: 'x' }], { version: '1.20' }),
          406,
          'Request not acceptable.',
        );
        const bad = await c.patch(path, [{ op: 'replace', path: '/conductor_group', value: 'no-such-group' }]);
        if (t.federated) expectStatus(bad, 400);
        else expectFault(bad, 400, noValidHost('fake-hardware', 'no-such-group'));
        expectFault(
          await c.patch(path, [{ op: 'replace', path: '/driver', value: 'ipmi' }]),
          400,
          noValidHost('ipmi', group),
        );
        // nothing of the refused patches stuck
        const now = await c.get(path);
        assert.equal(now.json.name, `${prefix}-patch`);
        assert.equal(now.json.conductor_group, group);
        assert.equal(now.json.driver, 'fake-hardware');
      });

      it('lower-cases conductor groups on patch (a named group)', async () => {
        const n = await newNode('cg');
        const r = await c.patch(`/v1/nodes/${n.uuid}`, [{ op: 'replace', path: '/conductor_group', value: group.toUpperCase() }]);
        expectStatus(r, 200);
        assert.equal(r.json.conductor_group, group);
        assert.equal((await c.get(`/v1/nodes/${n.uuid}?fields=conductor_group`)).json.conductor_group, group);

        // from the default group into the named one (a federating target moves nodes only within a site)
        const d = await newNode('cg-default', { conductor_group: defaultGroup });
        const moved = await c.patch(`/v1/nodes/${d.uuid}`, [{ op: 'replace', path: '/conductor_group', value: group.toUpperCase() }]);
        const sameSite = !t.federated || t.siteGroups!.some((gs) => gs.includes(defaultGroup) && gs.includes(group));
        if (sameSite) {
          expectStatus(moved, 200);
          assert.equal(moved.json.conductor_group, group);
        } else {
          expectStatus(moved, 400);
        }
        const now = await c.get(`/v1/nodes/${d.uuid}?fields=conductor_group`);
        assert.equal(now.json.conductor_group, sameSite ? group : defaultGroup);
      });

      it('deletes a node: 204 with an empty body, then 404', async () => {
        const n = await newNode('delete');
        expectEmpty(await c.del(`/v1/nodes/${prefix}-delete`), 204);
        created.delete(n.uuid);
        expectFault(await c.get(`/v1/nodes/${n.uuid}`), 404, `Node ${n.uuid} could not be found.`);
      });
    });

    // --------------------------------------------------------------- listing

    describe('listing', () => {
      const mine: any[] = [];
      const rc = `${prefix}-rc`;
      const owner = `${prefix}-owner`;

      before(async () => {
        for (let i = 0; i < 7; i++) {
          const n = await newNode(`list-${String.fromCharCode(103 - i)}${i}`, {
            resource_class: i % 2 === 0 ? rc : `${rc}-odd`,
            maintenance: i % 3 === 0,
          });
          if (i < 3) {
            // without auth, 21.4 refuses an owner on create (see 'refuses bad creates')
            const r = await c.patch(`/v1/nodes/${n.uuid}`, [{ op: 'add', path: '/owner', value: owner }]);
            expectStatus(r, 200);
            assert.equal(r.json.owner, owner);
          }
          mine.push(n);
        }
      });

      it('default items carry the default fields and links', async () => {
        const nodes = await all('');
        const m = nodes.find((n) => n.uuid === mine[0].uuid);
        assert.deepEqual(Object.keys(m), ['uuid', 'instance_uuid', 'maintenance', 'power_state', 'provision_state', 'name', 'links']);
        assert.deepEqual(m.links, linkPair(base, m.uuid));
        const old = await all('', '1.1');
        assert.deepEqual(Object.keys(old[0]), ['uuid', 'instance_uuid', 'maintenance', 'power_state', 'provision_state', 'links']);
      });

      it('emits next iff the page is full, in Ironic\'s format (a federating target: its documented one)', async () => {
        const total = (await all('')).length;
        let r = await c.get(`/v1/nodes?limit=${total}`);
        expectStatus(r, 200);
        assert.equal(r.json.nodes.length, total);
        assert.ok(r.json.next, 'a full last page still has next');
        const empty = await c.get(r.json.next);
        expectStatus(empty, 200);
        assert.deepEqual(empty.json, { nodes: [] });
        r = await c.get(`/v1/nodes?limit=${total + 1}`);
        assert.equal(r.json.next, undefined);
        if (t.federated) {
          // Documented: next keeps every parameter the client gave, then limit and the plain
          // marker (the last item), plus the target's own opaque cursor; it leads to the page
          // a client passing only that marker gets.
          const check = async (query: string, path = '/v1/nodes'): Promise<void> => {
            const p = await c.get(`${path}?${query}`);
            expectStatus(p, 200);
            const limit = Number(new URLSearchParams(query).get('limit'));
            assert.equal(p.json.nodes.length, limit, `${query}: a full page`);
            const lastUuid: string = p.json.nodes[limit - 1].uuid;
            const next = new URL(String(p.json.next));
            assert.equal(`${next.origin}${next.pathname}`, `${base}${path}`, `${query}: next ${p.json.next}`);
            for (const [k, v] of new URLSearchParams(query)) assert.deepEqual(next.searchParams.getAll(k), [v], `${query}: next keeps ${k}`);
            assert.deepEqual(next.searchParams.getAll('marker'), [lastUuid], `${query}: next carries the last item as marker`);
            const known = new Set([...new URLSearchParams(query).keys(), 'marker']);
            const own = [...new Set(next.searchParams.keys())].filter((k) => !known.has(k));
            assert.ok(own.length <= 1, `${query}: at most one parameter of the target's own in next, got ${own.join(', ')}`);
            const viaNext = await c.get(String(p.json.next));
            const viaMarker = await c.get(`${path}?${query}&marker=${lastUuid}`);
            expectStatus(viaNext, 200);
            expectStatus(viaMarker, 200);
            assert.deepEqual(viaNext.json.nodes, viaMarker.json.nodes, `${query}: next and marker lead to the same page`);
          };
          await check('limit=2');
          await check('limit=1&sort_key=name&sort_dir=desc&detail=true&maintenance=true&associated=false');
          await check(`limit=1&resource_class=${rc}`, '/v1/nodes/detail');
          await check('limit=1&fields=Name,uuid&detail=false');
        } else {
          r = await c.get('/v1/nodes?limit=2');
          const last = r.json.nodes[1].uuid;
          assert.equal(r.json.next, `${base}/v1/nodes?sort_key=id&sort_dir=asc&fields=${DEFAULT_FIELDS.join(',')}&limit=2&marker=${last}`);
          r = await c.get('/v1/nodes?limit=1&sort_key=name&sort_dir=desc&detail=true&maintenance=true&associated=false');
          assert.equal(
            r.json.next,
            `${base}/v1/nodes?sort_key=name&sort_dir=desc&maintenance=True&detail=True&limit=1&marker=${r.json.nodes[0].uuid}`,
          );
          r = await c.get('/v1/nodes/detail?limit=1&resource_class=' + rc);
          assert.equal(r.json.next, `${base}/v1/nodes/detail?sort_key=id&sort_dir=asc&limit=1&marker=${r.json.nodes[0].uuid}`);
          r = await c.get('/v1/nodes?limit=1&fields=Name,uuid&detail=false');
          assert.equal(r.json.next, `${base}/v1/nodes?sort_key=id&sort_dir=asc&detail=False&fields=name,uuid&limit=1&marker=${r.json.nodes[0].uuid}`);
        }
      });

      for (const [sortKey, sortDir] of [
        ['id', 'asc'], ['id', 'desc'], ['name', 'asc'], ['name', 'desc'], ['created_at', 'desc'], ['uuid', 'asc'],
        ['maintenance', 'asc'], ['driver', 'desc'],
      ] as const) {
        it(`following next yields every node once (sort ${sortKey} ${sortDir})`, async () => {
          const q = sortKey === 'id' && sortDir === 'asc' ? '' : `sort_key=${sortKey}&sort_dir=${sortDir}`;
          if (!['id', 'uuid', 'created_at', 'driver', 'maintenance'].includes(sortKey)) {
            // Ironic's keyset pagination loses or repeats rows whose key is NULL (see
            // 'NULL sort values'): every node here has one (a contract precondition)
            const withKey = await all(`${q}&fields=uuid,${sortKey}`);
            assert.deepEqual(
              withKey.filter((n) => n[sortKey] === null).map((n) => n.uuid),
              [],
              `contract precondition: every node on the target has a ${sortKey}`,
            );
            for (const m of mine) assert.ok(withKey.some((n) => n.uuid === m.uuid));
          }
          const full = (await all(q)).map((n) => n.uuid);
          assert.equal(new Set(full).size, full.length);
          for (const m of mine) assert.ok(full.includes(m.uuid));
          for (const limit of [1, 2, 3, 5]) {
            const { items } = await follow(`/v1/nodes?limit=${limit}${q ? `&${q}` : ''}`);
            assert.deepEqual(items.map((n) => n.uuid), full, `limit ${limit}`);
          }
          // a client that only passes marker=<last uuid>
          const seen: string[] = [];
          let marker = '';
          for (;;) {
            const r = await c.get(`/v1/nodes?limit=3${q ? `&${q}` : ''}${marker ? `&marker=${marker}` : ''}`);
            expectStatus(r, 200);
            seen.push(...r.json.nodes.map((n: any) => n.uuid));
            if (r.json.nodes.length < 3) break;
            marker = r.json.nodes[2].uuid;
          }
          assert.deepEqual(seen, full);
        });
      }

      it('orders by the sort key with the internal id as tie-breaker', async () => {
        const names = (await all('sort_key=name&sort_dir=asc&fields=name,uuid')).map((n) => n.name).filter((n) => n?.startsWith(`${prefix}-list-`));
        assert.deepEqual(names, [...names].sort());
        assert.equal(names.length, 7);
        const byMaint = (await all('sort_key=maintenance&sort_dir=desc&fields=uuid,maintenance')).filter((n) => mine.some((m) => m.uuid === n.uuid));
        const expected = [...mine].filter((m) => m.maintenance).reverse().concat([...mine].filter((m) => !m.maintenance).reverse());
        assert.deepEqual(byMaint.map((n) => n.uuid), expected.map((m) => m.uuid));
      });

      it('refuses bad markers, limits and sort parameters', async () => {
        expectFault(await c.get('/v1/nodes?marker=abc'), 400, 'Expected UUID for marker: abc');
        const u = randomUUID();
        expectFault(await c.get(`/v1/nodes?marker=${u}`), 404, `Node ${u} could not be found.`);
        expectFault(await c.get('/v1/nodes?limit=0'), 400, 'Limit must be positive');
        expectFault(await c.get('/v1/nodes?limit=-1'), 400, 'Limit must be positive');
        expectFault(await c.get('/v1/nodes?limit=abc'), 400, 'Expected an integer for limit: abc');
        expectFault(await c.get('/v1/nodes?sort_key=extra'), 400, 'The sort_key value extra is an invalid field for sorting');
        expectFault(await c.get('/v1/nodes?sort_key=foo'), 400, 'The sort_key value "foo" is an invalid field for sorting');
        expectFault(await c.get('/v1/nodes?sort_key=resource_class', { version: '1.20' }), 406, 'Request not acceptable.');
        expectFault(await c.get('/v1/nodes?sort_dir=up'), 400, "Invalid sort direction: up. Acceptable values are 'asc' or 'desc'");
        expectFault(await c.get('/v1/nodes?sort_key=name&sort_key=uuid'), 400, "Expected string for sort_key: ['name', 'uuid']");
        expectFault(await c.get('/v1/nodes?foo=1'), 400, 'Unexpected arguments: foo');
      });

      it('honours fields and detail, with their rules', async () => {
        const r = await c.get(`/v1/nodes?fields=UUID,name&resource_class=${rc}`);
        expectStatus(r, 200);
        for (const n of r.json.nodes) assert.deepEqual(Object.keys(n), ['uuid', 'name', 'links']);
        const d = await c.get(`/v1/nodes?detail=true&resource_class=${rc}`);
        expectStatus(d, 200);
        assert.deepEqual(Object.keys(d.json.nodes[0]), FULL_KEYS_182);
        const dd = await c.get(`/v1/nodes/detail?resource_class=${rc}`);
        assert.deepEqual(
          dd.json.nodes.map((n: any) => n.uuid),
          d.json.nodes.map((n: any) => n.uuid),
        );
        expectFault(await c.get('/v1/nodes?fields=uuid&detail=true'), 400, 'Can not specify ?detail=True and fields in the same request.');
        expectFault(await c.get('/v1/nodes?detail=true', { version: '1.42' }), 400, 'Invalid query parameter ?detail=True received.');
        expectFault(await c.get('/v1/nodes?fields=uuid', { version: '1.7' }), 406, 'Request not acceptable.');
        expectFault(await c.get('/v1/nodes?fields=owner', { version: '1.49' }), 406, 'Request not acceptable.');
        expectFault(await c.get('/v1/nodes/detail?fields=uuid'), 400, 'Unexpected arguments: fields');
        expectFault(await c.get('/v1/nodes/detail?detail=true'), 400, 'Unexpected arguments: detail');
        expectFault(
          await c.get('/v1/nodes?detail=maybe'),
          400,
          "Invalid detail: Unrecognized value 'maybe', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'",
        );
      });

      it('filters on shard, description, lessee/project, retired, conductor and fault', async () => {
        const n = await newNode('filt');
        const lessee = `${prefix}-lessee`;
        const r = await c.patch(`/v1/nodes/${n.uuid}`, [
          { op: 'add', path: '/shard', value: 'ShardX' },
          { op: 'add', path: '/description', value: 'Rack 12_b' },
          { op: 'add', path: '/lessee', value: lessee },
          { op: 'add', path: '/retired', value: true },
        ]);
        expectStatus(r, 200);
        assert.equal(r.json.shard, 'ShardX');
        const has = async (q: string): Promise<boolean> => (await all(q)).some((x) => x.uuid === n.uuid);
        // shard values in the query are lower-cased, the stored one is not
        assert.equal(await has('shard=ShardX'), false);
        assert.equal(await has('shard=shardx,other'), false);
        assert.equal(await has('sharded=true'), true);
        assert.equal(await has('sharded=false'), false);
        // SQL LIKE: case-insensitive, with _ and % as wildcards
        assert.equal(await has('description_contains=RACK'), true);
        assert.equal(await has('description_contains=12%25b'), true);
        assert.equal(await has('description_contains=rack%2012x'), false);
        assert.equal(await has(`project=${lessee}`), true);
        assert.equal(await has(`lessee=${lessee}`), true);
        assert.equal(await has(`owner=${lessee}`), false);
        assert.equal(await has('retired=true'), true);
        assert.equal(await has('retired=false'), false);
        assert.equal(await has(`conductor=${r.json.conductor}`), true);
        assert.equal(await has('conductor=no-such-conductor'), false);
        assert.equal(await has('fault=power%20failure'), false);
        expectFault(
          await c.get('/v1/nodes?fault=bogus'),
          400,
          `Unrecognized fault "bogus" is specified, allowed faults are ('power failure', 'clean failure', 'rescue abort failure')`,
        );
        expectFault(
          await c.get('/v1/nodes?shard=x', { version: '1.81' }),
          406,
          'Request not acceptable. The minimal required API version should be 1.82',
        );
        const p = await c.get('/v1/nodes?limit=1&retired=true&sharded=true');
        expectStatus(p, 200);
        if (!t.federated) {
          assert.equal(p.json.next, `${base}/v1/nodes?sort_key=id&sort_dir=asc&retired=True&fields=${DEFAULT_FIELDS.join(',')}&limit=1&marker=${p.json.nodes[0].uuid}`);
        } else {
          // a federating target keeps every filter in next (documented)
          const next = new URL(String(p.json.next));
          assert.equal(next.searchParams.get('retired'), 'true');
          assert.equal(next.searchParams.get('sharded'), 'true');
          assert.equal(next.searchParams.get('marker'), p.json.nodes[0].uuid);
        }
      });

      it('filters', async () => {
        // Ironic lists in creation (internal id) order; a federating target may
        // choose another default order, so it is compared as a set there
        const order = (xs: string[]): string[] => (t.federated ? [...xs].sort() : xs);
        const uuids = (q: string): Promise<string[]> => all(q).then((ns) => order(ns.map((n) => n.uuid)));
        const mineOf = (pred: (i: number) => boolean): string[] => order(mine.filter((_, i) => pred(i)).map((m) => m.uuid));
        assert.deepEqual(await uuids(`resource_class=${rc}`), mineOf((i) => i % 2 === 0));
        assert.deepEqual(await uuids(`owner=${owner}`), mineOf((i) => i < 3));
        const maint = await uuids('maintenance=true');
        for (const u of mineOf((i) => i % 3 === 0)) assert.ok(maint.includes(u));
        for (const u of mineOf((i) => i % 3 !== 0)) assert.ok(!maint.includes(u));
        const byGroup = await all(`conductor_group=${group}&fields=uuid,conductor_group`);
        for (const u of mineOf(() => true)) assert.ok(byGroup.some((n) => n.uuid === u));
        for (const n of byGroup) assert.equal(n.conductor_group, group);
        // the default group is a value like any other: `conductor_group=` selects it
        const byDefault = await all('conductor_group=&fields=uuid,name,conductor_group');
        assert.ok(byDefault.some((n) => n.name === `${prefix}-create-default`), 'a node created in the default group');
        assert.ok(byDefault.some((n) => n.name === `${prefix}-old`), 'a node created below 1.46');
        for (const n of byDefault) assert.equal(n.conductor_group, defaultGroup);
        for (const u of mineOf(() => true)) assert.ok(!byDefault.some((n) => n.uuid === u));
        const enroll = await all('provision_state=enroll&fields=uuid,provision_state');
        for (const n of enroll) assert.equal(n.provision_state, 'enroll');
        for (const u of mineOf(() => true)) assert.ok(enroll.some((n) => n.uuid === u));
        const drv = await all('driver=fake-hardware&fields=uuid,driver');
        for (const n of drv) assert.equal(n.driver, 'fake-hardware');
        assert.deepEqual(await uuids('driver=no-such-driver'), []);
        assert.deepEqual(await uuids(`resource_class=${rc}&owner=${owner}`), mineOf((i) => i % 2 === 0 && i < 3));
        // a filtered listing keeps maintenance=True in next, drops the rest (upstream behaviour)
        const r = await c.get(`/v1/nodes?limit=1&maintenance=true&owner=${owner}`);
        expectStatus(r, 200);
        if (!t.federated) {
          assert.ok(String(r.json.next).includes('&maintenance=True&'));
          assert.ok(!String(r.json.next).includes('owner='));
        } else {
          // a federating target keeps every filter in next (documented), so page 2 is still filtered
          const next = new URL(String(r.json.next));
          assert.equal(next.searchParams.get('maintenance'), 'true');
          assert.equal(next.searchParams.get('owner'), owner);
          const rest = await follow(String(r.json.next));
          assert.deepEqual(
            order([...r.json.nodes, ...rest.items].map((n: any) => n.uuid)),
            mineOf((i) => i < 3 && i % 3 === 0),
          );
        }
        expectFault(await c.get('/v1/nodes?provision_state=bogus'), 400, 'Provision state "bogus" is not valid');
        expectFault(
          await c.get('/v1/nodes?driver=x', { version: '1.15' }),
          406,
          'Request not acceptable. The minimal required API version should be 1.16',
        );
        expectFault(
          await c.get('/v1/nodes?conductor_group=x', { version: '1.45' }),
          406,
          'Request not acceptable. The minimal required API version should be 1.46',
        );
        expectFault(await c.get('/v1/nodes?provision_state=enroll', { version: '1.8' }), 406, 'Request not acceptable.');
        expectFault(
          await c.get('/v1/nodes?maintenance=maybe'),
          400,
          "Invalid maintenance: Unrecognized value 'maybe', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'",
        );
      });
    });

    describe('NULL sort values', () => {
      it('paging by a key with NULLs follows oslo.db (descending drops NULL rows, NULL markers repeat rows), per site when federated', async () => {
        const named = await newNode('null-named');
        const nameless: string[] = [];
        for (let i = 0; i < 2; i++) {
          const r = await createNode({});
          expectStatus(r, 201);
          assert.equal(r.json.name, null);
          nameless.push(r.json.uuid);
        }
        try {
          const full = await c.get('/v1/nodes?limit=1000&sort_key=name&sort_dir=desc&fields=uuid,name');
          expectStatus(full, 200);
          assert.equal(full.json.next, undefined);
          const names = full.json.nodes.map((n: any) => n.name);
          // NULLs sort last in descending order (first ascending), ties by internal id
          const firstNull = names.indexOf(null);
          assert.ok(firstNull > 0 && names.slice(firstNull).every((n: unknown) => n === null));
          const ids = full.json.nodes.slice(firstNull).map((n: any) => n.uuid);
          assert.deepEqual(ids, [...nameless].reverse(), 'the only nameless nodes are the two just created');
          assert.ok(full.json.nodes.some((n: any) => n.uuid === named.uuid));

          if (!t.federated) {
            const items: string[] = [];
            let url: string | undefined = '/v1/nodes?limit=1&sort_key=name&sort_dir=desc&fields=uuid,name';
            while (url) {
              const r = await c.get(url);
              expectStatus(r, 200);
              items.push(...r.json.nodes.map((n: any) => n.uuid));
              url = r.json.next;
            }
            assert.deepEqual(items, full.json.nodes.filter((n: any) => n.name !== null).map((n: any) => n.uuid));
            assert.ok(items.includes(named.uuid));

            // the general rule, both directions, several page sizes: a reference
            // model of oslo.db's paginate_query over (name, internal id)
            const byId = await c.get('/v1/nodes?limit=1000&fields=uuid,name');
            const rows: Row[] = byId.json.nodes.map((n: any, i: number) => ({ uuid: n.uuid, key: n.name, id: i }));
            for (const dir of ['asc', 'desc'] as const) {
              for (const limit of [1, 2, 3]) {
                const { items: got } = await follow(`/v1/nodes?limit=${limit}&sort_key=name&sort_dir=${dir}&fields=uuid,name`);
                assert.deepEqual(got.map((n) => n.uuid), keysetReference(rows, dir, limit), `${dir} limit ${limit}`);
              }
            }
          } else {
            // A federating target continues each site after that site's last item (its
            // cursor holds per-site markers), so each site pages as Ironic does (the
            // reference model), with page sizes the target chooses; the sites' streams are
            // merged by (name, site order). Per site: the items are what some paging of that
            // site gives, and the merge of those streams is exactly what the client got. With
            // one item a page, each site is asked again after every item it gave: exactly
            // the reference model at limit 1, per site. A site without NULL names pages
            // exactly (each of its nodes once, in order).
            const sites = t.siteGroups!;
            // each site's internal id order: its created_at order (a merge keeps each site's order)
            const byCreation = await all('sort_key=created_at&sort_dir=asc&fields=uuid,name,conductor_group');
            const siteRows: Row[][] = sites.map(() => []);
            const siteOf = new Map<string, number>();
            for (const n of byCreation) {
              const s = sites.findIndex((gs) => gs.includes(n.conductor_group));
              assert.ok(s >= 0, `node ${n.uuid} is in group '${n.conductor_group}', which no site serves`);
              siteOf.set(n.uuid, s);
              siteRows[s]!.push({ uuid: n.uuid, key: n.name, id: siteRows[s]!.length });
            }
            const nullSite = siteOf.get(nameless[0]!)!;
            assert.equal(siteOf.get(nameless[1]!), nullSite);
            assert.equal(siteOf.get(named.uuid), nullSite);
            const keyOf = new Map(byCreation.map((n) => [n.uuid as string, n.name as string | null]));
            for (const dir of ['asc', 'desc'] as const) {
              for (const limit of [1, 2, 3, 1000]) {
                const { items } = await follow(`/v1/nodes?limit=${limit}&sort_key=name&sort_dir=${dir}&fields=uuid,name`);
                const got: string[] = items.map((n) => n.uuid);
                const what = `${dir} limit ${limit}`;
                const streams: string[][] = sites.map(() => []);
                for (const u of got) {
                  assert.ok(siteOf.has(u), `${what}: unknown node ${u}`);
                  streams[siteOf.get(u)!]!.push(u);
                }
                for (const [s, stream] of streams.entries()) {
                  if (limit === 1) {
                    assert.deepEqual(stream, keysetReference(siteRows[s]!, dir, 1), `${what}: site ${s} as its own client paging by 1`);
                  } else if (s !== nullSite) {
                    assert.deepEqual(stream, keysetReference(siteRows[s]!, dir, 1000), `${what}: site ${s} (no NULL names) pages exactly`);
                  }
                  assert.ok(
                    keysetPossible(siteRows[s]!, dir, stream),
                    `${what}: no paging of site ${s} gives ${JSON.stringify(stream.map((u) => keyOf.get(u)))}`,
                  );
                }
                assert.deepEqual(
                  got,
                  mergeByKey(streams.map((st) => st.map((u) => ({ uuid: u, key: keyOf.get(u) ?? null }))), dir),
                  `${what}: the sites' streams merged by (name, site order)`,
                );
                if (limit === 1000) {
                  // one page: every node once
                  assert.deepEqual([...got].sort(), [...keyOf.keys()].sort(), `${what}: every node once`);
                } else if (limit === 1) {
                  // what the site's oslo.db does to NULLs shows through: ascending, after a nameless
                  // marker only newer rows follow (the site's named nodes are all older: lost);
                  // descending, after a named marker nameless rows never match (dropped)
                  const namedHere = siteRows[nullSite]!.filter((r) => r.key !== null).map((r) => r.uuid);
                  if (dir === 'asc') assert.deepEqual(streams[nullSite], nameless, `${what}: only the nameless nodes of their site`);
                  else assert.deepEqual([...streams[nullSite]!].sort(), [...namedHere].sort(), `${what}: only the named nodes of that site`);
                }
              }
            }
          }
        } finally {
          for (const u of nameless) {
            expectEmpty(await c.del(`/v1/nodes/${u}`), 204);
            created.delete(u);
          }
        }
      });
    });

    // --------------------------------------------------- power and provision

    describe('power and provision', () => {
      it('walks manage → provide → deploy → undeploy with the fake driver', async () => {
        const n = await newNode('cycle');
        const ident = `${prefix}-cycle`;
        const states = await c.get(`/v1/nodes/${ident}/states`);
        expectStatus(states, 200);
        assert.deepEqual(Object.keys(states.json), [
          'console_enabled', 'last_error', 'power_state', 'provision_state', 'target_power_state',
          'target_provision_state', 'provision_updated_at', 'raid_config', 'target_raid_config', 'boot_mode', 'secure_boot',
        ]);
        // by name, except below 1.5 where names are not identifiers
        const prov = (target: string, version = 'latest'): Promise<Res> =>
          c.put(`/v1/nodes/${/^1\.[1-4]$/.test(version) ? n.uuid : ident}/states/provision`, { target }, { version });

        expectFault(
          await prov('provide'),
          400,
          `The requested action "provide" can not be performed on node "${n.uuid}" while it is in state "enroll".`,
        );
        expectFault(await prov('manage', '1.3'), 406, 'Request not acceptable.');
        expectFault(await c.put(`/v1/nodes/${ident}/states/provision`, {}), 400, 'Missing mandatory parameter: target');
        expectFault(await c.put(`/v1/nodes/${ident}/states/provision`, { target: 'manage', foo: 1 }), 400, 'Unexpected arguments: foo');

        let r = await prov('manage');
        expectEmpty(r, 202);
        assert.equal(r.headers.get('location'), `${base}/v1/nodes/${ident}/states`);
        assert.equal((await settled(ident)).provision_state, 'manageable');

        expectEmpty(await prov('provide'), 202);
        assert.equal((await settled(ident)).provision_state, 'available');

        expectFault(await prov('deploy', '1.72'), 406, 'Request not acceptable.');
        expectEmpty(await prov('deploy'), 202);
        const active = await settled(ident);
        assert.equal(active.provision_state, 'active');
        expectFault(
          await prov('deploy'),
          400,
          `The requested action "deploy" can not be performed on node "${n.uuid}" while it is in state "active".`,
        );
        expectFault(
          await c.del(`/v1/nodes/${n.uuid}`),
          409,
          `Can not delete node "${n.uuid}" while it is in provision state "active". Valid provision states to perform deletion are: "('manageable', 'enroll', 'adopt failed', 'available')", or set the node into maintenance mode`,
        );
        expectEmpty(await prov('undeploy'), 202);
        assert.equal((await settled(ident)).provision_state, 'available');
        expectEmpty(await prov('active', '1.1'), 202);
        assert.equal((await settled(ident)).provision_state, 'active');
        expectEmpty(await prov('deleted', '1.1'), 202);
        const back = await settled(ident);
        assert.equal(back.provision_state, 'available');
        // at 1.1 "available" is shown as null
        r = await c.get(`/v1/nodes/${n.uuid}/states`, { version: '1.1' });
        assert.equal(r.json.provision_state, null);
        assert.ok(!('raid_config' in r.json));
      });

      it('inspect, clean, adopt, rescue, rebuild and abort (in the default group)', async () => {
        const n = await newNode('verbs', { conductor_group: defaultGroup });
        assert.equal(n.conductor_group, defaultGroup);
        const u = n.uuid;
        const prov = (body: Record<string, unknown>): Promise<Res> => c.put(`/v1/nodes/${u}/states/provision`, body);
        expectEmpty(await prov({ target: 'manage' }), 202);
        await settled(u);

        expectEmpty(await prov({ target: 'inspect' }), 202);
        let s = await settled(u);
        assert.equal(s.provision_state, 'manageable');
        let f = (await c.get(`/v1/nodes/${u}?fields=inspection_started_at,inspection_finished_at`)).json;
        assert.equal(f.inspection_started_at, null);
        assert.match(f.inspection_finished_at, /^\d{4}-/);

        expectFault(await prov({ target: 'clean' }), 400, '"clean_steps" is required when setting target provision state to clean');
        expectFault(
          await prov({ target: 'provide', clean_steps: [{ interface: 'bios', step: 'factory_reset' }] }),
          400,
          '"clean_steps" is only valid when setting target provision state to clean',
        );
        expectEmpty(await prov({ target: 'clean', clean_steps: [{ interface: 'bios', step: 'factory_reset' }] }), 202);
        s = await settled(u);
        assert.equal(s.provision_state, 'manageable');
        assert.equal(s.last_error, null);

        // a step the fake driver lacks: clean failed, target kept, last_error says why
        const step = { interface: 'raid', step: 'delete_configuration' };
        expectEmpty(await prov({ target: 'clean', clean_steps: [step] }), 202);
        s = await waitFor('clean failed', async () => {
          const x = await c.get(`/v1/nodes/${u}?fields=provision_state,target_provision_state,last_error,reservation`);
          return x.json.provision_state === 'clean failed' && x.json.reservation === null ? x.json : undefined;
        });
        assert.equal(s.target_provision_state, 'manageable');
        assert.equal(s.last_error, `Cannot clean node ${u}: node does not support this clean step: {'interface': 'raid', 'step': 'delete_configuration'}`);
        expectFault(
          await prov({ target: 'clean', clean_steps: [step] }),
          400,
          `The requested action "clean" can not be performed on node "${u}" while it is in state "clean failed".`,
        );
        expectEmpty(await prov({ target: 'manage' }), 202);
        s = await settled(u);
        assert.equal(s.provision_state, 'manageable');
        assert.match(s.last_error, /^Cannot clean node /, 'manage keeps last_error');

        expectEmpty(await prov({ target: 'adopt' }), 202);
        s = await settled(u);
        assert.equal(s.provision_state, 'active');
        assert.equal(s.last_error, null);

        expectFault(
          await prov({ target: 'rescue' }),
          400,
          'A non-empty "rescue_password" is required when setting target provision state to rescue',
        );
        expectFault(
          await prov({ target: 'deploy', rescue_password: 'x' }),
          400,
          `The requested action "deploy" can not be performed on node "${u}" while it is in state "active".`,
        );
        expectEmpty(await prov({ target: 'rescue', rescue_password: 'secret' }), 202);
        assert.equal((await settled(u)).provision_state, 'rescue');
        expectEmpty(await prov({ target: 'unrescue' }), 202);
        assert.equal((await settled(u)).provision_state, 'active');
        expectEmpty(await prov({ target: 'rebuild' }), 202);
        assert.equal((await settled(u)).provision_state, 'active');
        expectFault(
          await prov({ target: 'abort' }),
          400,
          `The requested action "abort" can not be performed on node "${u}" while it is in state "active".`,
        );
        expectFault(
          await prov({ target: 'bogus' }),
          400,
          `The requested action "bogus" can not be performed on node "${u}" while it is in state "active".`,
        );
        expectEmpty(await prov({ target: 'undeploy' }), 202);
        assert.equal((await settled(u)).provision_state, 'available');
        f = (await c.get(`/v1/nodes/${u}?fields=instance_uuid,instance_info`)).json;
        assert.equal(f.instance_uuid, null);
        assert.deepEqual(f.instance_info, {});
      });

      it('refuses to delete an associated node, and to provision in maintenance', async () => {
        const n = await newNode('assoc');
        const inst = randomUUID();
        let r = await c.patch(`/v1/nodes/${n.uuid}`, [{ op: 'add', path: '/instance_uuid', value: inst }]);
        expectStatus(r, 200);
        assert.equal(r.json.instance_uuid, inst);
        expectFault(await c.del(`/v1/nodes/${n.uuid}`), 409, `Node ${n.uuid} is associated with instance ${inst}.`);
        const other = await newNode('assoc2');
        expectFault(
          await c.patch(`/v1/nodes/${other.uuid}`, [{ op: 'add', path: '/instance_uuid', value: inst }]),
          409,
          `Instance ${inst} is already associated with a node, it cannot be associated with this other node ${other.uuid}`,
        );
        const list = await c.get(`/v1/nodes?instance_uuid=${inst}&limit=1`);
        assert.deepEqual(list.json.nodes.map((x: any) => x.uuid), [n.uuid]);
        assert.equal(list.json.next, undefined, 'an instance_uuid lookup never has next');
        r = await c.patch(`/v1/nodes/${n.uuid}`, [{ op: 'remove', path: '/instance_uuid' }]);
        expectStatus(r, 200);
        assert.equal(r.json.instance_uuid, null);
        expectEmpty(await c.put(`/v1/nodes/${n.uuid}/maintenance`, { reason: 'r' }), 202);
        expectFault(
          await c.put(`/v1/nodes/${n.uuid}/states/provision`, { target: 'active' }),
          400,
          `The provisioning operation can't be performed on node ${n.uuid} because it's in maintenance mode.`,
        );
      });

      it('sets power states (in the default group)', async () => {
        const n = await newNode('power', { conductor_group: defaultGroup });
        assert.equal(n.conductor_group, defaultGroup);
        const pw = (target: string, version = 'latest'): Promise<Res> =>
          c.put(`/v1/nodes/${n.uuid}/states/power`, { target }, { version });
        let r = await pw('power on');
        expectEmpty(r, 202);
        assert.equal(r.headers.get('location'), `${base}/v1/nodes/${n.uuid}/states`);
        await waitFor('power on', async () => {
          const s = await c.get(`/v1/nodes/${n.uuid}/states`);
          return s.json.power_state === 'power on' && s.json.target_power_state === null ? true : undefined;
        });
        expectEmpty(await pw('power off'), 202);
        await waitFor('power off', async () => {
          const s = await c.get(`/v1/nodes/${n.uuid}?fields=power_state,target_power_state`);
          return s.json.power_state === 'power off' && s.json.target_power_state === null ? true : undefined;
        });
        r = await pw('bogus');
        expectFault(r, 400, `The requested action "bogus" can not be performed on node "${n.uuid}" while it is in state "power off".`);
        expectFault(await pw('soft power off', '1.26'), 406, 'Request not acceptable.');
      });
    });

    // ------------------------------------------------- node sub-resources

    describe('sub-resources', () => {
      it('traits', async () => {
        const n = await newNode('traits');
        const p = `/v1/nodes/${n.uuid}/traits`;
        let r = await c.get(p);
        expectStatus(r, 200);
        assert.deepEqual(r.json, { traits: [] });
        r = await c.put(`${p}/CUSTOM_A`, undefined);
        expectEmpty(r, 204);
        assert.equal(r.headers.get('location'), `${base}/v1/nodes/${n.uuid}/traits/CUSTOM_A`);
        expectEmpty(await c.put(p, { traits: ['HW_CPU_X86_AVX', 'CUSTOM_B'] }), 204);
        assert.deepEqual((await c.get(p)).json, { traits: ['CUSTOM_B', 'HW_CPU_X86_AVX'] });
        assert.deepEqual((await c.get(`/v1/nodes/${n.uuid}?fields=traits`)).json.traits, ['CUSTOM_B', 'HW_CPU_X86_AVX']);
        expectFault(await c.del(`${p}/CUSTOM_X`), 404, `Node ${n.uuid} doesn't have a trait 'CUSTOM_X'`);
        expectEmpty(await c.del(`${p}/CUSTOM_B`), 204);
        assert.deepEqual((await c.get(p)).json, { traits: ['HW_CPU_X86_AVX'] });
        expectFault(
          await c.put(`${p}/bogus`, undefined),
          400,
          "Schema error for trait: 'bogus' is not valid under any of the given schemas. Possible root cause: 'bogus' does not match '^CUSTOM_[A-Z0-9_]+$'",
        );
        expectFault(
          await c.put(p, { traits: ['custom_a'] }),
          400,
          "Schema error for body: 'custom_a' is not valid under any of the given schemas. Possible root cause: 'custom_a' does not match '^CUSTOM_[A-Z0-9_]+$'",
        );
        expectFault(await c.get(p, { version: '1.36' }), 406, 'Request not acceptable.');
        expectEmpty(await c.del(p), 204);
        assert.deepEqual((await c.get(p)).json, { traits: [] });
      });

      it('vifs (noop network)', async () => {
        const n = await newNode('vifs');
        const p = `/v1/nodes/${n.uuid}/vifs`;
        assert.deepEqual((await c.get(p)).json, { vifs: [] });
        expectEmpty(await c.post(p, { id: 'vif-1' }), 204);
        expectFault(await c.post(p, {}), 400, "Schema error for vif: 'id' is a required property");
        expectEmpty(await c.del(`${p}/vif-1`), 204);
        expectRouting(await c.get(p, { version: '1.27' }), 404, '');
      });

      it('maintenance', async () => {
        const n = await newNode('maint');
        expectEmpty(await c.put(`/v1/nodes/${n.uuid}/maintenance`, { reason: 'broken fan' }), 202);
        let r = await c.get(`/v1/nodes/${n.uuid}?fields=maintenance,maintenance_reason`);
        assert.deepEqual(r.json, { maintenance: true, maintenance_reason: 'broken fan', links: linkPair(base, n.uuid) });
        expectEmpty(await c.del(`/v1/nodes/${n.uuid}/maintenance`), 202);
        r = await c.get(`/v1/nodes/${n.uuid}?fields=maintenance,maintenance_reason`);
        assert.equal(r.json.maintenance, false);
        assert.equal(r.json.maintenance_reason, null);
      });

      it('boot device, validate, console, vendor methods (in the default group)', async () => {
        const n = await newNode('mgmt', { conductor_group: defaultGroup });
        assert.equal(n.conductor_group, defaultGroup);
        const p = `/v1/nodes/${n.uuid}`;
        assert.deepEqual((await c.get(`${p}/management/boot_device`)).json, { boot_device: 'pxe', persistent: false });
        assert.deepEqual((await c.get(`${p}/management/boot_device/supported`)).json, { supported_boot_devices: ['pxe'] });
        expectFault(await c.put(`${p}/management/boot_device`, { boot_device: 'disk' }), 400, 'Invalid boot device disk specified.');
        expectEmpty(await c.put(`${p}/management/boot_device`, { boot_device: 'pxe' }), 204);
        const v = await c.get(`${p}/validate`);
        expectStatus(v, 200);
        assert.deepEqual(Object.keys(v.json), ['boot', 'deploy', 'management', 'network', 'power', 'bios', 'console', 'inspect', 'raid', 'rescue', 'storage']);
        assert.deepEqual(v.json.power, { result: true });
        assert.deepEqual((await c.get(`${p}/states/console`)).json, { console_enabled: false, console_info: null });
        const m = await c.get(`${p}/vendor_passthru/methods`);
        expectStatus(m, 200);
        assert.deepEqual(Object.keys(m.json).sort(), ['fourth_method_shared_lock', 'second_method', 'third_method_sync']);
      });

      it('bios, history and inventory, with their version gates', async () => {
        const n = await newNode('misc');
        const p = `/v1/nodes/${n.uuid}`;
        assert.deepEqual((await c.get(`${p}/bios`)).json, { bios: [] });
        expectFault(await c.get(`${p}/bios/foo`), 404, `Node ${n.uuid} doesn't have a BIOS setting 'foo'`);
        expectRouting(await c.get(`${p}/bios`, { version: '1.39' }), 404, '');
        assert.deepEqual((await c.get(`${p}/history`)).json, { history: [] });
        expectRouting(await c.get(`${p}/history`, { version: '1.77' }), 404, '');
        expectFault(await c.get(`${p}/inventory`), 404, /^Node inventory record for node \d+ could not be found\.$/);
        expectRouting(await c.get(`${p}/inventory`, { version: '1.80' }), 404, '');
      });
    });

    // keep the helper referenced for targets that only run parts of the suite
    void expectError;
  });
}
