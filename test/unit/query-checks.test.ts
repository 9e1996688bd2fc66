/**
 * Query parameter values are checked before any fan-out (issue 10, item 2),
 * with Ironic 21.4's texts (probed against a real site: see
 * test/integration/bad-input-real.test.ts), and no site is asked.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFleet, type Fleet } from '../support/sim-fleet.js';
import { fieldsKindOf } from '../../src/api/query-checks.js';
import { MALFORMED_QUERIES } from '../support/shape-corpus.js';

const V = { 'x-openstack-ironic-api-version': '1.82' };

function faultOf(text: string): string {
  const doc = JSON.parse(text) as { error_message?: unknown };
  assert.equal(typeof doc.error_message, 'string', `Ironic's body: ${text}`);
  return String((JSON.parse(doc.error_message as string) as { faultstring?: unknown }).faultstring);
}


describe('query values are checked before any site is asked', () => {
  let fleet: Fleet;
  let node: string;
  before(async () => {
    fleet = await startFleet([{ name: 'a', nodes: 1 }, { name: 'b', nodes: 1, conductorGroups: ['g2'] }]);
    const list = await fetch(`${fleet.url}/v1/nodes`, { headers: V });
    node = ((await list.json()) as { nodes: Array<{ uuid: string }> }).nodes[0]!.uuid;
  });
  after(() => fleet.close());
  /**
   * Requests the sites got, but the proxy's own work at start-up, which may still run (version discovery,
   * the node index warming up by uuid, the drift check of global objects listed in detail).
   */
  const BACKGROUND = /^GET \/v1\/?$|^GET \/$|sort_key=uuid&sort_dir=asc&limit=\d+$|\?detail=True&limit=\d+$/;
  const asked = (): string[] => fleet.sims.flatMap((s) => s.received).filter((l) => !BACKGROUND.test(l));

  for (const [pathAndQuery, status, text] of MALFORMED_QUERIES) {
    test(pathAndQuery, async () => {
      const before = asked();
      const r = await fetch(`${fleet.url}${pathAndQuery.replace('/N', `/${node}`)}`, { headers: V });
      const got = await r.text();
      assert.equal(r.status, status, got);
      assert.equal(faultOf(got), text);
      assert.deepEqual(asked().slice(before.length), [], 'no site was asked');
    });
  }

  test("fields newer than the request's microversion, or fields before 1.8: Ironic's 406", async () => {
    const before = asked();
    for (const [q, version] of [['/v1/nodes?fields=shard', '1.50'], ['/v1/ports?fields=is_smartnic', '1.50'], ['/v1/nodes?fields=uuid', '1.7']] as const) {
      const r = await fetch(`${fleet.url}${q}`, { headers: { 'x-openstack-ironic-api-version': version } });
      const text = await r.text();
      assert.equal(r.status, 406, `${q} at ${version}: ${text}`);
      assert.equal(faultOf(text), 'Request not acceptable.');
    }
    assert.deepEqual(asked().slice(before.length), []);
  });

  test('good values still list', async () => {
    for (const q of ['fields=uuid,name', 'fields=UUID, Name', 'maintenance=False', 'detail=1', 'provision_state=available', 'fault=power%20failure', 'limit=%205%20']) {
      const r = await fetch(`${fleet.url}/v1/nodes?${q}`, { headers: V });
      assert.equal(r.status, 200, `${q}: ${await r.text()}`);
    }
    const port = await fetch(`${fleet.url}/v1/ports?fields=uuid,address,portgroup_uuid`, { headers: V });
    assert.equal(port.status, 200, await port.text());
  });

  test('the kind of object an entry names fields of', () => {
    assert.equal(fieldsKindOf('/v1/nodes/{node_ident}/volume/connectors'), 'connector');
    assert.equal(fieldsKindOf('/v1/chassis/{chassis_uuid}/nodes/detail'), 'node');
    assert.equal(fieldsKindOf('/v1/nodes/{node_ident}/allocation'), 'allocation');
    assert.equal(fieldsKindOf('/v1/nodes/{node_ident}/bios'), 'bios');
    assert.equal(fieldsKindOf('/v1/nodes/{node_ident}/history'), undefined);
  });
});
