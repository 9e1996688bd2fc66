/**
 * A request about a node, portgroup or driver that no site has is answered
 * by the proxy with Ironic's own status and text, in the handler's order —
 * never sent to some site for its Ironic to write the error (the proxy calls
 * sites with its own credentials). The only requests the sites see are the
 * lookups that establish "no site has it". And when a site cannot be asked
 * (down, circuit open, timeout), nobody can say "not found": the answer is
 * the lookup's 503 naming the site, never a 404 or Ironic's 400 for a
 * missing node.
 *
 * Each answer is checked against the simulator's answer to the same request
 * at one site (the simulator models Ironic 21.4), except where the
 * simulator is known to differ from Ironic's code (said at the case).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFleet, type Fleet } from '../support/sim-fleet.js';
import { put, putNode } from '../support/sim-direct.js';
import type { SimSite } from '../../src/sim/index.js';

interface Answer {
  status: number;
  text: string;
}

async function send(base: string, method: string, path: string, body: unknown, version: string): Promise<Answer> {
  const headers: Record<string, string> = { 'x-openstack-ironic-api-version': version };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, text: await r.text() };
}

/** The faultstring of Ironic's error body. */
function faultOf(a: Answer): string {
  const doc = JSON.parse(a.text) as { error_message?: unknown };
  assert.equal(typeof doc.error_message, 'string', `Ironic's body: ${a.text}`);
  return String((JSON.parse(doc.error_message as string) as { faultstring?: unknown }).faultstring);
}

const NOWHERE = '7d1c4a8e-3b2f-4c5d-9e6f-0a1b2c3d4e5f';
const NOWHERE_PG = '0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b';
const NOWHERE_MARKER = '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';
const MAC = '52:54:00:aa:bb:01';

