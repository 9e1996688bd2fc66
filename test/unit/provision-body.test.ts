/**
 * A provision body (it may carry a 64 MiB configdrive) is read only after
 * its node was located and the policy passed (issue 16, item 4): headers
 * first, then locate and authorise, then the body within the memory budget,
 * checked, forwarded. Every other /v1/nodes/{id}/… path keeps the 1 MiB limit.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startFleet, type Fleet } from '../support/sim-fleet.js';
import { ironicError, rawExchange } from '../support/raw-http.js';

const V = { 'x-openstack-ironic-api-version': '1.82', 'content-type': 'application/json' };

/** Sends the headers and the first bytes of a body announced as `length` bytes; resolves with the answer's head and the socket. */
function partialRequest(url: string, path: string, length: number, first: string): Promise<{ head: string; socket: Socket }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let got = '';
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) resolve({ head: got, socket });
    });
    socket.write(
      `PUT ${path} HTTP/1.1\r\nHost: ${hostname}\r\nX-OpenStack-Ironic-API-Version: 1.82\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${first}`,
    );
  });
}

describe('a provision body is read after its node is located and authorised', () => {
  let fleet: Fleet;
  let node: string;
  before(async () => {
    fleet = await startFleet([{ name: 'a', nodes: 1 }], { proxyIni: 'memory_budget = 16' });
    const list = await fetch(`${fleet.url}/v1/nodes`, { headers: V });
    node = ((await list.json()) as { nodes: Array<{ uuid: string }> }).nodes[0]!.uuid;
  });
  after(() => fleet.close());

  test('a node that does not exist: its 404 is answered with the body still unsent', async () => {
    const { head, socket } = await partialRequest(fleet.url, '/v1/nodes/no-such-node/states/provision', 30_000_000, '{"target":"manage","configdrive":"');
    socket.destroy();
    assert.match(head, /^HTTP\/1\.1 404 /);
    assert.equal(fleet.proxy.services.memory.inUse, 0, 'nothing held for the body');
  });

  test('a body larger than the whole memory budget (16 MiB here; a body costs twice its size while read) is refused only when it is read, after the node was found', async () => {
    const big = `{"target":"active","configdrive":"${'A'.repeat(9 * 1024 * 1024)}"}`;
    const r = await fetch(`${fleet.url}/v1/nodes/${node}/states/provision`, { method: 'PUT', headers: V, body: big });
    assert.equal(r.status, 413, await r.text());
    const missing = await fetch(`${fleet.url}/v1/nodes/no-such-node/states/provision`, { method: 'PUT', headers: V, body: big });
    assert.equal(missing.status, 404, 'located first: the missing node, not the size');
  });

  test('a provision body within the budget is read, checked and forwarded', async () => {
    const bad = await fetch(`${fleet.url}/v1/nodes/${node}/states/provision`, { method: 'PUT', headers: V, body: '{"target":"manage","x":1}' });
    assert.equal(bad.status, 400);
    const writes = (): number => fleet.sims[0]!.received.filter((l) => l.startsWith('PUT ')).length;
    const before = writes();
    const body = JSON.stringify({ target: 'manage' });
    const r = await fetch(`${fleet.url}/v1/nodes/${node}/states/provision`, { method: 'PUT', headers: V, body });
    assert.ok(r.status === 202 || r.status === 400, await r.text());
    assert.equal(writes(), before + 1, 'the good body reached the site, the bad one did not');
    assert.equal(fleet.proxy.services.memory.inUse, 0, 'the budget is given back');
  });

  test('a 20 MB provision body over the budget, from a raw socket: read to its end, then the 413 the client reads', async () => {
    const port = Number(new URL(fleet.url).port);
    const size = 20 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const parts = function* (): Generator<Buffer> {
      yield Buffer.from(
        `PUT /v1/nodes/${node}/states/provision HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-OpenStack-Ironic-API-Version: 1.82\r\nTransfer-Encoding: chunked\r\n\r\n`,
      );
      const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
      for (let sent = 0; sent < size; sent += chunk.length) yield frame;
      yield Buffer.from('0\r\n\r\n');
    };
    const a = await rawExchange(port, parts(), 30_000);
    assert.equal(a.status, 413, `got: ${a.raw.subarray(0, 300).toString('latin1')} (reset: ${a.reset})`);
    assert.match(String(ironicError(a.body).faultstring ?? ''), /too large/i);
    assert.equal(a.unsent, 0, 'the whole body was taken before the answer');
    assert.equal(fleet.proxy.services.memory.inUse, 0, 'nothing held afterwards');
  });

  test('concurrent large bodies: each takes its whole share of the budget or none, so some pass and the budget holds', async () => {
    const body = `{"target":"manage","configdrive":"${'A'.repeat(5 * 1024 * 1024)}"}`;
    const memory = fleet.proxy.services.memory;
    const statuses = await Promise.all(
      Array.from({ length: 6 }, () =>
        fetch(`${fleet.url}/v1/nodes/${node}/states/provision`, { method: 'PUT', headers: V, body }).then(async (r) => (await r.text(), r.status)),
      ),
    );
    assert.ok(statuses.some((s) => s !== 503), `some bodies were read: ${statuses.join(', ')}`);
    assert.ok(statuses.every((s) => [202, 400, 409, 503].includes(s)), statuses.join(', '));
    assert.ok(memory.peak <= memory.limit, `peak ${memory.peak} within ${memory.limit}`);
    assert.equal(memory.inUse, 0);
  });

  test('every other /v1/nodes/{id}/… path keeps the 1 MiB limit', async () => {
    const body = `{"reason":"${'r'.repeat(2 * 1024 * 1024)}"}`;
    const r = await fetch(`${fleet.url}/v1/nodes/${node}/maintenance`, { method: 'PUT', headers: V, body });
    assert.equal(r.status, 413);
  });
});
