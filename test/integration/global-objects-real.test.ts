/**
 * Chassis and deploy templates through the proxy over two real Ironic sites
 * (Debian's 21.4), with the `baremetal` CLI: created once, they exist at both
 * sites with one UUID (checked at each site directly), nodes at both sites use
 * them, updates and deletes reach both, a chassis in use is not deleted, the
 * reconcile repairs a site that missed a create, and a create while a site
 * is down is rolled back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDrift, repairDrift } from '../../src/reconcile.js';
import type { RunningProxy } from '../../src/start.js';
import { startProxyOver } from '../support/proxy-over-real.js';
import { startRealSites, type RealSites } from '../support/real-ironic.js';
import { baremetal, baremetalJsonOk, type BaremetalOptions } from '../support/clients.js';

const SITE_VERSION = { 'X-OpenStack-Ironic-API-Version': '1.82' };

describe('global objects over real Ironic sites', { timeout: 600_000 }, () => {
  let sites: RealSites;
  let proxy: RunningProxy;
  let cli: BaremetalOptions;
  const nodes = new Map<string, string>();

  const atSite = async (site: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${sites.site(site).url}${path}`, { ...init, headers: { ...SITE_VERSION, 'content-type': 'application/json', ...(init.headers ?? {}) } });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const failing = async (args: string[]): Promise<string> => {
    const r = await baremetal(args, { ...cli, maxRetries: 0 });
    assert.notEqual(r.code, 0, `baremetal ${args.join(' ')} should fail`);
    return r.stderr;
  };

  before(async () => {
    sites = await startRealSites([
      { name: 'loc1', conductorGroups: [''] },
      { name: 'loc2', conductorGroups: ['grp1'] },
    ]);
    proxy = await startProxyOver(sites, { groups: '_:loc1,grp1:loc2', proxy: { site_timeout: 5, circuit_open_seconds: 0 } });
    cli = { endpoint: proxy.url };
    for (const [name, group] of [['g-node-1', ''], ['g-node-2', 'grp1']] as const) {
      const args = ['node', 'create', '--driver', 'fake-hardware', '--name', name];
      if (group) args.push('--conductor-group', group);
      nodes.set(name, (await baremetalJsonOk<{ uuid: string }>(args, cli)).uuid);
    }
  });
  after(async () => {
    await proxy?.close();
    await sites?.stop();
  });

  test('a chassis: created once, at both sites with one UUID, used by a node at each site, updated and deleted everywhere', async () => {
    const chassis = await baremetalJsonOk<{ uuid: string; description: string }>(['chassis', 'create', '--description', 'rack-7', '--extra', 'row=r3'], cli);
    for (const site of ['loc1', 'loc2']) {
      const r = await atSite(site, `/v1/chassis/${chassis.uuid}`);
      assert.equal(r.status, 200, `chassis at ${site}`);
      assert.equal(r.body.description, 'rack-7');
      assert.deepEqual(r.body.extra, { row: 'r3' });
    }
    const listed = await baremetalJsonOk<Array<{ UUID: string }>>(['chassis', 'list'], cli);
    assert.deepEqual(listed.map((c) => c.UUID), [chassis.uuid], 'listed once');

    for (const name of ['g-node-1', 'g-node-2']) {
      const r = await baremetal(['node', 'set', name, '--chassis-uuid', chassis.uuid], { ...cli, maxRetries: 0 });
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await atSite('loc1', `/v1/nodes/g-node-1`)).body.chassis_uuid, chassis.uuid);
    assert.equal((await atSite('loc2', `/v1/nodes/g-node-2`)).body.chassis_uuid, chassis.uuid);
    const inChassis = await baremetalJsonOk<Array<{ Name: string }>>(['node', 'list', '--chassis', chassis.uuid], cli);
    assert.deepEqual(inChassis.map((n) => n.Name).sort(), ['g-node-1', 'g-node-2']);
    const direct = await fetch(`${proxy.url}/v1/chassis/${chassis.uuid}/nodes`, { headers: SITE_VERSION });
    const merged = (await direct.json()) as { nodes: Array<{ uuid: string }> };
    assert.deepEqual(merged.nodes.map((n) => n.uuid).sort(), [nodes.get('g-node-1'), nodes.get('g-node-2')].sort());

    assert.equal((await baremetal(['chassis', 'set', chassis.uuid, '--description', 'rack-8'], { ...cli, maxRetries: 0 })).code, 0);
    for (const site of ['loc1', 'loc2']) assert.equal((await atSite(site, `/v1/chassis/${chassis.uuid}`)).body.description, 'rack-8');

    const refused = await failing(['chassis', 'delete', chassis.uuid]);
    assert.match(refused, /contains nodes/);
    for (const site of ['loc1', 'loc2']) assert.equal((await atSite(site, `/v1/chassis/${chassis.uuid}`)).status, 200, `still at ${site}`);

    // Only the node at loc2 still uses it: still refused, because every site is checked.
    assert.equal((await baremetal(['node', 'unset', 'g-node-1', '--chassis-uuid'], { ...cli, maxRetries: 0 })).code, 0);
    assert.match(await failing(['chassis', 'delete', chassis.uuid]), /contains nodes/);
    assert.equal((await baremetal(['node', 'unset', 'g-node-2', '--chassis-uuid'], { ...cli, maxRetries: 0 })).code, 0);
    const del = await baremetal(['chassis', 'delete', chassis.uuid], { ...cli, maxRetries: 0 });
    assert.equal(del.code, 0, del.stderr);
    for (const site of ['loc1', 'loc2']) assert.equal((await atSite(site, `/v1/chassis/${chassis.uuid}`)).status, 404, `gone at ${site}`);
  });

  test('a deploy template: created once, at both sites with one UUID, found by name at each, updated and deleted everywhere', async () => {
    const steps = JSON.stringify([{ interface: 'deploy', step: 'erase_devices', args: {}, priority: 10 }]);
    const tpl = await baremetalJsonOk<{ uuid: string; name: string }>(['deploy', 'template', 'create', 'CUSTOM_RAID1', '--steps', steps], cli);
    for (const site of ['loc1', 'loc2']) {
      const r = await atSite(site, '/v1/deploy_templates/CUSTOM_RAID1');
      assert.equal(r.status, 200, `template at ${site}`);
      assert.equal(r.body.uuid, tpl.uuid);
      assert.equal(r.body.steps[0].step, 'erase_devices');
    }
    // A node at each site asks for it through its instance trait.
    for (const name of ['g-node-1', 'g-node-2']) {
      assert.equal((await baremetal(['node', 'add', 'trait', name, 'CUSTOM_RAID1'], { ...cli, maxRetries: 0 })).code, 0);
      assert.equal((await baremetal(['node', 'set', name, '--instance-info', 'traits=["CUSTOM_RAID1"]'], { ...cli, maxRetries: 0 })).code, 0);
    }
    assert.deepEqual((await atSite('loc2', '/v1/nodes/g-node-2/traits')).body.traits, ['CUSTOM_RAID1']);

    const shown = await baremetalJsonOk<{ uuid: string }>(['deploy', 'template', 'show', 'CUSTOM_RAID1'], cli);
    assert.equal(shown.uuid, tpl.uuid);
    assert.equal((await baremetal(['deploy', 'template', 'set', 'CUSTOM_RAID1', '--extra', 'owner=ops'], { ...cli, maxRetries: 0 })).code, 0);
    for (const site of ['loc1', 'loc2']) assert.deepEqual((await atSite(site, `/v1/deploy_templates/${tpl.uuid}`)).body.extra, { owner: 'ops' });
    const listed = await baremetalJsonOk<Array<{ UUID: string }>>(['deploy', 'template', 'list'], cli);
    assert.deepEqual(listed.map((t) => t.UUID), [tpl.uuid]);

    assert.equal((await baremetal(['deploy', 'template', 'delete', 'CUSTOM_RAID1'], { ...cli, maxRetries: 0 })).code, 0);
    for (const site of ['loc1', 'loc2']) assert.equal((await atSite(site, `/v1/deploy_templates/${tpl.uuid}`)).status, 404);
  });

  test('reconcile creates the copy a site missed', async () => {
    const made = await atSite('loc1', '/v1/chassis', { method: 'POST', body: JSON.stringify({ description: 'made behind the proxy' }) });
    assert.equal(made.status, 201);
    const version = proxy.services.internalVersion();
    const report = await checkDrift(proxy.services.registry.sites, { version });
    assert.deepEqual(report.drift.map((d) => [d.uuid, d.missingAt]), [[made.body.uuid, ['loc2']]]);
    const actions = await repairDrift(proxy.services.registry.sites, report, { version });
    assert.ok(actions.every((a) => a.ok), JSON.stringify(actions));
    const copy = await atSite('loc2', `/v1/chassis/${made.body.uuid}`);
    assert.equal(copy.status, 200);
    assert.equal(copy.body.description, 'made behind the proxy');
    assert.deepEqual((await checkDrift(proxy.services.registry.sites, { version })).drift, []);
  });

  test('a create while a site is down is rolled back at the other and named', async () => {
    await sites.site('loc2').stop();
    const r = await fetch(`${proxy.url}/v1/chassis`, {
      method: 'POST',
      headers: { ...SITE_VERSION, 'content-type': 'application/json' },
      body: JSON.stringify({ description: 'never half' }),
    });
    assert.equal(r.status, 503);
    const fault = JSON.parse(((await r.json()) as { error_message: string }).error_message) as { faultstring: string };
    assert.match(fault.faultstring, /site\(s\) loc2 failed/);
    assert.equal(r.headers.get('x-ironic-proxy-site-states'), 'loc1=rolled-back,loc2=failed');
    const left = await atSite('loc1', '/v1/chassis/detail');
    assert.ok(!left.body.chassis.some((c: { description: string }) => c.description === 'never half'), 'loc1 keeps nothing');
  });
});
