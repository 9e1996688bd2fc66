/**
 * Simulator behaviour the contract against Ironic 21.4 cannot show: runbooks
 * (1.92, newer than 21.4), the allocation process's choices (traits,
 * candidates, backfill of a deployed node) and the fault options the tests
 * use instead of hand-made fake sites (method, path, skip, status,
 * apply-then-hang).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startSimSite, type SimSite } from '../../src/sim/index.js';
import { direct, makeAvailable, putNode } from '../support/sim-direct.js';

const STEP = { interface: 'bios', step: 'apply_configuration', args: {}, priority: 10 };

async function settled(site: SimSite, uuid: string): Promise<Record<string, any>> {
  for (let i = 0; i < 300; i++) {
    const a = await direct(site, 'GET', `/v1/allocations/${uuid}`);
    if (a.json.state !== 'allocating') return a.json;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`allocation ${uuid} did not settle`);
}

describe('simulator resources beyond 21.4 and its conductor', () => {
  let site: SimSite;
  before(async () => {
    site = await startSimSite({ name: 'sr', conductorGroups: [''], maxMinor: 92, tickMs: 2 });
  });
  after(() => site?.close());

  it('runbooks at 1.92: create, show by name, list, patch, delete; absent below 1.92', async () => {
    const r = await direct(site, 'POST', '/v1/runbooks', { name: 'CUSTOM_RB', steps: [STEP], public: true });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.equal(r.json.public, true);
    assert.equal(r.json.owner, null);
    assert.equal((await direct(site, 'GET', '/v1/runbooks/CUSTOM_RB')).json.uuid, r.json.uuid);
    assert.deepEqual((await direct(site, 'GET', '/v1/runbooks')).json.runbooks.map((x: any) => x.name), ['CUSTOM_RB']);
    const p = await direct(site, 'PATCH', `/v1/runbooks/${r.json.uuid}`, [{ op: 'replace', path: '/name', value: 'CUSTOM_RB2' }]);
    assert.equal(p.json.name, 'CUSTOM_RB2');
    assert.equal((await direct(site, 'DELETE', '/v1/runbooks/CUSTOM_RB2')).status, 204);
    const old = await fetch(`${site.url}/v1/runbooks`, { headers: { 'X-OpenStack-Ironic-API-Version': '1.91' } });
    assert.equal(old.status, 404);
    assert.equal((await startSimSite({ name: 'sr82', maxMinor: 82 }).then(async (s) => {
      const res = await direct(s, 'GET', '/v1/runbooks');
      await s.close();
      return res.status;
    })), 404, 'a 21.4 site (1.82) has no runbooks, whatever the version asked');
  });

  it('allocations: traits and candidates narrow the choice; the node takes the allocation as its instance', async () => {
    const plain = await putNode(site, { resource_class: 'rc', name: 'plain' });
    const gpu = await putNode(site, { resource_class: 'rc', name: 'gpu' });
    await makeAvailable(site, plain.uuid);
    await makeAvailable(site, gpu.uuid);
    assert.equal((await direct(site, 'PUT', `/v1/nodes/${gpu.uuid}/traits/CUSTOM_GPU`)).status, 204);
    const byTrait = await direct(site, 'POST', '/v1/allocations', { resource_class: 'rc', traits: ['CUSTOM_GPU'] });
    const a = await settled(site, byTrait.json.uuid);
    assert.equal(a.state, 'active');
    assert.equal(a.node_uuid, gpu.uuid);
    assert.equal(site.api.store.getByUuid(gpu.uuid)!.instance_uuid, a.uuid);
    const none = await direct(site, 'POST', '/v1/allocations', { resource_class: 'rc', candidate_nodes: ['gpu'] });
    const failed = await settled(site, none.json.uuid);
    assert.equal(failed.state, 'error');
    assert.equal(failed.last_error, `Failed to process allocation ${none.json.uuid}: none of the requested nodes are available and match the resource class rc.`);
    const byCandidate = await direct(site, 'POST', '/v1/allocations', { resource_class: 'rc', candidate_nodes: [plain.uuid] });
    assert.equal((await settled(site, byCandidate.json.uuid)).node_uuid, plain.uuid);
    // freeing: the node of a deleted allocation is free again
    assert.equal((await direct(site, 'DELETE', `/v1/allocations/${a.uuid}`)).status, 204);
    assert.equal(site.api.store.getByUuid(gpu.uuid)!.instance_uuid, null);
    assert.equal(site.api.store.getByUuid(gpu.uuid)!.allocation_id, null);
  });

  it('allocations: backfill of a deployed node is active at once; of a node not deployed, the conductor\'s error', async () => {
    const n = await putNode(site, { resource_class: 'bf', name: 'deployed' });
    await makeAvailable(site, n.uuid);
    assert.equal((await direct(site, 'PUT', `/v1/nodes/${n.uuid}/states/provision`, { target: 'active' })).status, 202);
    for (let i = 0; site.api.store.getByUuid(n.uuid)!.provision_state !== 'active'; i++) {
      assert.ok(i < 300);
      await new Promise((r) => setTimeout(r, 10));
    }
    const bf = await direct(site, 'POST', '/v1/allocations', { node: 'deployed' });
    assert.equal(bf.status, 201);
    assert.equal(bf.json.state, 'active');
    assert.equal(bf.json.resource_class, 'bf', 'taken from the node');
    assert.equal((await direct(site, 'GET', '/v1/nodes/deployed?fields=allocation_uuid')).json.allocation_uuid, bf.json.uuid);
    const idle = await putNode(site, { resource_class: 'bf' });
    const bad = await direct(site, 'POST', '/v1/allocations', { node: idle.uuid });
    assert.equal(bad.status, 500);
    assert.match(JSON.parse(bad.json.error_message).faultstring, /Cannot backfill an allocation for node .*: Node must be in the "active" state, but the current state is "enroll"/);
  });

  it('fault options: a method and a path, skipped requests, another status, apply-then-hang', async () => {
    await site.setFault('http500', { method: 'POST', path: '/v1/chassis', skip: 1, status: 503 });
    assert.equal((await direct(site, 'GET', '/v1/chassis')).status, 200, 'another method is answered');
    assert.equal((await direct(site, 'POST', '/v1/chassis', {})).status, 201, 'the first matching request is skipped');
    const failed = await direct(site, 'POST', '/v1/chassis', {});
    assert.equal(failed.status, 503);
    assert.equal(JSON.parse(failed.json.error_message).faultcode, 'Server');
    assert.equal((await direct(site, 'POST', '/v1/deploy_templates', { name: 'CUSTOM_F', steps: [STEP] })).status, 201, 'another path is answered');
    await site.setFault('apply-then-hang', { method: 'POST' });
    const before = site.api.chassis.size;
    const hung = fetch(`${site.url}/v1/chassis`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(300) });
    await assert.rejects(hung, /abort|timeout/i);
    assert.equal(site.api.chassis.size, before + 1, 'applied, never answered');
    await site.setFault('none');
    assert.ok(site.requests.some((r) => r.method === 'POST' && r.url === '/v1/chassis' && r.body === '{}'), 'requests keeps bodies');
  });
});
