/**
 * Query parameter values are checked before any fan-out (issue 10, item 2),
 * with Ironic 21.4's texts (probed against a real site: see
 * test/integration/bad-input-real.test.ts), and no site is asked.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFleet, type Fleet } from '../support/sim-fleet.js';
import { fieldsKindOf } from '../../src/api/query-checks.js';

const V = { 'x-openstack-ironic-api-version': '1.82' };
const BOOLS = "acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'";

function faultOf(text: string): string {
  const doc = JSON.parse(text) as { error_message?: unknown };
  assert.equal(typeof doc.error_message, 'string', `Ironic's body: ${text}`);
  return String((JSON.parse(doc.error_message as string) as { faultstring?: unknown }).faultstring);
}

/** [path and query (N = a node), status, faultstring]. */
export const MALFORMED_QUERIES: ReadonlyArray<readonly [string, number, string]> = [
  // Ironic 21.4: 500 "type object 'Node' has no attribute 'no_such_field'".
  ['/v1/nodes?fields=no_such_field', 400, 'Field(s) "no_such_field" are not valid'],
  ['/v1/nodes?fields=uuid,bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/nodes/N?fields=no_such_field', 400, 'Field no_such_field is not a valid field.'],
  ['/v1/ports?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/portgroups?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/chassis?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/allocations?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/conductors?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/drivers?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/deploy_templates?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/volume/connectors?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/volume/targets?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/nodes/N/ports?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/nodes?limit=-1', 400, 'Limit must be positive'],
  ['/v1/nodes?limit=0', 400, 'Limit must be positive'],
  ['/v1/nodes?limit=abc', 400, 'Expected an integer for limit: abc'],
  ['/v1/nodes?limit=1.5', 400, 'Expected an integer for limit: 1.5'],
  ['/v1/nodes?sort_dir=up', 400, "Invalid sort direction: up. Acceptable values are 'asc' or 'desc'"],
  ['/v1/nodes?marker=abc', 400, 'Expected UUID for marker: abc'],
  ['/v1/nodes?detail=maybe', 400, `Invalid detail: Unrecognized value 'maybe', ${BOOLS}`],
  ['/v1/nodes?maintenance=maybe', 400, `Invalid maintenance: Unrecognized value 'maybe', ${BOOLS}`],
  ['/v1/nodes?associated=maybe', 400, `Invalid associated: Unrecognized value 'maybe', ${BOOLS}`],
  ['/v1/nodes?retired=maybe', 400, `Invalid retired: Unrecognized value 'maybe', ${BOOLS}`],
  ['/v1/nodes?sharded=maybe', 400, `Invalid sharded: Unrecognized value 'maybe', ${BOOLS}`],
  ['/v1/ports?detail=maybe', 400, `Invalid detail: Unrecognized value 'maybe', ${BOOLS}`],
  ['/v1/nodes?fault=bogus', 400, `Unrecognized fault "bogus" is specified, allowed faults are ('power failure', 'clean failure', 'rescue abort failure')`],
  ['/v1/nodes?provision_state=bogus', 400, 'Provision state "bogus" is not valid'],
  ['/v1/nodes?instance_uuid=abc', 400, 'Expected UUID for instance_uuid: abc'],
  ['/v1/nodes?limit=1&limit=2', 400, "Expected an integer for limit: ['1', '2']"],
  ['/v1/nodes?maintenance=true&maintenance=false', 400, `Invalid maintenance: Unrecognized value '['true', 'false']', ${BOOLS}`],
  ['/v1/nodes?fields=uuid&fields=name', 400, "Expected string for fields: ['uuid', 'name']"],
  ['/v1/nodes?driver=a&driver=b', 400, "Expected string for driver: ['a', 'b']"],
];

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
    assert.equal(fieldsKindOf('/v1/nodes/{node_ident}/bios/{setting_name}'), undefined);
  });
});
