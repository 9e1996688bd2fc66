/**
 * Request bodies are checked against the shape their API table entry
 * declares (src/api/body.ts) before any site is asked (issue 10, item 1):
 * each case answers Ironic's 400 text (checked against Ironic 21.4, see
 * test/integration/bad-input-real.test.ts), or a clear one where Ironic
 * answers 500, and the site receives no write.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFleet, type Fleet } from '../support/sim-fleet.js';
import { schemaError } from '../../src/ironic/json-schema.js';
import { PATCH_SCHEMA } from '../../src/api/body.js';
import { pyRepr } from '../../src/ironic/py-repr.js';
import { MALFORMED_BODIES } from '../support/shape-corpus.js';

const V = { 'x-openstack-ironic-api-version': '1.82', 'content-type': 'application/json' };

/** The faultstring of Ironic's error body. */
function faultOf(text: string): string {
  const doc = JSON.parse(text) as { error_message?: unknown };
  assert.equal(typeof doc.error_message, 'string', `Ironic's body: ${text}`);
  return String((JSON.parse(doc.error_message as string) as { faultstring?: unknown }).faultstring);
}


describe('request bodies are checked against their entry before any site is asked', () => {
  let fleet: Fleet;
  let node: string;
  before(async () => {
    fleet = await startFleet([{ name: 'a', nodes: 1 }]);
    const list = await fetch(`${fleet.url}/v1/nodes`, { headers: V });
    node = ((await list.json()) as { nodes: Array<{ uuid: string }> }).nodes[0]!.uuid;
  });
  after(() => fleet.close());
  const writes = (): string[] => fleet.sims[0]!.received.filter((l) => !l.startsWith('GET '));

  for (const [method, path, body, status, text] of MALFORMED_BODIES) {
    test(`${method} ${path} ${body.length > 60 ? `${body.slice(0, 60)}…` : body}`, async () => {
      const before = writes().length;
      const r = await fetch(`${fleet.url}${path.replace('/N', `/${node}`)}`, { method, headers: V, body });
      const got = await r.text();
      assert.equal(r.status, status, got);
      if (typeof text === 'string') assert.equal(faultOf(got), text);
      else assert.match(faultOf(got), text);
      assert.deepEqual(writes().slice(before), [], 'no write reached the site');
    });
  }

  test('well-formed bodies still reach the site', async () => {
    const before = writes().length;
    const r = await fetch(`${fleet.url}/v1/nodes/${node}/states/power`, { method: 'PUT', headers: V, body: '{"target":"power on","timeout":"5"}' });
    assert.equal(r.status, 202, await r.text());
    const m = await fetch(`${fleet.url}/v1/nodes/${node}/maintenance`, { method: 'PUT', headers: V, body: '{"reason":"r"}' });
    assert.equal(m.status, 202, await m.text());
    assert.equal(writes().length, before + 2);
  });

  test('a body that is not JSON to an arguments handler is not read, as pecan does (text/plain)', async () => {
    const r = await fetch(`${fleet.url}/v1/nodes/${node}/states/provision`, {
      method: 'PUT',
      headers: { ...V, 'content-type': 'text/plain' },
      body: '{"target":"manage"}',
    });
    assert.equal(r.status, 400);
    assert.equal(faultOf(await r.text()), 'Missing mandatory parameter: target');
  });
});

describe("Ironic's schema texts", () => {
  test('best match: the error nearest the top wins, then the first in schema order', () => {
    assert.equal(schemaError('patch', PATCH_SCHEMA, [{ op: 'foo' }]), "Schema error for patch: 'path' is a required property");
    assert.equal(schemaError('patch', PATCH_SCHEMA, [{ op: 'add', path: '/a' }, 2]), "Schema error for patch: 2 is not of type 'object'");
    assert.equal(schemaError('patch', PATCH_SCHEMA, [{ op: 'add', path: '/a' }]), undefined);
  });
  test('anyOf: the root cause is named', () => {
    const schema = { anyOf: [{ pattern: '^CUSTOM_[A-Z0-9_]+$' }, { enum: ['HW_CPU_X86_AVX'] }] } as const;
    assert.equal(
      schemaError('trait', schema, 'lower'),
      "Schema error for trait: 'lower' is not valid under any of the given schemas. Possible root cause: 'lower' does not match '^CUSTOM_[A-Z0-9_]+$'",
    );
  });
  test("Python's repr", () => {
    assert.equal(pyRepr({ a: "it's", b: [1.5, null, false] }), `{'a': "it's", 'b': [1.5, None, False]}`);
    assert.equal(pyRepr('a\nb\\'), "'a\\nb\\\\'");
  });
});
