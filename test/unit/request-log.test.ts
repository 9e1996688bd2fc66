/**
 * What the proxy writes about each request: one access line per request
 * (request id, method, path without its query, status, time), handler lines
 * carrying the request's id, and never a credential.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import { startFleet, getJson, LATEST, type Fleet } from '../support/sim-fleet.js';

describe('request logging', () => {
  let fleet: Fleet;
  const written: string[] = [];
  const lines = (): Array<Record<string, unknown>> => written.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

  /** The access line is written when the answer has been handed to the socket: wait for it (bounded). */
  async function linesOf(id: string | null, msg: string): Promise<Array<Record<string, unknown>>> {
    const deadline = Date.now() + 2000;
    for (;;) {
      const found = lines().filter((l) => l.request_id === id && l.msg === msg);
      if (found.length > 0 || Date.now() > deadline) return found;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  before(async () => {
    const to = new Writable({
      write(chunk: Buffer, _enc, cb) {
        written.push(chunk.toString('utf8'));
        cb();
      },
    });
    fleet = await startFleet([{ name: 'a', nodes: 2, latencyMs: 0 }], { log: createLogger({ level: 'info', to }) });
  });
  after(() => fleet.close());

  test('one access line per request, with the id the client got and the path without its query', async () => {
    const uuid = (await getJson(`${fleet.url}/v1/nodes/a-node-0`)).body.uuid as string;
    const secret = 'gAAAA-secret-token-value';
    const res = await fetch(`${fleet.url}/v1/nodes/${uuid}?fields=uuid,name`, { headers: { ...LATEST, 'x-auth-token': secret, authorization: `Bearer ${secret}` } });
    assert.equal(res.status, 200);
    const id = res.headers.get('x-openstack-request-id');
    assert.match(id ?? '', /^req-[0-9a-f-]{36}$/);
    const mine = await linesOf(id, 'request');
    assert.equal(mine.length, 1, JSON.stringify(mine));
    assert.equal(mine[0]!.method, 'GET');
    assert.equal(mine[0]!.path, `/v1/nodes/${uuid}`);
    assert.equal(mine[0]!.status, 200);
    assert.equal(typeof mine[0]!.ms, 'number');
    assert.ok(!written.join('').includes(secret), 'a credential reached the log');
  });

  test("a handler's own line carries the request id", async () => {
    const uuid = (await getJson(`${fleet.url}/v1/nodes/a-node-1`)).body.uuid as string;
    await getJson(`${fleet.url}/v1/nodes/${uuid}`); // cached by a question about the uuid itself (a name lookup caches the name only)
    await fleet.site('a').setFault('garbage');
    try {
      const res = await fetch(`${fleet.url}/v1/nodes/${uuid}`, { headers: LATEST });
      assert.equal(res.status, 502);
      const id = res.headers.get('x-openstack-request-id');
      const failed = await linesOf(id, 'request failed');
      assert.equal(failed.length, 1, JSON.stringify(failed));
      assert.equal(failed[0]!.request_id, id);
      assert.equal(failed[0]!.level, 40);
      assert.equal((await linesOf(id, 'request')).length, 1);
    } finally {
      await fleet.site('a').setFault('none');
    }
  });
});
