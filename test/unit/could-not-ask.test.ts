/**
 * Issue 15.2: no code path turns "could not ask" into "does not exist". One
 * reading of a site's answer about an object (federation/ask.ts) is used by
 * lookups, markers, uniqueness checks and route-to-owner: found (the object,
 * with what was asked), absent (Ironic's own 404), or the site could not be
 * asked — 503/502 naming it. Before, a marker whose site answered 500 was
 * "Node … could not be found."
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { objectAnswer, readAtOwner } from '../../src/federation/ask.js';
import { Locator } from '../../src/federation/locator.js';
import { routeToOwner } from '../../src/federation/route-to-owner.js';
import { nodeNotFound, ProxyError, SiteErrorResponse, SiteProtocolError, SiteUnavailableError } from '../../src/errors.js';
import type { SiteClient, SiteRequest, SiteResponse } from '../../src/sites/site-client.js';
import { startFleet, getJson, type Fleet } from '../support/sim-fleet.js';

const faultstring = (body: { error_message: string }): string => JSON.parse(body.error_message).faultstring as string;
const res = (status: number, body: string, type = 'application/json'): SiteResponse => ({ status, headers: { 'content-type': type }, body: Buffer.from(body) });
const ironic404 = (text: string): SiteResponse => res(404, JSON.stringify({ error_message: JSON.stringify({ faultcode: 'Client', faultstring: text, debuginfo: null }) }));
const U = '6c3ad5b4-0b11-4bf3-9d3d-2f2a6e1f0a01';
const site = { name: 'b' };

describe('objectAnswer: found, absent, or could not ask', () => {
  test('found: a 200 holding the object asked about, with the fields asked for', () => {
    assert.deepEqual(objectAnswer(site, res(200, `{"uuid": "${U}", "name": "n"}`), U, ['uuid', 'name']), { found: true, doc: { uuid: U, name: 'n' } });
    assert.deepEqual(objectAnswer(site, res(200, '{"uuid": "x", "name": null}'), undefined, ['name']), { found: true, doc: { uuid: 'x', name: null } }, 'null is an answer');
  });

  test("absent: only Ironic's own 404", () => {
    assert.deepEqual(objectAnswer(site, ironic404(`Node ${U} could not be found.`), U), { found: false });
    assert.throws(() => objectAnswer(site, res(404, '<html>Not Found</html>', 'text/html'), U), SiteProtocolError, "a front end's 404 page is not Ironic saying so");
    assert.throws(() => objectAnswer(site, res(404, ''), U), SiteProtocolError);
  });

  test('could not ask: 5xx, 401/403, a success that is not the object', () => {
    for (const status of [500, 502, 503, 401, 403, 409]) {
      assert.throws(() => objectAnswer(site, res(status, '{"error_message": "x"}'), U), SiteUnavailableError, String(status));
    }
    assert.throws(() => objectAnswer(site, res(200, '{"maintenance": False}'), U), SiteProtocolError);
    assert.throws(() => objectAnswer(site, res(200, '[]'), U), SiteProtocolError);
    assert.throws(() => objectAnswer(site, res(200, '{}'), U, ['uuid']), SiteProtocolError, 'the fields asked for are in the answer, if only as null');
    assert.throws(() => objectAnswer(site, res(200, '{"uuid": "0f4b7b5c-8b0b-4d0e-a3a4-6a3c1d2e9f02"}'), U), SiteProtocolError, 'an answer about another node');
  });

  test('the identifier itself refused (400, 406): relayed as the site wrote it', () => {
    assert.throws(() => objectAnswer(site, res(400, '{"error_message": "bad"}'), 'a~b'), SiteErrorResponse);
  });
});

/** A site for route-to-owner: nodes it holds answer 200, others Ironic's 404; `fail` makes every request throw. */
class FakeSite {
  nodes = new Set<string>();
  fail?: Error;
  constructor(
    readonly name: string,
    readonly ordinal: number,
  ) {}
  async request(req: SiteRequest): Promise<SiteResponse> {
    if (this.fail) throw this.fail;
    const ident = decodeURIComponent(/^\/v1\/nodes\/([^/?]+)/.exec(req.path)![1]!);
    return this.nodes.has(ident) ? res(200, JSON.stringify({ uuid: ident, name: null })) : ironic404(`Node ${ident} could not be found.`);
  }
}

