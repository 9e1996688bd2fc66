/**
 * The proxy calls every site with its own credentials, so nothing reaches a
 * site that the proxy could not read and route: no request is sent to a
 * "default site" for its Ironic to answer. Each case below was once sent to
 * one site as is (an empty create, a body the engine could not route, an
 * identifier no site could be asked for, a document of links); now the
 * proxy answers it itself — with the status and text Ironic gives, checked
 * against the simulator's answer to the same request (the simulator models
 * Ironic 21.4) — and no site receives anything.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFleet, type Fleet } from '../support/sim-fleet.js';
import { putNode } from '../support/sim-direct.js';
import type { SimSite } from '../../src/sim/index.js';

interface Answer {
  status: number;
  text: string;
}

async function send(base: string, method: string, path: string, body: string | undefined, version: string): Promise<Answer> {
  const headers: Record<string, string> = { 'x-openstack-ironic-api-version': version };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(base + path, { method, headers, body });
  return { status: r.status, text: await r.text() };
}

/** The faultstring of Ironic's error body. */
function faultOf(a: Answer): string {
  const doc = JSON.parse(a.text) as { error_message?: unknown };
  assert.equal(typeof doc.error_message, 'string', `Ironic's body: ${a.text}`);
  return String((JSON.parse(doc.error_message as string) as { faultstring?: unknown }).faultstring);
}

