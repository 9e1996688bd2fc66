/**
 * What the proxy writes about each request: one access line per request
 * (request id, method, path without its query, status, time), handler lines
 * carrying the request's id, and never a credential.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import { accessLogger } from '../../src/http/request-logger.js';
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

describe('the access line', () => {
  /** What a logger wrote to its destination, as lines. */
  function capture(): { log: ReturnType<typeof createLogger>; lines: () => string[] } {
    const chunks: string[] = [];
    const to = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString('utf8'));
        cb();
      },
    });
    return { log: createLogger({ level: 'info', to }), lines: () => chunks.join('').split('\n').filter(Boolean) };
  }

  test("is the line pino itself writes for the same fields (quotes, non-ASCII, no global id)", async () => {
    const cases = [
      { requestId: 'req-1', method: 'GET', path: '/v1/nodes/a"b\\c', status: 200, ms: 1.5, globalRequestId: 'req-2' },
      { requestId: 'req-3', method: 'PATCH', path: '/v1/nodes/nœud\u2028x', status: 404, ms: 0, globalRequestId: undefined },
    ];
    for (const c of cases) {
      const ours = capture();
      const theirs = capture();
      accessLogger(ours.log)(c);
      theirs.log.info({ request_id: c.requestId, method: c.method, path: c.path, status: c.status, ms: c.ms, global_request_id: c.globalRequestId }, 'request');
      await new Promise((resolve) => setImmediate(resolve));
      const [a] = ours.lines();
      const [b] = theirs.lines();
      const strip = (line: string | undefined): unknown => {
        const doc = JSON.parse(line ?? 'null') as Record<string, unknown>;
        delete doc.time; // written a moment apart
        return doc;
      };
      assert.deepEqual(strip(a), strip(b));
      assert.deepEqual(Object.keys(JSON.parse(a!) as object), Object.keys(JSON.parse(b!) as object), 'same fields in the same order');
    }
  });

  test('is not written when the logger is above info', async () => {
    const { log, lines } = capture();
    log.level = 'warn';
    accessLogger(log)({ requestId: 'req-1', method: 'GET', path: '/', status: 200, ms: 1, globalRequestId: undefined });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(lines(), []);
  });
});