describe('a node, portgroup or driver no site has', () => {
  let fleet: Fleet;
  let sa: SimSite;
  before(async () => {
    fleet = await startFleet([
      { name: 'sa', conductorGroups: [''], tickMs: 5 },
      { name: 'sb', conductorGroups: ['g1'], tickMs: 5 },
      { name: 'sc', conductorGroups: ['g2'], tickMs: 5, sectionExtra: 'timeout = 0.3' },
    ]);
    sa = fleet.sims[0]!;
    const node = await putNode(sa, { name: 'n1' });
    await put(sa, 'ports', { address: '52:54:00:aa:bb:99', node_uuid: node.uuid });
  });
  after(() => fleet?.close());

  /** Requests the proxy sends on its own schedule (versions, the global objects it compares). */
  const ownSchedule = /^GET \/((v1)?(\?|$)|v1\/(chassis|deploy_templates|runbooks)\b)/;

  /** What the sites got while `run` ran (`site: METHOD /path`), but what the proxy reads on its own schedule. */
  async function during(run: () => Promise<Answer>): Promise<{ answer: Answer; got: string[] }> {
    const before = fleet.sims.map((s) => s.received.length);
    const answer = await run();
    const got = fleet.sims.flatMap((s, i) => s.received.slice(before[i]).filter((l) => !ownSchedule.test(l)).map((l) => `${s.name}: ${l}`));
    return { answer, got };
  }

  /**
   * The proxy's answer equals Ironic's (`status`, `text`) and the simulated
   * Ironic's, and each site received only the lookups matching `lookups`
   * (each site one of each at most), nothing else.
   */
  async function answeredLikeIronic(method: string, path: string, body: unknown, status: number, text: string, lookups: RegExp[], version = '1.82', simToo = true): Promise<void> {
    const { answer, got } = await during(() => send(fleet.url, method, path, body, version));
    assert.equal(answer.status, status, answer.text);
    assert.equal(faultOf(answer), text);
    const other = got.filter((l) => !lookups.some((re) => re.test(l.replace(/^\w+: /, ''))));
    assert.deepEqual(other, [], `${method} ${path}: the sites received nothing but lookups`);
    for (const s of fleet.sims) {
      const mine = got.filter((l) => l.startsWith(`${s.name}: `));
      assert.ok(mine.length <= lookups.length, `${s.name} asked at most once per lookup: ${mine.join('; ')}`);
    }
    if (!simToo) return;
    const ironic = await send(sa.url, method, path, body, version);
    assert.equal(ironic.status, status, `the simulated Ironic: ${ironic.text}`);
    assert.equal(faultOf(ironic), text, 'the same text as the simulated Ironic');
  }

  const nodeLookup = (ident: string): RegExp => new RegExp(`^GET /v1/nodes/${ident}\\?fields=`);
  const pgLookup = (ident: string): RegExp => new RegExp(`^GET /v1/portgroups/${ident}\\?fields=`);

  describe('listings filtered by it: Ironic\'s 404, only lookups sent', () => {
    test('GET /v1/ports?node=<uuid>', () => answeredLikeIronic('GET', `/v1/ports?node=${NOWHERE}`, undefined, 404, `Node ${NOWHERE} could not be found.`, [nodeLookup(NOWHERE)]));
    test('GET /v1/ports?node=<name>', () => answeredLikeIronic('GET', '/v1/ports?node=ghost', undefined, 404, 'Node ghost could not be found.', [nodeLookup('ghost')]));
    test('GET /v1/ports/detail?node_uuid=<uuid> (node_uuid wins over node)', () =>
      answeredLikeIronic('GET', `/v1/ports/detail?node=n1&node_uuid=${NOWHERE}`, undefined, 404, `Node ${NOWHERE} could not be found.`, [nodeLookup(NOWHERE)]));
    test('GET /v1/ports?portgroup=<uuid>', () => answeredLikeIronic('GET', `/v1/ports?portgroup=${NOWHERE_PG}`, undefined, 404, `Portgroup ${NOWHERE_PG} could not be found.`, [pgLookup(NOWHERE_PG)]));
    test('GET /v1/portgroups?node=<uuid>', () => answeredLikeIronic('GET', `/v1/portgroups?node=${NOWHERE}`, undefined, 404, `Node ${NOWHERE} could not be found.`, [nodeLookup(NOWHERE)]));
    test('GET /v1/portgroups/detail?node=<name>', () => answeredLikeIronic('GET', '/v1/portgroups/detail?node=ghost', undefined, 404, 'Node ghost could not be found.', [nodeLookup('ghost')]));
    test('GET /v1/volume/connectors?node=<uuid>', () => answeredLikeIronic('GET', `/v1/volume/connectors?node=${NOWHERE}`, undefined, 404, `Node ${NOWHERE} could not be found.`, [nodeLookup(NOWHERE)]));
    test('GET /v1/volume/targets?node=<uuid>&detail=True', () =>
      answeredLikeIronic('GET', `/v1/volume/targets?node=${NOWHERE}&detail=True`, undefined, 404, `Node ${NOWHERE} could not be found.`, [nodeLookup(NOWHERE)]));
  });

  describe("the handler's checks before its lookup come first, in its order", () => {
    const L = [nodeLookup(NOWHERE)];
    test('ports: a sort_key newer than the version (406)', () =>
      answeredLikeIronic('GET', `/v1/ports?node=${NOWHERE}&sort_key=physical_network`, undefined, 406, 'Request not acceptable.', L, '1.33'));
    test('ports: portgroup below 1.24 (406) — and the portgroup is then not looked up', () =>
      answeredLikeIronic('GET', `/v1/ports?node=${NOWHERE}&portgroup=${NOWHERE_PG}`, undefined, 406, 'Request not acceptable.', [pgLookup(NOWHERE_PG)], '1.23'));
    // check_allow_filter_by_shard's text (the node listing's contract has it too); the simulator's port listing
    // answers the plain 'Request not acceptable.'.
    test('ports: shard below 1.82 (406 with its own text)', () =>
      answeredLikeIronic('GET', `/v1/ports?node=${NOWHERE}&shard=s1`, undefined, 406, 'Request not acceptable. The minimal required API version should be 1.82', L, '1.81', false));
    test('ports: detail below 1.43 (400)', () =>
      answeredLikeIronic('GET', `/v1/ports?node=${NOWHERE}&detail=true`, undefined, 400, 'Invalid query parameter ?detail=True received.', L, '1.42'));
    test('ports: fields with detail=True (400)', () =>
      answeredLikeIronic('GET', `/v1/ports?node=${NOWHERE}&detail=True&fields=uuid`, undefined, 400, 'Can not specify ?detail=True and fields in the same request.', L));
    test('ports: a node name below 1.5 (406)', () => answeredLikeIronic('GET', '/v1/ports?node=ghost', undefined, 406, 'Request not acceptable.', [nodeLookup('ghost')], '1.4'));
    test('ports: a marker no site has (its own 404, before the node)', () =>
      answeredLikeIronic('GET', `/v1/ports?node=${NOWHERE}&marker=${NOWHERE_MARKER}`, undefined, 404, `Port ${NOWHERE_MARKER} could not be found.`, [
        nodeLookup(NOWHERE),
        new RegExp(`^GET /v1/ports/${NOWHERE_MARKER}\\?fields=`),
      ]));
    test('ports: a sort_key Ironic refuses (400)', () =>
      answeredLikeIronic('GET', `/v1/ports?node=${NOWHERE}&sort_key=extra`, undefined, 400, 'The sort_key value extra is an invalid field for sorting', L));
    test('ports: a node and a portgroup (403)', () =>
      answeredLikeIronic('GET', `/v1/ports?node=${NOWHERE}&portgroup=${NOWHERE_PG}`, undefined, 403, 'Operation not permitted.', [pgLookup(NOWHERE_PG)]));
    test('ports: a node and a shard (403)', () => answeredLikeIronic('GET', `/v1/ports?node=${NOWHERE}&shard=s1`, undefined, 403, 'Operation not permitted.', L));
    test('portgroups: sort_key mode below 1.26 (406)', () =>
      answeredLikeIronic('GET', `/v1/portgroups?node=${NOWHERE}&sort_key=mode`, undefined, 406, 'Request not acceptable.', L, '1.25'));
    test('portgroups: detail below 1.43 (400)', () =>
      answeredLikeIronic('GET', `/v1/portgroups?node=${NOWHERE}&detail=False`, undefined, 400, 'Invalid query parameter ?detail=False received.', L, '1.42'));
    test('portgroups: a sort_key Ironic refuses (400)', () =>
      answeredLikeIronic('GET', `/v1/portgroups?node=${NOWHERE}&sort_key=properties`, undefined, 400, 'The sort_key value properties is an invalid field for sorting', L));
    test('volume: fields with detail (400)', () =>
      answeredLikeIronic('GET', `/v1/volume/connectors?node=${NOWHERE}&fields=uuid&detail=True`, undefined, 400, "Can't fetch a subset of fields with 'detail' set", L));
    test('volume: a marker no site has (404)', () =>
      answeredLikeIronic('GET', `/v1/volume/targets?node=${NOWHERE}&marker=${NOWHERE_MARKER}`, undefined, 404, `Volume target ${NOWHERE_MARKER} could not be found.`, [
        nodeLookup(NOWHERE),
        new RegExp(`^GET /v1/volume/targets/${NOWHERE_MARKER}\\?fields=`),
      ]));
  });

  describe("creates naming it: Ironic's 400 after the whole body check, nothing created", () => {
    const L = [nodeLookup(NOWHERE)];
    test('POST /v1/ports', () => answeredLikeIronic('POST', '/v1/ports', { address: MAC, node_uuid: NOWHERE }, 400, `Node ${NOWHERE} could not be found.`, L));
    test('POST /v1/portgroups', () => answeredLikeIronic('POST', '/v1/portgroups', { node_uuid: NOWHERE, name: 'pg1' }, 400, `Node ${NOWHERE} could not be found.`, L));
    test('POST /v1/volume/connectors (InvalidInput, its own text)', () =>
      answeredLikeIronic('POST', '/v1/volume/connectors', { node_uuid: NOWHERE, type: 'iqn', connector_id: 'iqn.x' }, 400, `Invalid input for field/attribute node_uuid. Value: '${NOWHERE}'. `, L));
    test('POST /v1/volume/targets', () =>
      answeredLikeIronic('POST', '/v1/volume/targets', { node_uuid: NOWHERE, boot_index: 0, volume_id: 'v1', volume_type: 'iscsi' }, 400, `Invalid input for field/attribute node_uuid. Value: '${NOWHERE}'. `, L));
    test('a port whose MAC is not one: that 400 first (args.validate, before the node)', () =>
      answeredLikeIronic('POST', '/v1/ports', { address: 'nope', node_uuid: NOWHERE }, 400, 'Expected valid MAC address for address: nope', L));
    test('a port with a field its schema does not have', () =>
      answeredLikeIronic('POST', '/v1/ports', { address: MAC, node_uuid: NOWHERE, colour: 'red' }, 400, "Schema error for port: Additional properties are not allowed ('colour' was unexpected)", L));
    test('a portgroup whose standalone_ports_supported is not a boolean', () =>
      answeredLikeIronic('POST', '/v1/portgroups', { node_uuid: NOWHERE, standalone_ports_supported: 'maybe' }, 400, "Invalid standalone_ports_supported: Unrecognized value 'maybe', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'", L));
    test('a portgroup with an invalid name: the node first (21.4 checks the name after it)', () =>
      answeredLikeIronic('POST', '/v1/portgroups', { node_uuid: NOWHERE, name: 'no spaces' }, 400, `Node ${NOWHERE} could not be found.`, L));
    test('a portgroup with mode below 1.26: the node first too', () =>
      answeredLikeIronic('POST', '/v1/portgroups', { node_uuid: NOWHERE, mode: 'active-backup' }, 400, `Node ${NOWHERE} could not be found.`, L, '1.25'));
    test('a target whose boot_index is not an integer', () =>
      answeredLikeIronic('POST', '/v1/volume/targets', { node_uuid: NOWHERE, boot_index: 'first', volume_id: 'v1', volume_type: 'iscsi' }, 400, "Schema error for target: 'first' is not of type 'integer'", L));
  });

  describe('drivers', () => {
    const driverLookup = /^GET \/v1\/drivers\/nodriver(\?|$)/;
    test("GET /v1/drivers/<unknown>: every site asked, Ironic's 404 (DriverNotFound)", () =>
      answeredLikeIronic('GET', '/v1/drivers/nodriver', undefined, 404, 'Could not find the following driver(s) or hardware type(s): nodriver.', [driverLookup]));
    // The simulator answers these with NoValidHost's text; Ironic 21.4 raises DriverNotFound from its hash ring
    // (rpcapi.get_topic_for_driver → hash_ring._get_ring), whose text this is.
    for (const path of ['/properties', '/vendor_passthru/methods', '/raid/logical_disk_properties']) {
      test(`GET /v1/drivers/<unknown>${path}: the proxy's 404 with Ironic's text, only lookups sent`, () =>
        answeredLikeIronic('GET', `/v1/drivers/nodriver${path}`, undefined, 404, "The driver 'nodriver' is unknown.", [driverLookup], '1.82', false));
    }
    test('POST /v1/drivers/<unknown>/vendor_passthru?method=m: the same', () =>
      answeredLikeIronic('POST', '/v1/drivers/nodriver/vendor_passthru?method=m', {}, 404, "The driver 'nodriver' is unknown.", [driverLookup], '1.82', false));
    test('a driver one site runs: its properties from that site', async () => {
      const { answer, got } = await during(() => send(fleet.url, 'GET', '/v1/drivers/fake-hardware/properties', undefined, '1.82'));
      assert.equal(answer.status, 200, answer.text);
      assert.ok(got.includes('sa: GET /v1/drivers/fake-hardware/properties'), got.join('; '));
    });
  });

  /**
   * One site that cannot be asked: nobody can say the node (portgroup,
   * driver) is nowhere. Refused connections, then the open circuit (more
   * requests than the breaker's threshold), then a timeout at another site.
   */
  describe('a site that cannot be asked: 503 naming it, never "not found"', () => {
    const cases: Array<[string, string, string, unknown]> = [
      ['ports by node', 'GET', `/v1/ports?node=${NOWHERE}`, undefined],
      ['ports by node name', 'GET', '/v1/ports?node=ghost', undefined],
      ['ports by portgroup', 'GET', `/v1/ports?portgroup=${NOWHERE_PG}`, undefined],
      ['portgroups by node', 'GET', `/v1/portgroups?node=${NOWHERE}`, undefined],
      ['volume targets by node', 'GET', `/v1/volume/targets?node=${NOWHERE}`, undefined],
      ['port create', 'POST', '/v1/ports', { address: MAC, node_uuid: NOWHERE }],
      ['portgroup create', 'POST', '/v1/portgroups', { node_uuid: NOWHERE }],
      ['connector create', 'POST', '/v1/volume/connectors', { node_uuid: NOWHERE, type: 'iqn', connector_id: 'iqn.y' }],
      ['driver', 'GET', '/v1/drivers/nodriver', undefined],
      ['driver properties', 'GET', '/v1/drivers/nodriver/properties', undefined],
      ['driver vendor methods', 'GET', '/v1/drivers/nodriver/vendor_passthru/methods', undefined],
    ];

    async function refusedAsUnknown(down: string): Promise<void> {
      for (const [what, method, path, body] of cases) {
        const r = await send(fleet.url, method, path, body, '1.82');
        assert.equal(r.status, 503, `${what} with ${down} down: ${r.text}`);
        const text = faultOf(r);
        assert.match(text, new RegExp(`\\b${down}\\b`), `${what}: the site is named`);
        assert.doesNotMatch(text, /could not be found|is unknown|Invalid input/, what);
      }
    }

    test('refused connections, then the open circuit', async () => {
      await fleet.site('sb').setFault('refuse');
      try {
        // Twice through every case: past the breaker's threshold, so the circuit is open for the second round.
        await refusedAsUnknown('sb');
        await refusedAsUnknown('sb');
      } finally {
        await fleet.site('sb').setFault('none');
      }
    });

    test('a site that does not answer within its timeout', async () => {
      await fleet.site('sc').setFault('hang');
      try {
        const r = await send(fleet.url, 'GET', `/v1/ports?node=${NOWHERE}`, undefined, '1.82');
        assert.equal(r.status, 503, r.text);
        assert.match(faultOf(r), /\bsc\b/);
        const c = await send(fleet.url, 'POST', '/v1/ports', { address: MAC, node_uuid: NOWHERE }, '1.82');
        assert.equal(c.status, 503, c.text);
      } finally {
        await fleet.site('sc').setFault('none');
      }
    });

    test('drivers while a site is down: the union of the others, the silent site named (already so)', async () => {
      await fleet.site('sb').setFault('refuse');
      try {
        for (const path of ['/v1/drivers', '/v1/drivers/fake-hardware']) {
          const r = await fetch(fleet.url + path, { headers: { 'x-openstack-ironic-api-version': '1.82' } });
          assert.equal(r.status, 200, path);
          assert.equal(r.headers.get('x-ironic-proxy-missing-sites'), 'sb', path);
        }
        const p = await send(fleet.url, 'GET', '/v1/drivers/fake-hardware/properties', undefined, '1.82');
        assert.equal(p.status, 200, 'properties from a site that runs it');
      } finally {
        await fleet.site('sb').setFault('none');
      }
    });

    test('a node that one site has is still found while another is down', async () => {
      await fleet.site('sb').setFault('refuse');
      try {
        const r = await send(fleet.url, 'GET', '/v1/ports?node=n1&fields=address', undefined, '1.82');
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(JSON.parse(r.text).ports.map((p: { address: string }) => p.address), ['52:54:00:aa:bb:99']);
      } finally {
        await fleet.site('sb').setFault('none');
      }
    });
  });
});
