/**
 * Differential check: the same nodes (same uuids, names, fields, states) on a
 * real Ironic 21.4 site and on a simulator site, then a corpus of a few
 * hundred requests — listings with every parameter family, field selections,
 * versions, and invalid inputs — sent to both. Responses must be equal after
 * normalising what is legitimately different (base URL, timestamps, conductor
 * host names, request ids, the internal id in one message).
 *
 * Without python3-ironic this fails (the test command installs it), it is
 * never skipped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startSimSite, type SimSite } from '../../src/sim/index.js';
import { startRealSites, type RealSites } from '../support/real-ironic.js';
import { Client, expectStatus, waitFor, type Res } from './http.js';
import { assertRealIronicAvailable } from './real-harness.js';

const UUIDS = [
  '11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222',
  '33333333-3333-4333-8333-333333333333', '44444444-4444-4444-8444-444444444444',
  '55555555-5555-4555-8555-555555555555', '66666666-6666-4666-8666-666666666666',
  '77777777-7777-4777-8777-777777777777',
];

/** The same history on both targets. */
async function populate(c: Client, group: string): Promise<void> {
  const specs: Array<Record<string, unknown>> = [
    { name: 'dn-c', resource_class: 'gpu', maintenance: true, description: 'Rack 1' },
    { name: 'dn-a', resource_class: 'baremetal', properties: { cpus: 4 } },
    { name: 'dn-b', resource_class: null, extra: { k: 'v' } },
    { name: 'dn-e', resource_class: 'baremetal', driver_info: { ipmi_password: 'secret', ipmi_username: 'u' } },
    { name: null, resource_class: 'gpu' },
    { name: 'dn-d', resource_class: 'baremetal', maintenance: true },
    { name: 'dn-f', resource_class: 'gpu', instance_info: { image_url: 'http://x', configdrive: 'abc', a: 1 } },
  ];
  for (const [i, spec] of specs.entries()) {
    const r = await c.post('/v1/nodes', { driver: 'fake-hardware', conductor_group: group, uuid: UUIDS[i], ...spec });
    expectStatus(r, 201);
  }
  const patch = async (u: string, ops: unknown[]): Promise<void> => expectStatus(await c.patch(`/v1/nodes/${u}`, ops), 200);
  await patch(UUIDS[0]!, [{ op: 'add', path: '/owner', value: 'proj-1' }]);
  await patch(UUIDS[1]!, [{ op: 'add', path: '/owner', value: 'proj-1' }, { op: 'add', path: '/lessee', value: 'proj-2' }]);
  await patch(UUIDS[3]!, [{ op: 'add', path: '/shard', value: 's1' }, { op: 'add', path: '/retired', value: true }]);
  await patch(UUIDS[5]!, [{ op: 'add', path: '/instance_uuid', value: '99999999-9999-4999-8999-999999999999' }]);
  expectStatus(await c.put(`/v1/nodes/${UUIDS[2]}/traits`, { traits: ['CUSTOM_B', 'CUSTOM_A'] }), 204);
  for (const u of [UUIDS[1]!, UUIDS[2]!, UUIDS[6]!]) {
    expectStatus(await c.put(`/v1/nodes/${u}/states/provision`, { target: 'manage' }), 202);
  }
  for (const u of [UUIDS[2]!, UUIDS[6]!]) {
    await settle(c, u);
    expectStatus(await c.put(`/v1/nodes/${u}/states/provision`, { target: 'provide' }), 202);
  }
  await settle(c, UUIDS[6]!);
  expectStatus(await c.put(`/v1/nodes/${UUIDS[6]}/states/provision`, { target: 'active', configdrive: 'cd' }), 202);
  expectStatus(await c.put(`/v1/nodes/${UUIDS[4]}/states/power`, { target: 'power on' }), 202);
  expectStatus(await c.put(`/v1/nodes/${UUIDS[1]}/states/provision`, { target: 'clean', clean_steps: [{ interface: 'bios', step: 'factory_reset' }] }), 202);
  // deploy with an image, then undeploy
  await settle(c, UUIDS[2]!);
  await patch(UUIDS[2]!, [{ op: 'add', path: '/instance_info/image_source', value: 'http://img' }]);
  expectStatus(await c.put(`/v1/nodes/${UUIDS[2]}/states/provision`, { target: 'deploy' }), 202);
  await settle(c, UUIDS[2]!);
  expectStatus(await c.put(`/v1/nodes/${UUIDS[2]}/states/provision`, { target: 'undeploy' }), 202);
  // rescue and back
  await settle(c, UUIDS[6]!);
  expectStatus(await c.put(`/v1/nodes/${UUIDS[6]}/states/provision`, { target: 'rescue', rescue_password: 'pw' }), 202);
  await settle(c, UUIDS[6]!);
  expectStatus(await c.put(`/v1/nodes/${UUIDS[6]}/states/provision`, { target: 'unrescue' }), 202);
  for (const u of UUIDS) await settle(c, u);
}

