/**
 * The shape corpus of issue 10 (items 1–2): bodies and query strings that
 * the proxy refuses before any site is asked, with the answer it gives —
 * Ironic 21.4's own 4xx text where Ironic has one (checked against a real
 * site by test/integration/bad-input-real.test.ts), a clear 400 where
 * Ironic answers 500. N in a path stands for a node's uuid.
 */

const BOOLS = "acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'";

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
  ['POST', '/v1/ports', '{}', 400, "Schema error for port: 'address' is a required property"],
  ['POST', '/v1/ports', '{"address":"52:54:00:12:34:56"}', 400, "Schema error for port: 'node_uuid' is a required property"],
  ['POST', '/v1/nodes', '{"driver":"fake-hardware","uuid":"not-a-uuid"}', 400, 'Expected UUID for uuid: not-a-uuid'],
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

/** [path and query (N = a node), status, faultstring]. */
export const MALFORMED_QUERIES: ReadonlyArray<readonly [string, number, string]> = [
  // Ironic 21.4: 500 "type object 'Node' has no attribute 'no_such_field'".
  ['/v1/nodes?fields=no_such_field', 400, 'Field(s) "no_such_field" are not valid'],
  ['/v1/nodes?fields=uuid,bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/nodes/N?fields=no_such_field', 400, 'Field no_such_field is not a valid field.'],
  ['/v1/ports?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/portgroups?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/chassis?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/allocations?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/conductors?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/drivers?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/deploy_templates?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/volume/connectors?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/volume/targets?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/nodes/N/ports?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  // Ironic: a 500 once the node has BIOS settings (object_to_dict reads the field off each).
  ['/v1/nodes/N/bios?fields=bogus', 400, 'Field(s) "bogus" are not valid'],
  ['/v1/nodes?limit=-1', 400, 'Limit must be positive'],
  ['/v1/nodes?limit=0', 400, 'Limit must be positive'],
  ['/v1/nodes?limit=abc', 400, 'Expected an integer for limit: abc'],
  ['/v1/nodes?limit=1.5', 400, 'Expected an integer for limit: 1.5'],
  ['/v1/nodes?sort_dir=up', 400, "Invalid sort direction: up. Acceptable values are 'asc' or 'desc'"],
  ['/v1/nodes?marker=abc', 400, 'Expected UUID for marker: abc'],
  ['/v1/nodes?detail=maybe', 400, `Invalid detail: Unrecognized value 'maybe', ${BOOLS}`],
  ['/v1/nodes?maintenance=maybe', 400, `Invalid maintenance: Unrecognized value 'maybe', ${BOOLS}`],
  ['/v1/nodes?associated=maybe', 400, `Invalid associated: Unrecognized value 'maybe', ${BOOLS}`],
  ['/v1/nodes?retired=maybe', 400, `Invalid retired: Unrecognized value 'maybe', ${BOOLS}`],
  ['/v1/nodes?sharded=maybe', 400, `Invalid sharded: Unrecognized value 'maybe', ${BOOLS}`],
  ['/v1/ports?detail=maybe', 400, `Invalid detail: Unrecognized value 'maybe', ${BOOLS}`],
  ['/v1/nodes?fault=bogus', 400, `Unrecognized fault "bogus" is specified, allowed faults are ('power failure', 'clean failure', 'rescue abort failure')`],
  ['/v1/nodes?provision_state=bogus', 400, 'Provision state "bogus" is not valid'],
  ['/v1/nodes?instance_uuid=abc', 400, 'Expected UUID for instance_uuid: abc'],
  ['/v1/nodes?limit=1&limit=2', 400, "Expected an integer for limit: ['1', '2']"],
  ['/v1/nodes?maintenance=true&maintenance=false', 400, `Invalid maintenance: Unrecognized value '['true', 'false']', ${BOOLS}`],
  ['/v1/nodes?fields=uuid&fields=name', 400, "Expected string for fields: ['uuid', 'name']"],
  ['/v1/nodes?driver=a&driver=b', 400, "Expected string for driver: ['a', 'b']"],
  ['/v1/chassis?sort_key=extra', 400, 'The sort_key value extra is an invalid field for sorting'],
  ['/v1/deploy_templates?sort_key=steps', 400, 'The sort_key value steps is an invalid field for sorting'],
];

/**
 * Cases where the proxy is stricter than Ironic on purpose (the issue's
 * title): pecan binds a DELETE's JSON body keys as arguments, so Ironic
 * deletes the one trait the body names instead of all; the proxy refuses
 * the body.
 */
export const STRICTER: ReadonlySet<string> = new Set(['DELETE /v1/nodes/N/traits {"trait":"CUSTOM_A"}']);
