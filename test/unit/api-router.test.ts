/**
 * Deny by default: a request form that no entry of the API table names is
 * answered by the proxy (404, or 405 with Allow) and never reaches a site;
 * a query parameter the entry's Ironic handler does not take is Ironic's 400;
 * path arguments that would re-route pecan are refused. Checked against
 * simulated sites that record every request they receive.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { API_TABLE } from '../../src/api/table/index.js';
import { groupByShape, shapeOf } from '../../src/api/router.js';
import { startFleet, type Fleet } from '../support/sim-fleet.js';

const V = { 'x-openstack-ironic-api-version': '1.82' };

/** Does `METHOD /path?query` match an entry of the table (method and path shape)? */
function inTable(line: string): boolean {
  const [method, url] = line.split(' ') as [string, string];
  const path = url.split('?')[0]!.replace(/\/+$/, '') || '/';
  const segs = path.split('/');
  return API_TABLE.some((e) => {
    if (e.method !== method) return false;
    const shape = shapeOf(e.path).split('/');
    return shape.length === segs.length && shape.every((s, i) => s === '{}' || s === segs[i]);
  });
}

describe('API table: deny by default', () => {
  let fleet: Fleet;
  let node: string;

  before(async () => {
    fleet = await startFleet([
      { name: 'a', nodes: 3 },
      { name: 'b', conductorGroups: ['g2'], nodes: 3 },
    ]);
    const res = await fetch(`${fleet.url}/v1/nodes?limit=1`, { headers: V });
    node = ((await res.json()) as { nodes: Array<{ uuid: string }> }).nodes[0]!.uuid;
  });
  after(() => fleet.close());

  const received = (): string[] => fleet.sims.flatMap((s) => [...s.received]);

  async function send(method: string, path: string, body?: unknown): Promise<{ status: number; allow: string | null; text: string }> {
    const res = await fetch(`${fleet.url}${path}`, {
      method,
      headers: { ...V, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, allow: res.headers.get('allow'), text: await res.text() };
  }

  /**
   * The request is answered by the proxy: no site sees it (sites may see the
   * proxy's own background requests meanwhile — version discovery, drift
   * checks — but nothing with this request's method and path).
   */
  async function refusedAtProxy(method: string, path: string, body?: unknown): Promise<{ status: number; allow: string | null; text: string }> {
    const before = received().length;
    const r = await send(method, path, body);
    const pathname = path.split('?')[0]!;
    const leaked = received().slice(before).filter((line) => line.startsWith(`${method} ${pathname}`) || (method !== 'GET' && !line.startsWith('GET ')));
    assert.deepEqual(leaked, [], `${method} ${path} reached a site`);
    const doc = JSON.parse(r.text) as { error_message?: unknown };
    assert.equal(typeof doc.error_message, 'string', `${method} ${path}: Ironic's error body (${r.text})`);
    return r;
  }

  test('the table has no two entries for one method and path shape', () => {
    assert.doesNotThrow(() => groupByShape(API_TABLE));
  });

  test("query parameters bound to handler arguments on a collection: refused (Ironic's Allow on the path), nothing forwarded", async () => {
    for (const [method, path] of [
      ['PATCH', `/v1/nodes?node_ident=${node}`],
      ['DELETE', `/v1/nodes?node_ident=${node}`],
      ['DELETE', '/v1/ports?port_uuid=4b1a4a0b-8d2b-4e5e-9d4b-2a7f1b9c0e11'],
      ['DELETE', '/v1/allocations?allocation_ident=a1'],
      ['PATCH', '/v1/chassis?chassis_uuid=4b1a4a0b-8d2b-4e5e-9d4b-2a7f1b9c0e11'],
    ] as const) {
      const r = await refusedAtProxy(method, path, method === 'PATCH' ? [{ op: 'replace', path: '/owner', value: 'x' }] : undefined);
      assert.equal(r.status, 400, `${method} ${path}`);
      assert.match(JSON.parse(JSON.parse(r.text).error_message).faultstring, /^Unexpected arguments: /);
      // Without the argument: Ironic's own 400, still from the proxy.
      const bare = await refusedAtProxy(method, path.split('?')[0]!);
      assert.equal(bare.status, 400);
      assert.match(JSON.parse(JSON.parse(bare.text).error_message).faultstring, /^Missing mandatory parameter: /);
    }
    const put = await refusedAtProxy('PUT', '/v1/nodes', {});
    assert.equal(put.status, 405);
    assert.equal(put.allow, 'DELETE, GET, PATCH, POST', "pecan's Allow");
  });

  test('a trailing segment pecan would read as `fields`, attribute-controller forms: 404 at the proxy', async () => {
    for (const path of [
      '/v1/allocations/a1/uuid,owner',
      '/v1/chassis/4b1a4a0b-8d2b-4e5e-9d4b-2a7f1b9c0e11/uuid',
      '/v1/deploy_templates/CUSTOM_X/uuid',
      '/v1/conductors/host1/hostname',
      `/v1/nodes/states/console/${node}`,
      `/v1/nodes/${node}/name,driver_info`,
      `/v1/nodes/${node}/states/power/on`,
      '/v1/no_such_collection',
    ]) {
      const r = await refusedAtProxy('GET', path);
      assert.equal(r.status, 404, path);
    }
  });

  test('a path argument that would re-route pecan to another controller is refused', async () => {
    const r = await refusedAtProxy('PUT', `/v1/nodes/${node}/traits/maintenance`);
    assert.equal(r.status, 404);
  });

  test("a query parameter the handler does not take is Ironic's 400, before any site is asked", async () => {
    const r = await refusedAtProxy('GET', `/v1/ports?node=${node}&node_ident=${node}&bogus=1`);
    assert.equal(r.status, 400);
    assert.match(JSON.parse(JSON.parse(r.text).error_message).faultstring, /^Unexpected arguments: node_ident, bogus$/);
    const t = await refusedAtProxy('DELETE', `/v1/nodes/${node}/traits?trait=CUSTOM_A`);
    assert.equal(t.status, 400, 'DELETE …/traits?trait= would delete every trait if the argument were dropped');
  });

  test('below its microversion a form is the 404 of routing, at the proxy', async () => {
    const res = await fetch(`${fleet.url}/v1/allocations`, { headers: { 'x-openstack-ironic-api-version': '1.51' } });
    assert.equal(res.status, 404);
  });

  test('every request that reached a site during these tests is a form the table names', async () => {
    await send('GET', `/v1/nodes/${node}`);
    await send('GET', `/v1/nodes/${node}/states`);
    const lines = received();
    assert.ok(lines.length > 0);
    for (const line of lines) assert.ok(inTable(line), `not in the table: ${line}`);
  });
});
