/**
 * Version discovery over sites of different releases: the proxy advertises
 * the intersection, enforces it (406), sends the client's version to sites,
 * and follows a site whose maximum changes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFleet, getJson, type Fleet } from '../support/sim-fleet.js';

describe('microversions over mixed sites', () => {
  let fleet: Fleet;
  before(async () => {
    fleet = await startFleet([
      { name: 'new', maxMinor: 82, nodes: 1 },
      { name: 'old', conductorGroups: ['g-old'], maxMinor: 75, nodes: 1 },
    ]);
  });
  after(() => fleet.close());

  test('GET / and GET /v1 advertise the common range', async () => {
    const root = await getJson(`${fleet.url}/`, {});
    assert.equal(root.status, 200);
    assert.equal(root.body.default_version.version, '1.75');
    assert.equal(root.body.default_version.min_version, '1.1');
    assert.equal(root.body.default_version.links[0].href, `${fleet.url}/v1/`);
    const v1 = await getJson(`${fleet.url}/v1`, { 'x-openstack-ironic-api-version': 'latest' });
    assert.equal(v1.headers.get('x-openstack-ironic-api-version'), '1.75');
    assert.equal(v1.headers.get('x-openstack-ironic-api-maximum-version'), '1.75');
    assert.equal(v1.headers.get('x-openstack-ironic-api-minimum-version'), '1.1');
  });

  test('a version only the newer site has is refused with 406', async () => {
    const r = await getJson(`${fleet.url}/v1/nodes`, { 'x-openstack-ironic-api-version': '1.80' });
    assert.equal(r.status, 406);
    assert.match(JSON.parse(r.body.error_message).description, /The supported version range is: \[1\.1, 1\.75\]/);
  });

  test('no header means 1.1, and that is what the sites are asked at', async () => {
    const r = await getJson(`${fleet.url}/v1/nodes/detail`, {});
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-openstack-ironic-api-version'), '1.1');
    // At 1.1 a node has no name and "available" reads as null: fields the version lacks are not invented.
    for (const n of r.body.nodes) assert.equal('name' in n, false);
  });

  test('a malformed version is a 406 without range headers', async () => {
    const r = await getJson(`${fleet.url}/v1/nodes`, { 'x-openstack-ironic-api-version': '1.x' });
    assert.equal(r.status, 406);
    assert.equal(r.headers.get('x-openstack-ironic-api-maximum-version'), null);
    assert.equal(JSON.parse(r.body.error_message).description, 'Invalid value for X-OpenStack-Ironic-API-Version header');
  });

  test('when a site is upgraded, its next answer moves the common range', async () => {
    const old = fleet.site('old');
    old.api.cfg.maxMinor = 80;
    await getJson(`${fleet.url}/v1/nodes`, { 'x-openstack-ironic-api-version': '1.70' });
    const root = await getJson(`${fleet.url}/`, {});
    assert.equal(root.body.default_version.version, '1.80');
  });
});
