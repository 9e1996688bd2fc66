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

const V = { 'x-openstack-ironic-api-version': '1.82', 'content-type': 'application/json' };

/** The faultstring of Ironic's error body. */
function faultOf(text: string): string {
  const doc = JSON.parse(text) as { error_message?: unknown };
  assert.equal(typeof doc.error_message, 'string', `Ironic's body: ${text}`);
  return String((JSON.parse(doc.error_message as string) as { faultstring?: unknown }).faultstring);
}

/** [method, path (N = the node), body text, status, faultstring] — Ironic 21.4's answers unless noted. */
export const MALFORMED_BODIES: ReadonlyArray<readonly [string, string, string, number, string | RegExp]> = [
  ['PATCH', '/v1/nodes/N', '{}', 400, "Schema error for patch: {} is not of type 'array'"],
  ['PATCH', '/v1/nodes/N', '[{"op":"foo","path":"/extra/a","value":1}]', 400, "Schema error for patch: 'foo' is not one of ['add', 'replace', 'remove']"],
  ['PATCH', '/v1/nodes/N', '[{"op":"add","path":"extra/a","value":1}]', 400, "Schema error for patch: 'extra/a' does not match '^(/[\\\\w-]+)+$'"],
  ['PATCH', '/v1/nodes/N', '[{"op":"add"}]', 400, "Schema error for patch: 'path' is a required property"],
  ['PATCH', '/v1/nodes/N', '[{"op":"add","path":"/extra/a","value":1,"x":2}]', 400, "Schema error for patch: Additional properties are not allowed ('x' was unexpected)"],
  ['PATCH', '/v1/nodes/N', '[1]', 400, "Schema error for patch: 1 is not of type 'object'"],
  ['PATCH', '/v1/nodes/N', '"x"', 400, "Schema error for patch: 'x' is not of type 'array'"],
  // Ironic: 500 'NoneType' object is not iterable.
  ['PATCH', '/v1/nodes/N', 'null', 400, "Schema error for patch: None is not of type 'array'"],
  ['POST', '/v1/nodes', '[]', 400, "Schema error for node: [] is not of type 'object'"],
  ['POST', '/v1/nodes', '"text"', 400, "Schema error for node: 'text' is not of type 'object'"],
  ['POST', '/v1/nodes', '[{"a":1,"b":[true,null,"x"]}]', 400, "Schema error for node: [{'a': 1, 'b': [True, None, 'x']}] is not of type 'object'"],
  // Ironic: 500 'NoneType' object has no attribute 'get'.
  ['POST', '/v1/nodes', 'null', 400, "Schema error for node: None is not of type 'object'"],
  ['POST', '/v1/ports', '[]', 400, "Schema error for port: [] is not of type 'object'"],
  ['POST', '/v1/portgroups', '1', 400, "Schema error for portgroup: 1 is not of type 'object'"],
  ['POST', '/v1/chassis', 'true', 400, "Schema error for chassis: True is not of type 'object'"],
  ['POST', '/v1/allocations', '[]', 400, "Schema error for allocation: [] is not of type 'object'"],
  ['POST', '/v1/volume/connectors', '[]', 400, "Schema error for connector: [] is not of type 'object'"],
  ['POST', '/v1/deploy_templates', '[]', 400, "Schema error for template: [] is not of type 'object'"],
  ['PUT', '/v1/nodes/N/states/provision', '{}', 400, 'Missing mandatory parameter: target'],
  ['PUT', '/v1/nodes/N/states/provision', '[]', 400, 'Missing mandatory parameter: target'],
  ['PUT', '/v1/nodes/N/states/provision', 'null', 400, 'Missing mandatory parameter: target'],
  ['PUT', '/v1/nodes/N/states/provision', '{"target":1}', 400, 'Expected string for target: 1'],
  ['PUT', '/v1/nodes/N/states/provision', '{"target":"manage","x":1}', 400, 'Unexpected arguments: x'],
  ['PUT', '/v1/nodes/N/states/provision', '{"target":"deploy","clean_steps":{}}', 400, "Expected types <class 'NoneType'>, <class 'list'> for clean_steps: {}"],
  ['PUT', '/v1/nodes/N/states/provision', '{"target":"deploy","configdrive":5}', 400, "Expected types <class 'NoneType'>, <class 'dict'>, <class 'str'> for configdrive: 5"],
  [
    'PUT',
    '/v1/nodes/N/states/provision',
    '{"target":"deploy","disable_ramdisk":"maybe"}',
    400,
    "Invalid disable_ramdisk: Unrecognized value 'maybe', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'",
  ],
  // Ironic's text names the node's state: the proxy reads the node (GET) at its site, the PUT never goes there.
  ['PUT', '/v1/nodes/N/states/provision', '{"target":"bogus"}', 400, /^The requested action "bogus" can not be performed on node "[0-9a-f-]{36}" while it is in state "[a-z ]+"\.$/],
  ['PUT', '/v1/nodes/N/states/power', '{"target":"bogus"}', 400, /^The requested action "bogus" can not be performed on node "[0-9a-f-]{36}" while it is in state "(power on|power off|None)"\.$/],
  ['PUT', '/v1/nodes/N/states/power', '{"target":"power on","timeout":-1}', 400, 'timeout has to be positive integer'],
  ['PUT', '/v1/nodes/N/states/power', '{"target":"power on","timeout":0}', 400, 'timeout has to be positive integer'],
  ['PUT', '/v1/nodes/N/states/power', '{"target":"power on","timeout":"abc"}', 400, 'Expected an integer for timeout: abc'],
  ['PUT', '/v1/nodes/N/traits', '{}', 400, 'A single node trait may be added via PUT /v1/nodes/<node identifier>/traits/<trait> with no body, or all node traits may be replaced via PUT /v1/nodes/<node identifier>/traits with the list of traits specified in the request body.'],
  ['PUT', '/v1/nodes/N/traits', '{"traits":"x"}', 400, "Schema error for body: 'x' is not of type 'array'"],
  ['PUT', '/v1/nodes/N/traits', '{"traits":[1]}', 400, "Schema error for body: 1 is not of type 'string'"],
  ['PUT', '/v1/nodes/N/traits', '[]', 400, "Schema error for body: [] is not of type 'object'"],
  ['PUT', '/v1/nodes/N/traits', '{"traits":["CUSTOM_A"],"x":1}', 400, "Schema error for body: Additional properties are not allowed ('x' was unexpected)"],
  ['PUT', '/v1/nodes/N/traits/CUSTOM_B', '{"x":1}', 400, "Schema error for body: Additional properties are not allowed ('x' was unexpected)"],
  ['POST', '/v1/nodes/N/vifs', '{}', 400, "Schema error for vif: 'id' is a required property"],
  ['POST', '/v1/nodes/N/vifs', '[]', 400, "Schema error for vif: [] is not of type 'object'"],
  ['POST', '/v1/nodes/N/vifs', '{"id":5}', 400, "Schema error for vif: 5 is not of type 'string'"],
  // Ironic: 500 argument of type 'NoneType' is not iterable.
  ['POST', '/v1/nodes/N/vifs', 'null', 400, "Schema error for vif: None is not of type 'object'"],
  ['PUT', '/v1/nodes/N/maintenance', '{"reason":5}', 400, 'Expected string for reason: 5'],
  ['PUT', '/v1/nodes/N/maintenance', '{"x":5}', 400, 'Unexpected arguments: x'],
  ['PUT', '/v1/nodes/N/management/boot_device', '{}', 400, 'Missing mandatory parameter: boot_device'],
  ['PUT', '/v1/nodes/N/management/boot_device', '{"boot_device":5}', 400, 'Expected string for boot_device: 5'],
  [
    'PUT',
    '/v1/nodes/N/management/boot_device',
    '{"boot_device":"pxe","persistent":"x"}',
    400,
    "Invalid persistent: Unrecognized value 'x', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'",
  ],
  ['PUT', '/v1/nodes/N/management/indicators/led@system', '{"state":5}', 400, 'Expected string for state: 5'],
  ['PUT', '/v1/nodes/N/management/indicators/led@system', '{}', 400, 'Missing mandatory parameter: state'],
  ['PUT', '/v1/nodes/N/states/raid', '[]', 400, "Expected types <class 'dict'> for target_raid_config: []"],
  ['PUT', '/v1/nodes/N/states/raid', 'null', 400, "Expected types <class 'dict'> for target_raid_config: None"],
  ['PUT', '/v1/nodes/N/states/console', '{}', 400, 'Missing mandatory parameter: enabled'],
  ['PUT', '/v1/nodes/N/states/boot_mode', '{"target":5}', 400, 'Expected string for target: 5'],
  [
    'PUT',
    '/v1/nodes/N/states/secure_boot',
    '{"target":"x"}',
    400,
    "Invalid target: Unrecognized value 'x', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'",
  ],
  ['PUT', '/v1/nodes/N/management/inject_nmi', '{"x":1}', 400, 'Unexpected arguments: x'],
  // No body is an argument of a DELETE (pecan would bind `trait` and delete one trait instead of all).
  ['DELETE', '/v1/nodes/N/traits', '{"trait":"CUSTOM_A"}', 400, 'Unexpected arguments: trait'],
  // Deeper than Ironic can take back (a node storing 510 levels in `extra` answers every later PATCH with a 500).
  [
    'PATCH',
    '/v1/nodes/N',
    `[{"op":"add","path":"/extra/deep","value":${'['.repeat(100)}${']'.repeat(100)}}]`,
    400,
    'The request body nests objects and arrays more than 64 levels deep, which is not accepted.',
  ],
];

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