describe('nothing the proxy cannot read or route is sent to a site', () => {
  let fleet: Fleet;
  let sa: SimSite;
  let nodeUuid = '';
  before(async () => {
    fleet = await startFleet([
      { name: 'sa', conductorGroups: [''], tickMs: 5 },
      { name: 'sb', conductorGroups: ['g1'], tickMs: 5 },
    ]);
    sa = fleet.sims[0]!;
    nodeUuid = (await putNode(sa, { name: 'n1', resource_class: 'rc' })).uuid as string;
  });
  after(() => fleet?.close());

  /**
   * Every request the sites received — aside from what the proxy reads on its
   * own schedule: version discovery, and the global objects it compares.
   */
  const seen = (): string[] =>
    fleet.sims.flatMap((s) => s.received.filter((l) => !/^GET \/((v1)?(\?|$)|v1\/(chassis|deploy_templates|runbooks)\b)/.test(l)).map((l) => `${s.name}: ${l}`));

  /**
   * The proxy's answer, with no site asked; and the simulator's answer to the
   * same request straight at a site, which it must equal (status and text).
   */
  async function refusedLikeIronic(method: string, path: string, body: string | undefined, status: number, text: string, version = '1.82'): Promise<void> {
    const before = seen();
    const ours = await send(fleet.url, method, path, body, version);
    assert.deepEqual(seen().slice(before.length), [], `${method} ${path}: no site received anything`);
    assert.equal(ours.status, status, ours.text);
    assert.equal(faultOf(ours), text);
    const ironic = await send(sa.url, method, path, body, version);
    assert.equal(ironic.status, status, `the simulated Ironic: ${ironic.text}`);
    assert.equal(faultOf(ironic), text, 'the same text as the simulated Ironic');
  }

  describe('a create with no body is Ironic\'s 400 for `{}`, from the body check', () => {
    const cases: Array<[string, string]> = [
      ['/v1/nodes', "Schema error for node: 'driver' is a required property"],
      ['/v1/ports', "Schema error for port: 'address' is a required property"],
      ['/v1/portgroups', "Schema error for portgroup: 'node_uuid' is a required property"],
      ['/v1/volume/connectors', "Schema error for connector: 'connector_id' is a required property"],
      ['/v1/volume/targets', "Schema error for target: 'boot_index' is a required property"],
      ['/v1/events', "Schema error for evts: 'events' is a required property"],
      // The allocation schema requires nothing: `{}` gets as far as Ironic's check after its policy.
      ['/v1/allocations', 'The resource_class field is mandatory when not backfilling'],
    ];
    for (const [path, text] of cases) {
      test(`POST ${path}`, () => refusedLikeIronic('POST', path, undefined, 400, text));
    }
    test('a body of a byte-order mark alone is an empty body too', async () => {
      const before = seen();
      const r = await fetch(`${fleet.url}/v1/nodes`, {
        method: 'POST',
        headers: { 'x-openstack-ironic-api-version': '1.82', 'content-type': 'application/json' },
        body: Buffer.from([0xef, 0xbb, 0xbf]),
      });
      const ours = { status: r.status, text: await r.text() };
      assert.equal(ours.status, 400, ours.text);
      assert.equal(faultOf(ours), "Schema error for node: 'driver' is a required property");
      assert.deepEqual(seen().slice(before.length), []);
    });
  });

  test('a node create whose conductor group is not a string: the schema error, no site picked', async () => {
    await refusedLikeIronic('POST', '/v1/nodes', '{"driver": "fake-hardware", "conductor_group": 5}', 400, "Schema error for node: 5 is not of type 'string', 'null'");
    // A missing driver is the best match (NODE_SCHEMA's `required`, at the top).
    await refusedLikeIronic('POST', '/v1/nodes', '{"conductor_group": {}}', 400, "Schema error for node: 'driver' is a required property");
  });

  describe('an allocation create the engine could not route is refused with Ironic\'s text', () => {
    const cases: Array<[string, string, string, string?]> = [
      ['a uuid of another type', '{"resource_class": "rc", "uuid": 5}', "Schema error for allocation: 5 is not of type 'string', 'null'"],
      ['a uuid that is not one', '{"resource_class": "rc", "uuid": "nope"}', 'Expected UUID for uuid: nope'],
      ['a name of another type', '{"resource_class": "rc", "name": ["al"]}', "Schema error for allocation: ['al'] is not of type 'string', 'null'"],
      ['a node of another type', '{"node": 5}', "Schema error for allocation: 5 is not of type 'string', 'null'"],
      ['a candidate of another type', '{"resource_class": "rc", "candidate_nodes": ["n1", 2]}', "Schema error for allocation: 2 is not of type 'string'"],
      ['an unknown field (nearest the top: before a wrong type)', '{"uuid": 5, "colour": "red"}', "Schema error for allocation: Additional properties are not allowed ('colour' was unexpected)"],
      ['a resource class too long', `{"resource_class": "${'r'.repeat(81)}"}`, `Schema error for allocation: '${'r'.repeat(81)}' is too long`],
      ['no resource class, with candidates', '{"candidate_nodes": ["n1"]}', 'The resource_class field is mandatory when not backfilling'],
      ['an empty resource class and an empty node', '{"resource_class": "", "node": ""}', 'The resource_class field is mandatory when not backfilling'],
      ['an invalid name comes first', '{"name": "no spaces"}', "Cannot create allocation with invalid name 'no spaces'"],
      ['a node below 1.58', '{"resource_class": "rc", "node": "n1"}', 'Cannot set node when creating an allocation in this API version', '1.57'],
    ];
    for (const [what, body, text, version] of cases) {
      test(what, () => refusedLikeIronic('POST', '/v1/allocations', body, 400, text, version));
    }
  });

  test('a valid allocation still reaches its site', async () => {
    const before = sa.requests.filter((r) => r.method === 'POST' && r.url === '/v1/allocations').length;
    const r = await send(fleet.url, 'POST', '/v1/allocations', '{"resource_class": "rc", "candidate_nodes": ["n1"]}', '1.82');
    assert.equal(r.status, 201, r.text);
    assert.equal(sa.requests.filter((x) => x.method === 'POST' && x.url === '/v1/allocations').length, before + 1);
  });

  describe('a port or volume object named by something that is not a UUID: Ironic\'s 400 from the router', () => {
    const patch = '[{"op": "add", "path": "/extra/x", "value": 1}]';
    const cases: Array<[string, string, string | undefined, string]> = [
      ['GET', '/v1/ports/nope', undefined, 'Expected UUID for port_uuid: nope'],
      ['PATCH', '/v1/ports/nope', patch, 'Expected UUID for port_uuid: nope'],
      ['DELETE', '/v1/ports/nope', undefined, 'Expected UUID for port_uuid: nope'],
      ['GET', '/v1/volume/connectors/nope', undefined, 'Expected UUID for connector_uuid: nope'],
      ['PATCH', '/v1/volume/connectors/nope', patch, 'Expected UUID for connector_uuid: nope'],
      ['DELETE', '/v1/volume/targets/nope', undefined, 'Expected UUID for target_uuid: nope'],
    ];
    for (const [method, path, body, text] of cases) {
      test(`${method} ${path}`, () => refusedLikeIronic(method, path, body, 400, text));
    }
    test('unexpected query arguments come first, as in args.validate', async () => {
      const r = await send(fleet.url, 'GET', '/v1/ports/nope?colour=red', undefined, '1.82');
      assert.equal(r.status, 400);
      assert.equal(faultOf(r), 'Unexpected arguments: colour');
    });
  });

  describe('the volume documents are built by the proxy', () => {
    test('GET /v1/volume: the links a site gives, pointing at the proxy', async () => {
      const before = seen();
      const ours = await send(fleet.url, 'GET', '/v1/volume', undefined, '1.82');
      assert.deepEqual(seen().slice(before.length), [], 'no site asked');
      assert.equal(ours.status, 200, ours.text);
      const site = await send(sa.url, 'GET', '/v1/volume', undefined, '1.82');
      assert.deepEqual(JSON.parse(ours.text), JSON.parse(site.text.split(sa.url).join(fleet.url)));
    });
    test('GET /v1/nodes/{ident}/volume: links under the node as named, the node not looked up', async () => {
      const before = seen();
      const ours = await send(fleet.url, 'GET', `/v1/nodes/${nodeUuid}/volume`, undefined, '1.82');
      const ghost = await send(fleet.url, 'GET', '/v1/nodes/no-such-node/volume', undefined, '1.82');
      assert.deepEqual(seen().slice(before.length), [], 'no site asked');
      assert.equal(ours.status, 200, ours.text);
      const site = await send(sa.url, 'GET', `/v1/nodes/${nodeUuid}/volume`, undefined, '1.82');
      assert.deepEqual(JSON.parse(ours.text), JSON.parse(site.text.split(sa.url).join(fleet.url)));
      assert.equal(ghost.status, 200, ghost.text);
      assert.deepEqual(JSON.parse(ghost.text).targets, [
        { href: `${fleet.url}/v1/nodes/no-such-node/volume/targets`, rel: 'self' },
        { href: `${fleet.url}/nodes/no-such-node/volume/targets`, rel: 'bookmark' },
      ]);
    });
  });
});