async function settle(c: Client, u: string): Promise<void> {
  await waitFor(`${u} settled`, async () => {
    const s = await c.get(`/v1/nodes/${u}?fields=target_provision_state,target_power_state,reservation`);
    return s.json.target_provision_state === null && s.json.target_power_state === null && s.json.reservation === null
      ? true
      : undefined;
  });
}

/** Waits for an asynchronous change: `<uuid>` (provision/power settled) or `console:<uuid>:<true|false>`. */
async function settleSpec(c: Client, spec: string): Promise<void> {
  const [kind, u, want] = spec.split(':');
  if (kind === 'error') {
    // an asynchronous failure that only shows in last_error
    await waitFor(`${u} last_error`, async () => {
      const s = await c.get(`/v1/nodes/${u}?fields=last_error,reservation`);
      return s.json.last_error && s.json.reservation === null ? true : undefined;
    });
    return;
  }
  if (kind !== 'console') return settle(c, spec);
  await settle(c, u!);
  await waitFor(`${u} console ${want}`, async () => {
    const s = await c.get(`/v1/nodes/${u}/states/console`);
    return String(s.json.console_enabled) === want ? true : undefined;
  });
}

/** The request corpus: [method, path, version, body?]. */
function corpus(): Array<[string, string, string | null, unknown?]> {
  const out: Array<[string, string, string | null, unknown?]> = [];
  const versions = [null, '1.5', '1.20', '1.43', '1.50', 'latest'];
  for (const v of versions) {
    out.push(['GET', '/v1/', v], ['GET', '/v1/nodes', v], ['GET', '/v1/nodes/detail', v], ['GET', `/v1/nodes/${UUIDS[2]}`, v]);
    out.push(['GET', `/v1/nodes/${UUIDS[3]}/states`, v], ['GET', '/v1/nodes/dn-a', v]);
  }
  for (const key of ['id', 'name', 'uuid', 'resource_class', 'provision_state', 'maintenance', 'owner', 'power_state', 'conductor_affinity', 'instance_uuid', 'retired']) {
    for (const dir of ['asc', 'desc']) {
      for (const limit of [1, 2, 3]) out.push(['GET', `/v1/nodes?sort_key=${key}&sort_dir=${dir}&limit=${limit}`, 'latest']);
    }
  }
  // pages after a marker, including markers whose sort value is NULL
  for (const key of ['name', 'resource_class', 'owner', 'id']) {
    for (const dir of ['asc', 'desc']) {
      for (const m of [UUIDS[4]!, UUIDS[2]!, UUIDS[0]!]) out.push(['GET', `/v1/nodes?sort_key=${key}&sort_dir=${dir}&limit=2&marker=${m}`, 'latest']);
    }
  }
  const filters = [
    'maintenance=true', 'maintenance=false', 'associated=true', 'associated=False', 'retired=yes', 'provision_state=manageable',
    'provision_state=available', 'provision_state=enroll', 'driver=fake-hardware', 'resource_class=gpu', 'resource_class=',
    'owner=proj-1', 'lessee=proj-2', 'project=proj-2', 'project=proj-1', 'description_contains=rack', 'shard=s1', 'sharded=true',
    'sharded=false', 'conductor_group=grp1', 'conductor_group=GRP1', `instance_uuid=99999999-9999-4999-8999-999999999999`,
    'fault=power%20failure', 'maintenance=true&resource_class=baremetal', 'detail=true', 'detail=false', 'detail=1&maintenance=1',
  ];
  for (const f of filters) {
    out.push(['GET', `/v1/nodes?${f}`, 'latest'], ['GET', `/v1/nodes?${f}&limit=1`, 'latest']);
  }
  const fieldSets = ['uuid', 'name,UUID', 'traits,uuid', 'driver_info,instance_info', 'resource_class', 'owner,lessee,shard', 'conductor', 'created_at', 'bogus', 'links', 'chassis_uuid,name', 'allocation_uuid'];
  for (const f of fieldSets) {
    out.push(['GET', `/v1/nodes?fields=${f}&limit=2`, 'latest'], ['GET', `/v1/nodes/${UUIDS[1]}?fields=${f}`, 'latest']);
    out.push(['GET', `/v1/nodes?fields=${f}&limit=2`, '1.20'], ['GET', `/v1/nodes/${UUIDS[1]}?fields=${f}`, '1.7']);
  }
  const bad = [
    'limit=0', 'limit=-5', 'limit=x', 'limit=1.0', 'limit=%201%20', 'marker=nope', 'marker=12345678-1234-4234-8234-123456789012',
    'sort_key=extra', 'sort_key=foo', 'sort_key=traits', 'sort_key=service_step', 'sort_key=conductor', 'sort_dir=UP', 'sort_dir=',
    'provision_state=bogus', 'fault=x', 'detail=x', 'maintenance=x', 'associated=2', 'fields=uuid&detail=True', 'foo=bar', 'detail=True',
    'chassis_uuid=12345678-1234-4234-8234-123456789012', 'chassis_uuid=x', 'instance_uuid=x', 'sort_key=name&sort_key=uuid',
    // (two unexpected arguments are listed in Python set order, which varies per process: not compared)
    'limit=1&limit=2', 'shard=', 'owner=',
  ];
  for (const b of bad) {
    out.push(['GET', `/v1/nodes?${b}`, 'latest']);
    // /detail takes neither fields nor detail: two unexpected arguments come out in
    // Python's (per-process random) set order, so only one at a time is compared
    if (!(b.includes('fields=') && b.includes('detail='))) out.push(['GET', `/v1/nodes/detail?${b}`, 'latest']);
  }
  for (const [q, v] of [
    ['driver=x', '1.15'], ['resource_class=x', '1.20'], ['fault=x', '1.41'], ['conductor_group=x', '1.45'], ['conductor=x', '1.48'],
    ['owner=x', '1.49'], ['lessee=x', '1.64'], ['shard=x', '1.81'], ['sharded=1', '1.81'], ['provision_state=x', '1.8'],
    ['detail=true', '1.42'], ['fields=name', '1.7'], ['sort_key=owner', '1.49'], ['retired=true', '1.50'], ['project=x', '1.50'],
  ] as const) {
    out.push(['GET', `/v1/nodes?${q}`, v], ['GET', `/v1/nodes/detail?${q}`, v]);
  }
  for (const p of [
    `/v1/nodes/${UUIDS[0]}/traits`, `/v1/nodes/${UUIDS[2]}/traits`, `/v1/nodes/${UUIDS[0]}/vifs`, `/v1/nodes/${UUIDS[0]}/bios`,
    `/v1/nodes/${UUIDS[0]}/history`, `/v1/nodes/${UUIDS[0]}/validate`, `/v1/nodes/${UUIDS[0]}/management/boot_device`,
    `/v1/nodes/${UUIDS[0]}/states/console`, '/v1/nodes/dn-b/traits', '/v1/nodes/dn-b/name', '/v1/nodes/dn-b/uuid',
    '/v1/nodes/nobody', '/v1/nodes/12345678-1234-4234-8234-123456789012', '/v1/nodes/a%20b', '/v1/nodes/ports',
    '/v1/nodes/dn-b.json', `/nodes/${UUIDS[1]}`, '/v1/nodes/dn-a/management/boot_device/supported',
  ]) {
    for (const v of ['1.1', '1.36', '1.40', 'latest']) out.push(['GET', p, v]);
  }
  // writes that fail without changing anything
  out.push(
    ['POST', '/v1/nodes', 'latest', { driver: 'fake-hardware', conductor_group: 'grp1', name: 'dn-a' }],
    ['POST', '/v1/nodes', 'latest', { driver: 'fake-hardware', conductor_group: 'grp1', uuid: UUIDS[0] }],
    ['POST', '/v1/nodes', 'latest', { driver: 'fake-hardware', conductor_group: 'other' }],
    ['POST', '/v1/nodes', 'latest', { conductor_group: 'grp1' }],
    ['POST', '/v1/nodes', 'latest', { driver: 'fake-hardware', conductor_group: 'grp1', name: 'a b' }],
    ['POST', '/v1/nodes', '1.45', { driver: 'fake-hardware', conductor_group: 'grp1' }],
    ['PATCH', `/v1/nodes/${UUIDS[0]}`, 'latest', [{ op: 'replace', path: '/name', value: 'dn-a' }]],
    ['PATCH', `/v1/nodes/${UUIDS[0]}`, 'latest', [{ op: 'add', path: '/extra/a/b', value: 1 }]],
    ['PATCH', `/v1/nodes/${UUIDS[2]}`, 'latest', [{ op: 'remove', path: '/extra/zz' }]],
    ['PATCH', `/v1/nodes/${UUIDS[0]}`, 'latest', [{ op: 'replace', path: '/conductor_group', value: 'other' }]],
    ['PATCH', `/v1/nodes/${UUIDS[0]}`, 'latest', [{ op: 'replace', path: '/id', value: 5 }]],
    ['PATCH', `/v1/nodes/${UUIDS[0]}`, 'latest', { op: 'replace' }],
    ['PATCH', `/v1/nodes/${UUIDS[0]}`, 'latest', [{ op: 'copy', path: '/extra' }]],
    ['PATCH', `/v1/nodes/${UUIDS[0]}`, 'latest', [{ op: 'replace', path: '/extra/x.y', value: 1 }]],
    ['PATCH', `/v1/nodes/${UUIDS[5]}`, 'latest', [{ op: 'replace', path: '/instance_uuid', value: '88888888-8888-4888-8888-888888888888' }]],
    ['DELETE', `/v1/nodes/${UUIDS[5]}`, 'latest'],
    ['DELETE', `/v1/nodes/${UUIDS[6]}`, 'latest'],
    ['PUT', `/v1/nodes/${UUIDS[6]}/states/provision`, 'latest', { target: 'manage' }],
    ['PUT', `/v1/nodes/${UUIDS[0]}/states/provision`, 'latest', { target: 'provide' }],
    ['PUT', `/v1/nodes/${UUIDS[0]}/states/provision`, '1.3', { target: 'manage' }],
    ['PUT', `/v1/nodes/${UUIDS[0]}/states/provision`, 'latest', { target: 'active', configdrive: 'x' }],
    ['PUT', `/v1/nodes/${UUIDS[0]}/states/power`, 'latest', { target: 'sideways' }],
    ['PUT', `/v1/nodes/${UUIDS[0]}/states/power`, 'latest', { target: 'power on', timeout: 0 }],
    ['PUT', `/v1/nodes/${UUIDS[0]}/traits/lowercase`, 'latest'],
    ['DELETE', `/v1/nodes/${UUIDS[0]}/traits/CUSTOM_NOPE`, 'latest'],
    ['PUT', `/v1/nodes/${UUIDS[0]}/management/boot_device`, 'latest', { boot_device: 'cdrom' }],
  );
  return out;
}

