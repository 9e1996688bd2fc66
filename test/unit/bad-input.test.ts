/**
 * Bad input ends at the proxy in Ironic's error body (issue 10, first part):
 * a body that is not JSON, an argument too long, a bad percent-encoding,
 * headers too large — never a site, never the framework's own body.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { startFleet, type Fleet } from '../support/sim-fleet.js';

const V = { 'x-openstack-ironic-api-version': '1.82' };

/** Raw request, so that what fetch would refuse to send (huge headers) can be sent. */
function raw(url: string, path: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The Ironic error body: error_message is a JSON string. */
function inner(text: string): Record<string, unknown> {
  const doc = JSON.parse(text) as { error_message?: unknown };
  assert.equal(typeof doc.error_message, 'string', `Ironic's body: ${text}`);
  return JSON.parse(doc.error_message as string) as Record<string, unknown>;
}

describe('bad input stops at the proxy, in Ironic\'s body', () => {
  let fleet: Fleet;
  before(async () => {
    fleet = await startFleet([{ name: 'a', nodes: 1 }]);
  });
  after(() => fleet.close());
  const posts = (): number => fleet.sims[0]!.received.filter((l) => l.startsWith('POST ')).length;

  test('a body that is not JSON: 400 naming why, no site asked', async () => {
    const before = posts();
    for (const body of ['{bad', 'x', '{"a": 1']) {
      const r = await raw(fleet.url, '/v1/nodes', { ...V, 'content-type': 'application/json' }, 'POST', body);
      assert.equal(r.status, 400, body);
      assert.match(String(inner(r.text).faultstring), /^The request body is not valid JSON/);
    }
    assert.equal(posts(), before);
  });

  test('a path argument too long (414) and a bad percent-encoding (400): routing errors in Ironic\'s body', async () => {
    const long = await raw(fleet.url, `/v1/nodes/${'a'.repeat(10_000)}`, V);
    assert.equal(long.status, 414);
    assert.equal(inner(long.text).code, 414);
    const bad = await raw(fleet.url, '/v1/nodes/%zz', V);
    assert.equal(bad.status, 400);
    assert.equal(inner(bad.text).code, 400);
  });

  test("headers too large: Node's parser's 431 in Ironic's body", async () => {
    const r = await raw(fleet.url, '/v1/nodes', { ...V, 'x-big': 'a'.repeat(100_000) });
    assert.equal(r.status, 431);
    assert.equal(inner(r.text).title, 'Request Header Fields Too Large');
  });
});