describe('route-to-owner and readAtOwner', () => {
  const setup = () => {
    const sites = [new FakeSite('a', 0), new FakeSite('b', 1), new FakeSite('c', 2)];
    const locator = new Locator(() => sites as unknown as SiteClient[], { collectionPath: '/v1/nodes', notFound: nodeNotFound, noun: 'node' }, 100, () => ({ major: 1, minor: 82 }));
    const get = (s: SiteClient) => s.request({ method: 'GET', path: `/v1/nodes/${U}?fields=uuid`, version: { major: 1, minor: 82 }, requestId: 'r' });
    return { sites, locator, get };
  };

  test("a stale cached site's 404 while another site cannot be asked: 503 naming it, not the stale 404", async () => {
    const { sites, locator, get } = setup();
    locator.remember(sites[0] as unknown as SiteClient, U); // the node is nowhere now …
    sites[2]!.fail = new SiteUnavailableError('c', 'connection refused'); // … as far as the sites that answer know
    await assert.rejects(routeToOwner(locator, U, { requestId: 'r' }, get), (err: unknown) => {
      assert.ok(err instanceof ProxyError);
      assert.equal(err.status, 503);
      assert.match(err.message, /site\(s\) c did not answer/);
      return true;
    });
  });

  test("the object's own 404 when every site says so", async () => {
    const { locator, get } = setup();
    await assert.rejects(readAtOwner(locator, U, { requestId: 'r' }, get, nodeNotFound, ['uuid']), (err: unknown) => err instanceof ProxyError && err.status === 404);
  });

  test('found at its site', async () => {
    const { sites, locator, get } = setup();
    sites[1]!.nodes.add(U);
    const { site, doc } = await readAtOwner(locator, U, { requestId: 'r' }, get, nodeNotFound, ['uuid']);
    assert.equal(site.name, 'b');
    assert.equal(doc.uuid, U);
  });
});

describe('a marker whose site answers 500', () => {
  let fleet: Fleet;
  let cached: string;
  let uncached: string;
  before(async () => {
    fleet = await startFleet([
      { name: 'a', nodes: 3 },
      { name: 'b', conductorGroups: ['gb'], nodes: 3 },
      { name: 'c', conductorGroups: ['gc'], nodes: 3 },
    ]);
    const listed = (await getJson(`${fleet.url}/v1/nodes?fields=uuid,name`)).body.nodes as Array<{ uuid: string; name: string }>;
    cached = listed.find((n) => n.name === 'b-node-1')!.uuid;
    uncached = listed.find((n) => n.name === 'b-node-2')!.uuid;
    await getJson(`${fleet.url}/v1/nodes/${cached}`);
  });
  after(() => fleet.close());

  for (const which of ['cached', 'not cached'] as const) {
    test(`its location ${which}: 503 naming the site, not "could not be found"`, async () => {
      const marker = which === 'cached' ? cached : uncached;
      await fleet.site('b').setFault('http500');
      try {
        const r = await getJson(`${fleet.url}/v1/nodes?sort_key=name&limit=3&marker=${marker}`);
        assert.equal(r.status, 503, JSON.stringify(r.body));
        assert.match(faultstring(r.body), /\bb\b/);
        assert.doesNotMatch(faultstring(r.body), /could not be found/);
      } finally {
        await fleet.site('b').setFault('none');
      }
      const healed = await getJson(`${fleet.url}/v1/nodes?sort_key=name&limit=3&marker=${marker}`);
      assert.equal(healed.status, 200);
    });
  }

  test('a marker whose site answers {} (no sort value): the site could not be asked, never every site from its start', async () => {
    await fleet.site('b').setFault('garbage', { shape: 'wrong-shape' });
    try {
      const r = await getJson(`${fleet.url}/v1/nodes?sort_key=name&limit=3&marker=${cached}`);
      assert.equal(r.status, 502, JSON.stringify(r.body));
      assert.match(faultstring(r.body), /Site b sent an invalid response/);
    } finally {
      await fleet.site('b').setFault('none');
    }
  });

  test('a new name while a site answers 500: the create is refused (503), never risked', async () => {
    await fleet.site('c').setFault('http500');
    try {
      const r = await fetch(`${fleet.url}/v1/nodes`, {
        method: 'POST',
        headers: { 'x-openstack-ironic-api-version': 'latest', 'content-type': 'application/json' },
        body: JSON.stringify({ driver: 'fake-hardware', name: 'brand-new' }),
      });
      assert.equal(r.status, 503);
      assert.match(faultstring((await r.json()) as { error_message: string }), /Cannot verify that node name brand-new is unused: site\(s\) c/);
    } finally {
      await fleet.site('c').setFault('none');
    }
  });
});
