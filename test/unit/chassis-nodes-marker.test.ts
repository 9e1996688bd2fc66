/**
 * A chassis' node listing with a marker, where the chassis is nowhere: the
 * sites' 404 is about the chassis, not the marker. The merge, which takes a
 * site's "could not be found" during paging for a marker that vanished, tries
 * once more from the marker found again; the same 404 then is the site's own
 * answer, relayed as Ironic's — not the proxy's 500 (found by the Keystone fuzz).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFleet, getJson, type Fleet } from '../support/sim-fleet.js';

describe('chassis nodes with a marker, chassis nowhere', () => {
  let fleet: Fleet;
  before(async () => {
    fleet = await startFleet([
      { name: 'a', nodes: 2 },
      { name: 'b', conductorGroups: ['gb'], nodes: 2 },
    ]);
  });
  after(() => fleet.close());

  test("the sites' 404 for the chassis, with or without a marker, on the list and detail views", async () => {
    // A node's uuid as the marker (it exists), and as the chassis (no chassis has it).
    const uuid = (await getJson(`${fleet.url}/v1/nodes/a-node-0`)).body.uuid as string;
    for (const view of ['', '/detail']) {
      for (const query of ['', `?marker=${uuid}`, `?marker=${uuid}&limit=1`]) {
        const res = await fetch(`${fleet.url}/v1/chassis/${uuid}/nodes${view}${query}`, { headers: { 'X-OpenStack-Ironic-API-Version': 'latest' } });
        const body = (await res.json()) as { error_message: string };
        assert.equal(res.status, 404, `${view}${query}`);
        assert.equal(JSON.parse(body.error_message).faultstring, `Chassis ${uuid} could not be found.`);
      }
    }
  });
});
