/**
 * The resource contract: what an endpoint claiming to be Ironic 21.4 (API
 * 1.82) must do for everything but the node itself — ports, portgroups,
 * chassis, deploy templates, allocations, volume connectors and targets,
 * drivers, conductors, shards, events and the node sub-resources that touch
 * them. Run against a simulator site and a real Ironic with the same
 * expectations (test/contract/{sim,real}.resources.contract.test.ts), so the
 * simulator cannot drift. Structure and texts are compared; volatile values
 * (uuids, timestamps, host names) are not.
 *
 * The target serves a named conductor group (the suite creates its nodes
 * there) and should hold no ports, portgroups, chassis, templates,
 * allocations or volume objects of its own.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { Client, expectFault, expectRouting, expectStatus, waitFor, type Res } from './http.js';

export interface ResourceTarget {
  url: string;
  /**
   * 'real' or 'sim': where the simulator deliberately differs from Ironic
   * 21.4 (README, "The simulator"), each side is held to its own answer.
   */
  kind: 'real' | 'sim';
  /** A conductor group the target serves ('' allowed). */
  group: string;
  cleanup(): Promise<void>;
}

const PORT_KEYS = [
  'uuid', 'created_at', 'updated_at', 'address', 'extra', 'internal_info', 'is_smartnic', 'local_link_connection',
  'physical_network', 'pxe_enabled', 'node_uuid', 'links', 'portgroup_uuid',
];
const PORTGROUP_KEYS = [
  'uuid', 'created_at', 'updated_at', 'address', 'extra', 'internal_info', 'mode', 'name', 'properties',
  'standalone_ports_supported', 'node_uuid', 'links', 'ports',
];
const CHASSIS_KEYS = ['uuid', 'created_at', 'updated_at', 'description', 'extra', 'links', 'nodes'];
const TEMPLATE_KEYS = ['uuid', 'created_at', 'updated_at', 'name', 'extra', 'links', 'steps'];
const ALLOCATION_KEYS = [
  'uuid', 'created_at', 'updated_at', 'candidate_nodes', 'extra', 'last_error', 'name', 'owner', 'resource_class',
  'state', 'traits', 'links', 'node_uuid',
];
const CONNECTOR_KEYS = ['uuid', 'created_at', 'updated_at', 'connector_id', 'extra', 'type', 'links', 'node_uuid'];
const TARGET_KEYS = ['uuid', 'created_at', 'updated_at', 'boot_index', 'extra', 'properties', 'volume_id', 'volume_type', 'links', 'node_uuid'];

const STEP = { interface: 'bios', step: 'apply_configuration', args: {}, priority: 100 };

function mac(): string {
  const b = randomUUID().replace(/-/g, '').slice(0, 10);
  return `52:54:${b.slice(0, 2)}:${b.slice(2, 4)}:${b.slice(4, 6)}:${b.slice(6, 8)}`;
}

function links(base: string, resource: string, args: string): Array<{ href: string; rel: string }> {
  return [
    { href: `${base}/v1/${resource}/${args}`, rel: 'self' },
    { href: `${base}/${resource}/${args}`, rel: 'bookmark' },
  ];
}