/**
 * Writes that succeed (or fail late), each followed by reads of the node, in
 * the same order on both targets so they stay in step. Entries naming a uuid
 * in the fifth place wait for that node to settle before the next request.
 */
function writeCorpus(): Array<[string, string, string | null, unknown?, string?]> {
  const u = UUIDS[0]!;
  const n = `/v1/nodes/${u}`;
  const out: Array<[string, string, string | null, unknown?, string?]> = [];
  const show = (): void => {
    out.push(['GET', n, 'latest'], ['GET', `${n}/states`, 'latest']);
  };
  const steps: Array<[string, string, string | null, unknown?, string?]> = [
    ['PATCH', n, 'latest', [{ op: 'add', path: '/extra/list', value: [1, 2] }, { op: 'add', path: '/extra/list/-', value: 3 }]],
    ['PATCH', n, 'latest', [{ op: 'add', path: '/extra/list/0', value: 0 }, { op: 'remove', path: '/extra/list/1' }]],
    ['PATCH', n, 'latest', [{ op: 'replace', path: '/extra/list/9', value: 0 }]],
    ['PATCH', n, 'latest', [{ op: 'add', path: '/properties/memory_mb', value: 1024 }, { op: 'replace', path: '/description', value: null }]],
    ['PATCH', n, 'latest', [{ op: 'replace', path: '/maintenance', value: false }]],
    ['PATCH', n, 'latest', [{ op: 'replace', path: '/maintenance', value: 'on' }]],
    ['PATCH', n, 'latest', [{ op: 'add', path: '/driver_info/ipmi_password', value: 'pw' }, { op: 'add', path: '/driver_info/deploy_kernel', value: 'k' }]],
    ['PATCH', n, 'latest', [{ op: 'remove', path: '/owner' }, { op: 'replace', path: '/resource_class', value: 'x'.repeat(81) }]],
    ['PATCH', n, 'latest', [{ op: 'replace', path: '/automated_clean', value: 'false' }, { op: 'replace', path: '/retired_reason', value: 'old' }]],
    ['PATCH', n, 'latest', [{ op: 'replace', path: '/protected', value: true }]],
    ['PATCH', n, 'latest', [{ op: 'replace', path: '/chassis_uuid', value: '12345678-1234-4234-8234-123456789012' }]],
    ['PATCH', n, 'latest', [{ op: 'replace', path: '/network_interface', value: 'noop' }, { op: 'replace', path: '/name', value: 'dn-renamed' }]],
    ['PATCH', n, '1.44', [{ op: 'replace', path: '/name', value: 'dn-c' }]],
    ['PATCH', n, 'latest', [{ op: 'replace', path: '/driver', value: 'fake-hardware' }], undefined],
    ['PATCH', `${n}?reset_interfaces=true`, 'latest', [{ op: 'replace', path: '/extra/a', value: 1 }]],
    ['PUT', `${n}/maintenance`, 'latest', { reason: 'because' }],
    ['DELETE', `${n}/maintenance`, 'latest'],
    ['PUT', `${n}/maintenance`, 'latest', { reason: 'again', other: 1 }],
    ['PUT', `${n}/traits`, 'latest', { traits: ['CUSTOM_Z', 'HW_CPU_X86_AVX2', 'CUSTOM_Z'] }],
    ['PUT', `${n}/traits/CUSTOM_Y`, 'latest'],
    ['DELETE', `${n}/traits/CUSTOM_Z`, 'latest'],
    ['GET', `${n}/traits`, 'latest'],
    ['DELETE', `${n}/traits`, 'latest'],
    ['PUT', `${n}/states/power`, 'latest', { target: 'power off' }, u],
    ['PUT', `${n}/states/power`, 'latest', { target: 'rebooting' }, u],
    ['PUT', `${n}/states/power`, 'latest', { target: 'soft power off', timeout: 10 }, u],
    ['PUT', `${n}/states/power`, '1.26', { target: 'power on', timeout: 10 }],
    ['PUT', `${n}/states/console`, 'latest', { enabled: true }, `console:${u}:true`],
    ['GET', `${n}/states/console`, 'latest'],
    ['PUT', `${n}/states/console`, 'latest', { enabled: 'nope' }],
    ['PUT', `${n}/states/console`, 'latest', { enabled: false }, `console:${u}:false`],
    ['PUT', `${n}/states/raid`, 'latest', { logical_disks: [] }],
    ['PUT', `${n}/states/raid`, 'latest', { logical_disks: [{ raid_level: '1', size_gb: 'MAX' }] }],
    ['PUT', `${n}/states/raid`, 'latest', { logical_disks: [{ raid_level: '7', size_gb: 10 }] }],
    ['PUT', `${n}/states/raid`, 'latest', { logical_disks: [{ size_gb: 10 }] }],
    ['PUT', `${n}/states/raid`, 'latest', {}],
    ['PUT', `${n}/states/raid`, '1.11', { logical_disks: [] }],
    ['PUT', `${n}/states/boot_mode`, 'latest', { target: 'uefi' }, `error:${u}`],
    ['PUT', `${n}/states/boot_mode`, 'latest', { target: 'other' }],
    ['PUT', `${n}/states/boot_mode`, '1.75', { target: 'bios' }],
    ['PATCH', n, 'latest', [{ op: 'add', path: '/extra/clear', value: 1 }]],
    ['PUT', `${n}/states/secure_boot`, 'latest', { target: true }, `error:${u}`],
    ['POST', `${n}/vifs`, 'latest', { id: 'vif-a', port_uuid: 'x', portgroup_uuid: 'y' }],
    ['POST', `${n}/vifs`, 'latest', { id: 'not a valid id' }],
    ['DELETE', `${n}/vifs/vif-a`, 'latest'],
    ['PUT', `${n}/management/boot_device`, 'latest', { boot_device: 'pxe', persistent: true }],
    ['GET', `${n}/management/boot_device`, 'latest'],
    ['GET', `${n}/management/indicators`, 'latest'],
    ['PUT', `${n}/management/inject_nmi`, 'latest'],
    ['GET', `${n}/vendor_passthru/methods`, 'latest'],
    ['POST', `${n}/vendor_passthru?method=second_method`, 'latest', { bar: 'kazoo' }, u],
    ['POST', `${n}/vendor_passthru?method=nope`, 'latest', {}],
    ['GET', `/v1/nodes/validate?node=${u}`, 'latest'],
    ['PATCH', n, 'latest', [{ op: 'replace', path: '/maintenance', value: false }]],
    ['PUT', `${n}/states/provision`, 'latest', { target: 'manage' }, u],
    ['PUT', `${n}/states/provision`, 'latest', { target: 'inspect' }, u],
    ['PUT', `${n}/states/provision`, 'latest', { target: 'clean', clean_steps: [{ interface: 'bios', step: 'apply_configuration', args: { settings: [] } }] }, u],
    ['PUT', `${n}/states/provision`, 'latest', { target: 'clean', clean_steps: [{ interface: 'nope', step: 'x' }] }, u],
    ['PUT', `${n}/states/provision`, 'latest', { target: 'clean', clean_steps: [{ interface: 'bios', step: 'x' }, { interface: 'deploy', step: 'y', args: {}, zz: 1 }] }, u],
    ['PUT', `${n}/states/provision`, 'latest', { target: 'clean', clean_steps: [{ interface: 'bios' }] }, u],
    ['PUT', `${n}/states/provision`, 'latest', { target: 'clean', clean_steps: [{ interface: 'bios', step: '' }] }, u],
    ['PUT', `${n}/states/provision`, 'latest', { target: 'clean', clean_steps: [{ interface: 'bios', step: 's', args: [] }] }, u],
    ['PUT', `${n}/states/provision`, 'latest', { target: 'clean', clean_steps: ['x'] }, u],
    ['PUT', `${n}/states/provision`, 'latest', { target: 'provide' }, u],
    ['PUT', `${n}/states/provision`, 'latest', { target: 'active', deploy_steps: [] }, u],
    ['PUT', `${n}/states/provision`, 'latest', { target: 'rebuild', configdrive: { meta_data: {} } }, u],
    ['PUT', `${n}/states/provision`, 'latest', { target: 'deleted' }, u],
    ['PATCH', n, 'latest', [{ op: 'replace', path: '/protected', value: false }]],
    ['PUT', `${n}/states/provision`, 'latest', { target: 'deleted' }, u],
    ['DELETE', n, 'latest'],
  ];
  for (const st of steps) {
    out.push(st);
    show();
  }
  return out;
}

