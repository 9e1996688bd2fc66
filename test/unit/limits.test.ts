/**
 * What one client can cost the proxy is bounded, and each bound answers in
 * Ironic's error shape: body size (1 MiB, 64 MiB for provision requests that
 * carry configdrives), requests queued per site, and slow clients that never
 * finish their headers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { startFleet, getJson, LATEST, type Fleet } from '../support/sim-fleet.js';

describe('limits', () => {
  let fleet: Fleet;
  before(async () => {
    fleet = await startFleet([{ name: 'a', nodes: 3, latencyMs: 0 }], {
      proxyIni: 'site_connections = 1\nsite_max_queue = 0\nclient_header_timeout = 0.5\nsite_timeout = 3\ncircuit_failure_threshold = 100',
    });
  });
  after(() => fleet.close());

  test('a body over 1 MiB is a 413 in Ironic shape', async () => {
    const res = await fetch(`${fleet.url}/v1/nodes`, {
      method: 'POST',
      headers: { ...LATEST, 'content-type': 'application/json' },
      body: JSON.stringify({ driver: 'fake-hardware', extra: { blob: 'x'.repeat(1_100_000) } }),
    });
    assert.equal(res.status, 413);
    const body = (await res.json()) as { error_message: string };
    assert.equal(typeof body.error_message, 'string');
    assert.equal(JSON.parse(body.error_message).faultstring, 'Request body is too large');
  });

  test('a provision request may carry a configdrive larger than 1 MiB', async () => {
    const uuid = (await getJson(`${fleet.url}/v1/nodes/a-node-0`)).body.uuid as string;
    const res = await fetch(`${fleet.url}/v1/nodes/${uuid}/states/provision`, {
      method: 'PUT',
      headers: { ...LATEST, 'content-type': 'application/json' },
      body: JSON.stringify({ target: 'rebuild', configdrive: 'x'.repeat(2_000_000) }),
    });
    assert.notEqual(res.status, 413, 'the site, not the proxy, judges a 2 MB configdrive');
  });

  test('past the per-site cap and queue, a request is refused at once with 503', async () => {
    const uuid = (await getJson(`${fleet.url}/v1/nodes/a-node-1`)).body.uuid as string;
    await getJson(`${fleet.url}/v1/nodes/${uuid}`); // cached by a question about the uuid itself (a name lookup caches the name only)
    // The one allowed request hangs at the site until the timeout, so the others find the slot taken.
    await fleet.site('a').setFault('hang');
    try {
      const results = await Promise.all([1, 2, 3].map(() => getJson(`${fleet.url}/v1/nodes/${uuid}`)));
      const statuses = results.map((r) => r.status).sort();
      assert.deepEqual(statuses, [503, 503, 504]);
      const refused = results.find((r) => r.status === 503)!;
      assert.match(JSON.parse(refused.body.error_message).faultstring, /Site a is unavailable: too many requests to this site in progress/);
    } finally {
      await fleet.site('a').setFault('none');
    }
  });

  test('a client that never finishes its headers is disconnected', async () => {
    const { port } = new URL(fleet.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /v1/nodes HTTP/1.1\r\nHost: x\r\n');
    const started = performance.now();
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    await once(socket, 'close');
    const ms = performance.now() - started;
    assert.ok(ms < 5000, `closed after ${ms.toFixed(0)} ms`);
    assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 408/);
  });
});