export function defineResourceContract(label: string, getTarget: () => Promise<ResourceTarget>): void {
  describe(`resource contract: ${label}`, () => {
    let t: ResourceTarget;
    let c: Client;
    let base: string;
    const prefix = `rc${randomUUID().slice(0, 6)}`;
    const nodes: string[] = [];
    /** A node in enroll, named `${prefix}-a`, and one made available with resource class `${prefix}-rc`. */
    let nodeA: { uuid: string; name: string };
    let nodeB: { uuid: string; name: string };

    async function createNode(body: Record<string, unknown>): Promise<Res> {
      const r = await c.post('/v1/nodes', { driver: 'fake-hardware', conductor_group: t.group, ...body });
      expectStatus(r, 201);
      nodes.push(r.json.uuid);
      return r;
    }

    async function provision(uuid: string, target: string, stable: string): Promise<void> {
      expectStatus(await c.put(`/v1/nodes/${uuid}/states/provision`, { target }), 202);
      await waitFor(`${uuid} to reach ${stable}`, async () => {
        const r = await c.get(`/v1/nodes/${uuid}?fields=provision_state,target_provision_state`);
        return r.json.provision_state === stable && r.json.target_provision_state === null ? true : undefined;
      });
    }

    before(async () => {
      t = await getTarget();
      c = new Client(t.url);
      base = t.url;
      const a = await createNode({ name: `${prefix}-a` });
      nodeA = { uuid: a.json.uuid, name: a.json.name };
      const b = await createNode({ name: `${prefix}-b`, resource_class: `${prefix}-rc` });
      nodeB = { uuid: b.json.uuid, name: b.json.name };
      await provision(nodeB.uuid, 'manage', 'manageable');
      await provision(nodeB.uuid, 'provide', 'available');
      // an allocation only takes a node whose power state is known
      expectStatus(await c.put(`/v1/nodes/${nodeB.uuid}/states/power`, { target: 'power off' }), 202);
      await waitFor('the power state', async () => ((await c.get(`/v1/nodes/${nodeB.uuid}?fields=power_state`)).json.power_state === 'power off' ? true : undefined));
    });

    after(async () => {
      if (!c) return;
      for (const a of (await c.get('/v1/allocations')).json?.allocations ?? []) await c.del(`/v1/allocations/${a.uuid}`);
      for (const uuid of nodes) {
        await c.put(`/v1/nodes/${uuid}/maintenance`, { reason: 'contract cleanup' });
        await c.del(`/v1/nodes/${uuid}`);
      }
      for (const ch of (await c.get('/v1/chassis')).json?.chassis ?? []) await c.del(`/v1/chassis/${ch.uuid}`);
      for (const d of (await c.get('/v1/deploy_templates')).json?.deploy_templates ?? []) await c.del(`/v1/deploy_templates/${d.uuid}`);
      await t.cleanup();
    });

    describe('ports', () => {
      let port: Record<string, any>;
      const address = mac();

      it('create: 201, Location, the full port in Ironic key order', async () => {
        const r = await c.post('/v1/ports', { node_uuid: nodeA.uuid, address: address.toUpperCase(), extra: { a: 1 } });
        expectStatus(r, 201);
        port = r.json;
        assert.deepEqual(Object.keys(port), PORT_KEYS);
        assert.equal(port.address, address, 'the address is lower-cased');
        assert.equal(port.node_uuid, nodeA.uuid);
        assert.equal(port.pxe_enabled, true);
        assert.equal(port.is_smartnic, false);
        assert.equal(port.physical_network, null);
        assert.equal(port.portgroup_uuid, null);
        assert.deepEqual(port.local_link_connection, {});
        assert.deepEqual(port.internal_info, {});
        assert.equal(port.updated_at, null);
        assert.deepEqual(port.links, links(base, 'ports', port.uuid));
        assert.equal(r.headers.get('location'), `${base}/v1/ports/${port.uuid}`);
      });

      it('a MAC address is unique: 409', async () => {
        expectFault(await c.post('/v1/ports', { node_uuid: nodeB.uuid, address }), 409, `A port with MAC address ${address} already exists.`);
      });

      it('create errors: schema, MAC, missing node', async () => {
        expectFault(await c.post('/v1/ports', { node_uuid: nodeA.uuid }), 400, "Schema error for port: 'address' is a required property");
        expectFault(
          await c.post('/v1/ports', { node_uuid: nodeA.uuid, address: mac(), bogus: 1 }),
          400,
          "Schema error for port: Additional properties are not allowed ('bogus' was unexpected)",
        );
        expectFault(await c.post('/v1/ports', { node_uuid: nodeA.uuid, address: 'zz' }), 400, 'Expected valid MAC address for address: zz');
        expectFault(await c.post('/v1/ports', { node_uuid: nodeA.uuid, address: 5 }), 400, "Schema error for port: 5 is not of type 'string'");
        const ghost = randomUUID();
        expectFault(await c.post('/v1/ports', { node_uuid: ghost, address: mac() }), 400, `Node ${ghost} could not be found.`);
      });

      it('show, fields, and the errors of a show', async () => {
        const r = await c.get(`/v1/ports/${port.uuid}`);
        expectStatus(r, 200);
        assert.deepEqual(r.json, port);
        const f = await c.get(`/v1/ports/${port.uuid}?fields=address,node_uuid`);
        assert.deepEqual(Object.keys(f.json), ['address', 'node_uuid', 'links']);
        expectFault(await c.get(`/v1/ports/${port.uuid}?fields=bogus`), 400, 'Field(s) "bogus" are not valid');
        expectFault(await c.get('/v1/ports/nope'), 400, 'Expected UUID for port_uuid: nope');
        const ghost = randomUUID();
        expectFault(await c.get(`/v1/ports/${ghost}`), 404, `Port ${ghost} could not be found.`);
        const old = await c.get(`/v1/ports/${port.uuid}`, { version: '1.33' });
        assert.ok(!('physical_network' in old.json) && 'portgroup_uuid' in old.json);
        expectFault(await c.get(`/v1/ports/${port.uuid}?fields=physical_network`, { version: '1.33' }), 406, 'Request not acceptable.');
      });

      it('list: default fields, filters, limit and next, detail', async () => {
        const second = await c.post('/v1/ports', { node_uuid: nodeB.uuid, address: mac() });
        expectStatus(second, 201);
        const l = await c.get('/v1/ports');
        expectStatus(l, 200);
        assert.deepEqual(Object.keys(l.json), ['ports']);
        assert.deepEqual(Object.keys(l.json.ports[0]), ['uuid', 'address', 'links']);
        const byNode = await c.get(`/v1/ports?node=${nodeA.name}`);
        assert.deepEqual(byNode.json.ports.map((p: any) => p.uuid), [port.uuid]);
        const byAddr = await c.get(`/v1/ports?address=${address}`);
        assert.deepEqual(byAddr.json.ports.map((p: any) => p.uuid), [port.uuid]);
        const one = await c.get('/v1/ports?limit=1');
        assert.equal(one.json.ports.length, 1);
        // the default fields are the listing's fields, and the next link says so
        assert.equal(one.json.next, `${base}/v1/ports?sort_key=id&sort_dir=asc&fields=uuid,address&limit=1&marker=${one.json.ports[0].uuid}`);
        const withFields = await c.get('/v1/ports?limit=1&fields=address');
        // the marker is the item's uuid even when the fields asked for leave it out
        assert.equal(withFields.json.next, `${base}/v1/ports?sort_key=id&sort_dir=asc&fields=address&limit=1&marker=${one.json.ports[0].uuid}`);
        const detail = await c.get('/v1/ports/detail?limit=1');
        assert.deepEqual(Object.keys(detail.json.ports[0]), PORT_KEYS);
        assert.equal(detail.json.next, `${base}/v1/ports/detail?sort_key=id&sort_dir=asc&limit=1&marker=${detail.json.ports[0].uuid}`);
        const det = await c.get('/v1/ports?detail=true&limit=1');
        assert.equal(det.json.next, `${base}/v1/ports?sort_key=id&sort_dir=asc&detail=True&limit=1&marker=${det.json.ports[0].uuid}`);
        expectFault(await c.get('/v1/ports?sort_key=extra'), 400, 'The sort_key value extra is an invalid field for sorting');
        expectFault(await c.get('/v1/ports?limit=0'), 400, 'Limit must be positive');
        expectFault(await c.get('/v1/ports?bogus=1'), 400, 'Unexpected arguments: bogus');
        expectFault(await c.get('/v1/ports?fields=address&detail=true'), 400, 'Can not specify ?detail=True and fields in the same request.');
        const ghost = randomUUID();
        expectFault(await c.get(`/v1/ports?marker=${ghost}`), 404, `Port ${ghost} could not be found.`);
        expectFault(await c.get(`/v1/ports?node=${ghost}`), 404, `Node ${ghost} could not be found.`);
        expectFault(await c.get(`/v1/ports?node=${nodeA.uuid}&portgroup=x`), 403, 'Operation not permitted.');
      });

      it('the node sub-resource lists the node\'s ports and refuses writes', async () => {
        const r = await c.get(`/v1/nodes/${nodeA.uuid}/ports`);
        expectStatus(r, 200);
        assert.deepEqual(r.json.ports.map((p: any) => p.uuid), [port.uuid]);
        const d = await c.get(`/v1/nodes/${nodeA.uuid}/ports/detail`);
        assert.deepEqual(Object.keys(d.json.ports[0]), PORT_KEYS);
        expectFault(await c.post(`/v1/nodes/${nodeA.uuid}/ports`, { node_uuid: nodeA.uuid, address: mac() }), 403, 'Operation not permitted.');
        // check_port_list_policy reads the parent node by UUID only, and words a miss as a portgroup's
        expectFault(await c.get(`/v1/nodes/${nodeA.name}/ports`), 404, 'Portgroup None could not be found.');
        expectFault(await c.get(`/v1/nodes/${randomUUID()}/ports`), 404, 'Portgroup None could not be found.');
      });

      it('patch: allowed fields, the result, conflicts', async () => {
        const r = await c.patch(`/v1/ports/${port.uuid}`, [{ op: 'add', path: '/extra/b', value: 'x' }, { op: 'replace', path: '/physical_network', value: 'physnet1' }]);
        expectStatus(r, 200);
        assert.deepEqual(r.json.extra, { a: 1, b: 'x' });
        assert.equal(r.json.physical_network, 'physnet1');
        assert.notEqual(r.json.updated_at, null);
        expectFault(
          await c.patch(`/v1/ports/${port.uuid}`, [{ op: 'replace', path: '/internal_info', value: {} }]),
          400,
          'Cannot patch /internal_info. Only the following can be updated: address, extra, is_smartnic, local_link_connection, node_uuid, physical_network, portgroup_uuid, pxe_enabled',
        );
        const other = (await c.get(`/v1/ports?node=${nodeB.uuid}`)).json.ports[0];
        expectFault(await c.patch(`/v1/ports/${port.uuid}`, [{ op: 'replace', path: '/address', value: other.address }]), 409, `A port with MAC address ${other.address} already exists.`);
      });

      it('delete: 204, then 404', async () => {
        const other = (await c.get(`/v1/ports?node=${nodeB.uuid}`)).json.ports[0];
        expectStatus(await c.del(`/v1/ports/${other.uuid}`), 204);
        expectFault(await c.get(`/v1/ports/${other.uuid}`), 404, `Port ${other.uuid} could not be found.`);
      });
    });

    describe('portgroups', () => {
      let pg: Record<string, any>;

      it('create: 201, the full portgroup in Ironic key order', async () => {
        const r = await c.post('/v1/portgroups', { node_uuid: nodeA.uuid, name: `${prefix}-pg`, address: mac() });
        expectStatus(r, 201);
        pg = r.json;
        assert.deepEqual(Object.keys(pg), PORTGROUP_KEYS);
        assert.equal(pg.mode, 'active-backup');
        assert.equal(pg.standalone_ports_supported, true);
        assert.deepEqual(pg.links, links(base, 'portgroups', pg.uuid));
        assert.deepEqual(pg.ports, links(base, 'portgroups', `${pg.uuid}/ports`));
        assert.equal(r.headers.get('location'), `${base}/v1/portgroups/${pg.uuid}`);
      });

      it('a name is unique: 409; a bad name is a 400', async () => {
        expectFault(await c.post('/v1/portgroups', { node_uuid: nodeA.uuid, name: pg.name }), 409, `A portgroup with name ${pg.name} already exists.`);
        expectFault(await c.post('/v1/portgroups', { node_uuid: nodeA.uuid, name: 'a b' }), 400, "Cannot create portgroup with invalid name 'a b'");
        expectFault(await c.post('/v1/portgroups', { name: 'x' }), 400, "Schema error for portgroup: 'node_uuid' is a required property");
      });

      it('show by name, list, its ports; a portgroup with ports is not deleted', async () => {
        const s = await c.get(`/v1/portgroups/${pg.name}`);
        expectStatus(s, 200);
        assert.equal(s.json.uuid, pg.uuid);
        const l = await c.get('/v1/portgroups');
        assert.deepEqual(Object.keys(l.json.portgroups[0]), ['uuid', 'address', 'name', 'links']);
        const p = await c.post('/v1/ports', { node_uuid: nodeA.uuid, address: mac(), portgroup_uuid: pg.uuid });
        expectStatus(p, 201);
        assert.equal(p.json.portgroup_uuid, pg.uuid);
        const members = await c.get(`/v1/portgroups/${pg.uuid}/ports`);
        assert.deepEqual(members.json.ports.map((x: any) => x.uuid), [p.json.uuid]);
        const nodePgs = await c.get(`/v1/nodes/${nodeA.uuid}/portgroups`);
        assert.deepEqual(nodePgs.json.portgroups.map((x: any) => x.uuid), [pg.uuid]);
        const busy = await c.del(`/v1/portgroups/${pg.uuid}`);
        if (t.kind === 'real') {
          // 21.4 on SQLite: its not-empty check misses and the foreign key refuses (a deliberate difference)
          expectFault(busy, 500, /^\(sqlite3\.IntegrityError\) FOREIGN KEY constraint failed/);
        } else {
          expectFault(busy, 400, /^Cannot complete the requested action because portgroup \d+ contains ports\.$/);
        }
        expectFault(
          await c.post('/v1/ports', { node_uuid: nodeB.uuid, address: mac(), portgroup_uuid: pg.uuid }),
          500,
          'Port can not be added to a portgroup belonging to a different node.',
        );
        expectStatus(await c.del(`/v1/ports/${p.json.uuid}`), 204);
        expectStatus(await c.del(`/v1/portgroups/${pg.uuid}`), 204);
        expectFault(await c.get(`/v1/portgroups/${pg.name}`), 404, `Portgroup ${pg.name} could not be found.`);
      });

      it('below 1.23 there are no portgroups', async () => {
        expectFault(await c.get('/v1/portgroups', { version: '1.22' }), 404, 'Resource could not be found.');
      });
    });

    describe('chassis', () => {
      let ch: Record<string, any>;

      it('create: 201, the chassis in Ironic key order (nodes links in a nested list)', async () => {
        const r = await c.post('/v1/chassis', { description: `${prefix} rack`, extra: { row: 3 } });
        expectStatus(r, 201);
        ch = r.json;
        assert.deepEqual(Object.keys(ch), CHASSIS_KEYS);
        assert.deepEqual(ch.links, links(base, 'chassis', ch.uuid));
        assert.deepEqual(ch.nodes, [links(base, 'chassis', `${ch.uuid}/nodes`)]);
        assert.equal(r.headers.get('location'), `${base}/v1/chassis/${ch.uuid}`);
        expectFault(await c.post('/v1/chassis', { uuid: ch.uuid }), 409, `A chassis with UUID ${ch.uuid} already exists.`);
        expectFault(await c.post('/v1/chassis', { description: 'x'.repeat(256) }), 400, /^Schema error for chassis: 'x+' is too long$/);
      });

      it('list, show, patch', async () => {
        const l = await c.get('/v1/chassis');
        assert.deepEqual(Object.keys(l.json.chassis[0]), ['uuid', 'description', 'links']);
        const d = await c.get('/v1/chassis/detail');
        assert.deepEqual(Object.keys(d.json.chassis[0]), CHASSIS_KEYS);
        const p = await c.patch(`/v1/chassis/${ch.uuid}`, [{ op: 'replace', path: '/description', value: 'moved' }]);
        expectStatus(p, 200);
        assert.equal(p.json.description, 'moved');
        expectFault(await c.get('/v1/chassis/nope'), 400, 'Expected UUID for chassis_uuid: nope');
        const ghost = randomUUID();
        expectFault(await c.get(`/v1/chassis/${ghost}`), 404, `Chassis ${ghost} could not be found.`);
      });

      it('a node in the chassis: its chassis_uuid, the chassis\'s nodes, no delete while it is there', async () => {
        const n = await createNode({ name: `${prefix}-c`, chassis_uuid: ch.uuid });
        assert.equal(n.json.chassis_uuid, ch.uuid);
        const listed = await c.get(`/v1/chassis/${ch.uuid}/nodes`);
        expectStatus(listed, 200);
        assert.deepEqual(listed.json.nodes.map((x: any) => x.uuid), [n.json.uuid]);
        const filtered = await c.get(`/v1/nodes?chassis_uuid=${ch.uuid}`);
        assert.deepEqual(filtered.json.nodes.map((x: any) => x.uuid), [n.json.uuid]);
        expectFault(await c.del(`/v1/chassis/${ch.uuid}`), 400, `Cannot complete the requested action because chassis ${ch.uuid} contains nodes.`);
        const ghost = randomUUID();
        expectFault(await c.post('/v1/nodes', { driver: 'fake-hardware', conductor_group: t.group, chassis_uuid: ghost }), 400, `Chassis ${ghost} could not be found.`);
        const moved = await c.patch(`/v1/nodes/${n.json.uuid}`, [{ op: 'remove', path: '/chassis_uuid' }]);
        expectStatus(moved, 200);
        assert.equal(moved.json.chassis_uuid, null);
        expectStatus(await c.del(`/v1/chassis/${ch.uuid}`), 204);
      });
    });

    describe('deploy templates', () => {
      it('create, duplicate name, bad name, list, show by name, delete', async () => {
        const name = `CUSTOM_${prefix.toUpperCase()}`;
        const r = await c.post('/v1/deploy_templates', { name, steps: [STEP] });
        expectStatus(r, 201);
        assert.deepEqual(Object.keys(r.json), TEMPLATE_KEYS);
        assert.deepEqual(r.json.steps, [STEP]);
        assert.equal(r.headers.get('location'), `${base}/v1/deploy_templates/${r.json.uuid}`);
        expectFault(await c.post('/v1/deploy_templates', { name, steps: [STEP] }), 409, `A deploy template with name ${name} already exists.`);
        expectFault(
          await c.post('/v1/deploy_templates', { name: 'lower', steps: [STEP] }),
          400,
          "Schema error for template: 'lower' is not valid under any of the given schemas. Possible root cause: 'lower' does not match '^CUSTOM_[A-Z0-9_]+$'",
        );
        expectFault(await c.post('/v1/deploy_templates', { name: `${name}_B` }), 400, "Schema error for template: 'steps' is a required property");
        const l = await c.get('/v1/deploy_templates');
        assert.deepEqual(Object.keys(l.json.deploy_templates[0]), ['uuid', 'name', 'links']);
        const s = await c.get(`/v1/deploy_templates/${name}`);
        assert.equal(s.json.uuid, r.json.uuid);
        expectStatus(await c.del(`/v1/deploy_templates/${name}`), 204);
        expectFault(await c.get(`/v1/deploy_templates/${name}`), 404, `Deploy template ${name} could not be found.`);
      });

      it('below 1.55: GET 404, POST 405, saying why', async () => {
        expectRouting(await c.get('/v1/deploy_templates', { version: '1.54' }), 404, 'The API version does not allow deploy templates');
        expectRouting(await c.post('/v1/deploy_templates', {}, { version: '1.54' }), 405, 'The API version does not allow deploy templates');
      });
    });

    describe('allocations', () => {
      it('an allocation of the available node\'s resource class becomes active on it', async () => {
        const r = await c.post('/v1/allocations', { resource_class: `${prefix}-rc`, name: `${prefix}-alloc` });
        expectStatus(r, 201);
        assert.deepEqual(Object.keys(r.json), ALLOCATION_KEYS);
        assert.equal(r.json.state, 'allocating');
        assert.equal(r.headers.get('location'), `${base}/v1/allocations/${r.json.uuid}`);
        const done = await waitFor('the allocation to settle', async () => {
          const a = await c.get(`/v1/allocations/${r.json.uuid}`);
          return a.json.state === 'allocating' ? undefined : a.json;
        });
        assert.equal(done.state, 'active');
        assert.equal(done.node_uuid, nodeB.uuid);
        const n = await c.get(`/v1/nodes/${nodeB.uuid}?fields=allocation_uuid,instance_uuid`);
        assert.equal(n.json.allocation_uuid, r.json.uuid);
        assert.equal(n.json.instance_uuid, r.json.uuid);
        const sub = await c.get(`/v1/nodes/${nodeB.uuid}/allocation`);
        assert.equal(sub.json.uuid, r.json.uuid);
        const byName = await c.get(`/v1/allocations/${prefix}-alloc`);
        assert.equal(byName.json.uuid, r.json.uuid);
        const l = await c.get(`/v1/allocations?node=${nodeB.name}`);
        assert.deepEqual(l.json.allocations.map((a: any) => a.uuid), [r.json.uuid]);
        expectStatus(await c.del(`/v1/nodes/${nodeB.uuid}/allocation`), 204);
        expectFault(await c.get(`/v1/nodes/${nodeB.uuid}/allocation`), 404, `Allocation for node ${nodeB.uuid} was not found`);
        const freed = await c.get(`/v1/nodes/${nodeB.uuid}?fields=allocation_uuid,instance_uuid`);
        assert.equal(freed.json.allocation_uuid, null);
        assert.equal(freed.json.instance_uuid, null);
      });

      it('no matching node: the allocation ends in error, saying why', async () => {
        const r = await c.post('/v1/allocations', { resource_class: `${prefix}-none` });
        expectStatus(r, 201);
        const done = await waitFor('the allocation to fail', async () => {
          const a = await c.get(`/v1/allocations/${r.json.uuid}`);
          return a.json.state === 'allocating' ? undefined : a.json;
        });
        assert.equal(done.state, 'error');
        assert.equal(done.last_error, `Failed to process allocation ${r.json.uuid}: no available nodes match the resource class ${prefix}-none.`);
        const traits = await c.post('/v1/allocations', { resource_class: `${prefix}-rc`, traits: ['CUSTOM_NOPE'] });
        const failed = await waitFor('the allocation to fail', async () => {
          const a = await c.get(`/v1/allocations/${traits.json.uuid}`);
          return a.json.state === 'allocating' ? undefined : a.json;
        });
        assert.equal(failed.last_error, `Failed to process allocation ${traits.json.uuid}: no suitable nodes have the requested traits CUSTOM_NOPE.`);
      });

      it('create errors and gates', async () => {
        expectFault(await c.post('/v1/allocations', {}), 400, 'The resource_class field is mandatory when not backfilling');
        expectFault(await c.post('/v1/allocations', { resource_class: 'x', candidate_nodes: ['nope-node'] }), 400, 'Nodes cannot be found: nope-node');
        expectFault(await c.post('/v1/allocations', { resource_class: 'x', node: nodeA.uuid }, { version: '1.57' }), 400, 'Cannot set node when creating an allocation in this API version');
        expectRouting(await c.get('/v1/allocations', { version: '1.51' }), 404, 'The API version does not allow allocations');
        const ghost = randomUUID();
        expectFault(await c.get(`/v1/allocations/${ghost}`), 404, `Allocation ${ghost} could not be found.`);
        const l = await c.get('/v1/allocations?limit=1');
        assert.equal(l.json.next, `${base}/v1/allocations?sort_key=id&sort_dir=asc&limit=1&marker=${l.json.allocations[0].uuid}`);
      });
    });

    describe('volume', () => {
      it('the volume root lists its links', async () => {
        const r = await c.get('/v1/volume');
        expectStatus(r, 200);
        assert.deepEqual(r.json, {
          links: [{ href: `${base}/v1/volume/`, rel: 'self' }, { href: `${base}/volume/`, rel: 'bookmark' }],
          connectors: [{ href: `${base}/v1/volume/connectors`, rel: 'self' }, { href: `${base}/volume/connectors`, rel: 'bookmark' }],
          targets: [{ href: `${base}/v1/volume/targets`, rel: 'self' }, { href: `${base}/volume/targets`, rel: 'bookmark' }],
        });
      });

      it('connectors: create, unique (type, connector_id), list, the node\'s, delete needs power off', async () => {
        const body = { node_uuid: nodeA.uuid, type: 'iqn', connector_id: `iqn.2024-01.${prefix}` };
        const r = await c.post('/v1/volume/connectors', body);
        expectStatus(r, 201);
        assert.deepEqual(Object.keys(r.json), CONNECTOR_KEYS);
        assert.deepEqual(r.json.links, links(base, 'volume/connectors', r.json.uuid));
        expectFault(await c.post('/v1/volume/connectors', body), 409, `A volume connector with type iqn and connector ID iqn.2024-01.${prefix} already exists.`);
        const l = await c.get('/v1/volume/connectors');
        assert.deepEqual(Object.keys(l.json.connectors[0]), ['uuid', 'connector_id', 'type', 'links', 'node_uuid']);
        const mine = await c.get(`/v1/nodes/${nodeA.uuid}/volume/connectors`);
        assert.deepEqual(mine.json.connectors.map((x: any) => x.uuid), [r.json.uuid]);
        const ghost = randomUUID();
        expectFault(await c.post('/v1/volume/connectors', { ...body, node_uuid: ghost, connector_id: 'y' }), 400, `Invalid input for field/attribute node_uuid. Value: '${ghost}'. `);
        expectFault(
          await c.del(`/v1/volume/connectors/${r.json.uuid}`),
          400,
          `The requested action "volume connector deletion" can not be performed on node "${nodeA.uuid}" while it is in state "None".`,
        );
      });

      it('targets: create, unique boot index per node, list', async () => {
        const body = { node_uuid: nodeA.uuid, volume_type: 'iscsi', volume_id: `${prefix}-vol`, boot_index: 0 };
        const r = await c.post('/v1/volume/targets', body);
        expectStatus(r, 201);
        assert.deepEqual(Object.keys(r.json), TARGET_KEYS);
        expectFault(await c.post('/v1/volume/targets', { ...body, volume_id: 'other' }), 409, "A volume target with boot index '0' for the same node already exists.");
        const l = await c.get('/v1/volume/targets');
        assert.deepEqual(Object.keys(l.json.targets[0]), ['uuid', 'boot_index', 'volume_id', 'volume_type', 'links', 'node_uuid']);
        expectFault(await c.post('/v1/volume/targets', { node_uuid: nodeA.uuid }), 400, "Schema error for target: 'boot_index' is a required property");
      });
    });

    describe('drivers, conductors, shards, events', () => {
      it('drivers: the list, one driver in detail, its properties', async () => {
        const l = await c.get('/v1/drivers');
        expectStatus(l, 200);
        const fake = l.json.drivers.find((d: any) => d.name === 'fake-hardware');
        assert.ok(fake, 'fake-hardware is listed');
        assert.deepEqual(Object.keys(fake), ['name', 'hosts', 'links', 'properties', 'type']);
        assert.equal(fake.type, 'dynamic');
        const s = await c.get('/v1/drivers/fake-hardware');
        expectStatus(s, 200);
        assert.equal(s.json.default_power_interface, 'fake');
        assert.deepEqual([...s.json.enabled_raid_interfaces].sort(), ['fake', 'no-raid']);
        assert.deepEqual(
          Object.keys(s.json).sort(),
          ['hosts', 'links', 'name', 'properties', 'type', ...['bios', 'boot', 'console', 'deploy', 'inspect', 'management', 'network', 'power', 'raid', 'rescue', 'storage', 'vendor'].flatMap((i) => [`default_${i}_interface`, `enabled_${i}_interfaces`])].sort(),
        );
        const p = await c.get('/v1/drivers/fake-hardware/properties');
        expectStatus(p, 200);
        assert.equal(typeof p.json, 'object');
        expectFault(await c.get('/v1/drivers/nope'), 404, 'Could not find the following driver(s) or hardware type(s): nope.');
        expectFault(await c.get('/v1/drivers?type=weird'), 400, '"type" filter must be one of "classic" or "dynamic", if specified.');
      });

      it('conductors: default fields, a conductor, a missing one', async () => {
        const l = await c.get('/v1/conductors');
        expectStatus(l, 200);
        assert.deepEqual(Object.keys(l.json.conductors[0]), ['hostname', 'conductor_group', 'links', 'alive']);
        const host = l.json.conductors[0].hostname;
        const s = await c.get(`/v1/conductors/${host}`);
        assert.deepEqual(Object.keys(s.json), ['created_at', 'updated_at', 'hostname', 'conductor_group', 'drivers', 'links', 'alive']);
        expectFault(await c.get('/v1/conductors/nope-host'), 404, 'Conductor nope-host could not be found.');
        expectFault(await c.get('/v1/conductors', { version: '1.48' }), 404, 'Resource could not be found.');
      });

      it('shards: counts per shard', async () => {
        const r = await c.get('/v1/shards');
        expectStatus(r, 200);
        assert.ok(Array.isArray(r.json.shards));
        for (const s of r.json.shards) assert.deepEqual(Object.keys(s), ['name', 'count']);
      });

      it('events: a valid network event is accepted, an invalid one is a 400', async () => {
        const ev = { event: 'network.bind_port', port_id: randomUUID(), mac_address: mac(), status: 'ACTIVE' };
        const r = await c.post('/v1/events', { events: [ev] });
        assert.equal(r.status, 204, r.text);
        expectFault(await c.post('/v1/events', { events: [] }), 400, 'Schema error for evts: [] is too short');
        expectFault(await c.post('/v1/events', { events: [{ ...ev, mac_address: 'zz' }] }), 400, 'Expected valid MAC address for mac_address: zz');
      });
    });
  });
}