const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00)?$/;

function normalise(v: unknown, base: string): unknown {
  if (typeof v === 'string') {
    if (TS.test(v)) return '<ts>';
    return v.split(base).join('<base>');
  }
  if (Array.isArray(v)) return v.map((x) => normalise(x, base));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      out[k] = (k === 'conductor' || k === 'reservation') && typeof x === 'string' ? '<conductor>' : normalise(x, base);
    }
    return out;
  }
  return v;
}

function view(r: Res, base: string): unknown {
  let body: unknown = r.json;
  if (body && typeof body === 'object' && 'error_message' in (body as object)) {
    const inner = JSON.parse((body as { error_message: string }).error_message) as Record<string, unknown>;
    if (typeof inner.faultstring === 'string') {
      inner.faultstring = inner.faultstring.replace(/^Node inventory record for node \d+/, 'Node inventory record for node <id>');
    }
    body = { error_message: inner };
  }
  return {
    status: r.status,
    headers: {
      min: r.headers.get('x-openstack-ironic-api-minimum-version'),
      max: r.headers.get('x-openstack-ironic-api-maximum-version'),
      version: r.headers.get('x-openstack-ironic-api-version'),
      requestId: r.headers.has('openstack-request-id'),
      location: r.headers.get('location')?.split(base).join('<base>') ?? null,
      allow: r.headers.get('allow'),
    },
    body: body === undefined ? r.text : normalise(body, base),
  };
}

