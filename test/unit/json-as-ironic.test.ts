/**
 * Issue 16.2, through the proxy: every byte it interprets is read as Ironic
 * reads it. A body that starts with a byte-order mark is the same request to
 * the proxy's checks as to Ironic (no duplicate name slips past the
 * uniqueness check); values the proxy cannot carry exactly (NaN, Infinity,
 * numbers beyond a double) are refused before any site is touched; a site
 * document the proxy cannot read is that site's 502 for that object, and a
 * listing passes over just that object (naming its site) instead of losing
 * the site.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFleet, getJson, type Fleet } from '../support/sim-fleet.js';

const V = { 'x-openstack-ironic-api-version': 'latest', 'content-type': 'application/json' };
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const MISSING = 'x-ironic-proxy-missing-sites';
const faultstring = (body: { error_message: string }): string => JSON.parse(body.error_message).faultstring as string;

async function send(url: string, method: string, body: Buffer | string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method, headers: V, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('JSON as Ironic reads it, through the proxy', () => {
  let fleet: Fleet;
  const received = (): number => fleet.sims.reduce((n, s) => n + s.received.length, 0);
  before(async () => {
    fleet = await startFleet([
      { name: 'a', nodes: 3 },
      { name: 'b', conductorGroups: ['gb'], nodes: 3 },
    ]);
  });
  after(() => fleet.close());

  test('a create whose body starts with a byte-order mark is checked like any other: a name used at another site is a 409', async () => {
    const body = Buffer.concat([BOM, Buffer.from(JSON.stringify({ driver: 'fake-hardware', name: 'b-node-0' }))]);
    const r = await send(`${fleet.url}/v1/nodes`, 'POST', body);
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal(faultstring(r.body), 'A node with name b-node-0 already exists.');
    assert.equal(fleet.site('a').api.store.all().filter((n) => n.name === 'b-node-0').length, 0, 'no duplicate at site a');
  });

  test('a rename with a byte-order mark to a name used at another site is a 409', async () => {
    const uuid = (await getJson(`${fleet.url}/v1/nodes/a-node-1`)).body.uuid as string;
    const body = Buffer.concat([BOM, Buffer.from(JSON.stringify([{ op: 'replace', path: '/name', value: 'b-node-1' }]))]);
    const r = await send(`${fleet.url}/v1/nodes/${uuid}`, 'PATCH', body);
    assert.equal(r.status, 409, JSON.stringify(r.body));
  });

  test('a byte-order mark is otherwise harmless: the create goes through', async () => {
    const body = Buffer.concat([BOM, Buffer.from(JSON.stringify({ driver: 'fake-hardware', name: 'bom-ok' }))]);
    const r = await send(`${fleet.url}/v1/nodes`, 'POST', body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.name, 'bom-ok');
  });

  for (const [what, text] of [
    ['NaN', '[{"op": "add", "path": "/extra/x", "value": NaN}]'],
    ['Infinity', '[{"op": "add", "path": "/extra/x", "value": Infinity}]'],
    ['-Infinity', '[{"op": "add", "path": "/extra/x", "value": -Infinity}]'],
    ['number 1e400', '[{"op": "add", "path": "/extra/x", "value": 1e400}]'],
    ['integer 18446744073709551615', '[{"op": "add", "path": "/extra/x", "value": 18446744073709551615}]'],
  ] as const) {
    test(`a PATCH holding ${what} is refused with 400 before any site is touched`, async () => {
      const uuid = (await getJson(`${fleet.url}/v1/nodes/a-node-2`)).body.uuid as string;
      const before = received();
      const r = await send(`${fleet.url}/v1/nodes/${uuid}`, 'PATCH', text);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(faultstring(r.body), new RegExp(`holds ${what.replace(/[+]/g, '\\+')}`));
      assert.equal(received(), before, 'a site was asked');
    });
  }

  test('a create holding NaN is refused before the uniqueness check asks any site', async () => {
    const before = received();
    const r = await send(`${fleet.url}/v1/nodes`, 'POST', '{"driver": "fake-hardware", "name": "nan-node", "extra": {"x": NaN}}');
    assert.equal(r.status, 400);
    assert.equal(received(), before);
  });

  test("a site's node holding NaN is that site's 502 for that node", async () => {
    const uuid = (await getJson(`${fleet.url}/v1/nodes/b-node-2`)).body.uuid as string;
    await getJson(`${fleet.url}/v1/nodes/${uuid}`); // its site known: the request goes there, not to a lookup of every site
    await fleet.site('b').setFault('garbage', { shape: 'nan' });
    try {
      const r = await getJson(`${fleet.url}/v1/nodes/${uuid}`);
      assert.equal(r.status, 502);
      assert.match(faultstring(r.body), /Site b sent an invalid response: body holds NaN/);
    } finally {
      await fleet.site('b').setFault('none');
    }
  });

  test('a detail listing passes over the one node it cannot read and keeps the site’s others, naming the site', async () => {
    const all = (await getJson(`${fleet.url}/v1/nodes/detail`)).body.nodes as Array<{ name: string }>;
    const atB = all.filter((n) => n.name.startsWith('b-')).length;
    await fleet.site('b').setFault('garbage', { shape: 'nan' });
    try {
      const r = await getJson(`${fleet.url}/v1/nodes/detail`);
      assert.equal(r.status, 200);
      const names = (r.body.nodes as Array<{ name: string }>).map((n) => n.name);
      assert.equal(names.filter((n) => n.startsWith('b-')).length, atB - 1, `site b's other nodes are listed: ${names.join(',')}`);
      assert.equal(names.filter((n) => !n.startsWith('b-')).length, all.length - atB);
      assert.equal(r.headers.get(MISSING), 'b');
    } finally {
      await fleet.site('b').setFault('none');
    }
  });
});