/** Where two JSON values first differ, as `path: real … / sim …`. */
function firstDifference(a: unknown, b: unknown, path: string): string {
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    if (ka.join() !== kb.join() && !Array.isArray(a)) {
      return `${path || '/'}: keys real [${ka.join(',')}] / sim [${kb.join(',')}]`;
    }
    for (const k of new Set([...ka, ...kb])) {
      const x = (a as Record<string, unknown>)[k];
      const y = (b as Record<string, unknown>)[k];
      if (JSON.stringify(x) !== JSON.stringify(y)) return firstDifference(x, y, `${path}/${k}`);
    }
    return `${path}: key order differs`;
  }
  return `${path}: real ${JSON.stringify(a)?.slice(0, 300)} / sim ${JSON.stringify(b)?.slice(0, 300)}`;
}

function describeDiff(a: unknown, b: unknown): string {
  const sa = (a as { status: number; body: unknown }).status;
  const sb = (b as { status: number; body: unknown }).status;
  if (sa !== sb) {
    const body = (x: unknown): string => JSON.stringify((x as { body: unknown }).body)?.slice(0, 400) ?? '';
    return `status real ${sa} ${body(a)} / sim ${sb} ${body(b)}`;
  }
  return firstDifference(a, b, '');
}

describe('real Ironic harness', () => {
  it('python3-ironic is installed', () => {
    assertRealIronicAvailable();
  });
});

describe('differential: simulator vs real Ironic 21.4', () => {
  let real: RealSites | undefined;
  let sim: SimSite | undefined;
  let rc: Client;
  let sc: Client;

  before(async () => {
    assertRealIronicAvailable();
    [real, sim] = await Promise.all([
      startRealSites([{ name: 'diff-real', conductorGroups: ['grp1'] }]),
      startSimSite({ name: 'diff-sim', conductorGroups: ['grp1'], tickMs: 5 }),
    ]);
    rc = new Client(real.sites[0]!.url);
    sc = new Client(sim.url);
    await Promise.all([populate(rc, 'grp1'), populate(sc, 'grp1')]);
  });

  after(async () => {
    await Promise.all([real?.stop(), sim?.close()]);
  });

  it('applies a sequence of writes identically', async () => {
    const mismatches: string[] = [];
    const requests = writeCorpus();
    for (const [method, path, version, body, settleUuid] of requests) {
      const opts = { version, body };
      const [r, s] = await Promise.all([rc.req(method, path, opts), sc.req(method, path, opts)]);
      if (settleUuid && r.status < 300) await Promise.all([settleSpec(rc, settleUuid), settleSpec(sc, settleUuid)]);
      const a = view(r, rc.url);
      const b = view(s, sc.url);
      try {
        assert.deepEqual(b, a);
      } catch {
        mismatches.push(`${method} ${path} ${JSON.stringify(body ?? null).slice(0, 120)} @${version}: ${describeDiff(a, b)}`);
      }
    }
    assert.equal(mismatches.length, 0, `${mismatches.length} of ${requests.length} differ:\n${mismatches.slice(0, 25).join('\n')}`);
  });

  it('answers a corpus of requests identically', async () => {
    const mismatches: string[] = [];
    const requests = corpus();
    for (const [method, path, version, body] of requests) {
      const opts = { version, body };
      const [r, s] = await Promise.all([rc.req(method, path, opts), sc.req(method, path, opts)]);
      const a = view(r, rc.url);
      const b = view(s, sc.url);
      try {
        assert.deepEqual(b, a);
      } catch {
        mismatches.push(`${method} ${path} @${version}: ${describeDiff(a, b)}`);
      }
    }
    assert.ok(requests.length > 300, `corpus has ${requests.length} requests`);
    assert.equal(mismatches.length, 0, `${mismatches.length} of ${requests.length} differ:\n${mismatches.slice(0, 15).join('\n')}`);
  });
});
