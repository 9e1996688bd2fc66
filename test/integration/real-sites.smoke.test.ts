/**
 * Smoke test of the real-Ironic harness and the client helpers: two real
 * Ironic 21.4 sites, one of them with conductors in two groups (API +
 * conductor of "" in one process, the conductor of "grp2" in another,
 * json-rpc between them), the `baremetal` CLI and openstacksdk against
 * them, and a full fake-hardware cycle on the second conductor.
 *
 *   npx tsx --test test/integration/real-sites.smoke.test.ts
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';

import {
  baremetal,
  baremetalJsonOk,
  baremetalOk,
  ironicRequest,
  sdk,
  sdkOk,
  waitForProvisionState,
} from '../support/clients.js';
import { startRealSites, type RealSites } from '../support/real-ironic.js';

const available = existsSync('/usr/lib/python3/dist-packages/ironic') && existsSync('/usr/bin/baremetal');
const skip = available ? false : 'python3-ironic / python3-ironicclient not installed (scripts/install-system-deps.sh)';

let lab: RealSites | undefined;

function sites(): RealSites {
  assert.ok(lab, 'sites did not start');
  return lab;
}

before(
  async () => {
    if (!available) return;
    lab = await startRealSites([
      { name: 'loc1', conductorGroups: ['', 'grp2'] },
      { name: 'loc2', conductorGroups: ['grp1'] },
    ]);
  },
  { timeout: 120_000 },
);

after(async () => {
  if (!lab) return;
  const { sites: all } = lab;
  await lab.stop();
  for (const s of all) {
    assert.equal(existsSync(s.dir), false, `${s.dir} removed`);
    for (const pid of s.pids) {
      let alive = true;
      try {
        process.kill(pid, 0);
      } catch {
        alive = false;
      }
      // A killed child may linger as a zombie until init reaps it; its
      // process group must still be gone from the port.
      if (alive) {
        const r = await fetch(s.url + '/').catch(() => undefined);
        assert.equal(r, undefined, `site ${s.name} still answers after stop()`);
      }
    }
  }
});

test('sites start and advertise their conductors and API range', { skip }, async () => {
  const { sites: all } = sites();
  assert.equal(all.length, 2);
  const loc1 = sites().site('loc1');
  assert.equal(loc1.rpcTransport, 'json-rpc');
  assert.equal(loc1.pids.length, 2);
  assert.deepEqual(loc1.conductorGroups, ['', 'grp2']);
  assert.equal(sites().site('loc2').rpcTransport, 'none');
  for (const s of all) {
    assert.deepEqual(s.apiVersion, { min: '1.1', max: '1.82' });
    const r = await ironicRequest<{ conductors: Array<{ hostname: string; conductor_group: string; alive: boolean }> }>(
      s.url,
      'GET',
      '/v1/conductors',
      { apiVersion: '1.82' },
    );
    assert.equal(r.status, 200);
    const got = r.json!.conductors.map((c) => `${c.hostname}/${c.conductor_group}/${c.alive}`).sort();
    const want = s.conductors.map((c) => `${c.hostname}/${c.group}/true`).sort();
    assert.deepEqual(got, want);
  }
});

test('baremetal CLI creates and lists nodes in every group', { skip }, async () => {
  const loc1 = sites().site('loc1');
  const loc2 = sites().site('loc2');
  const create = async (url: string, name: string, group: string): Promise<Record<string, unknown>> =>
    baremetalJsonOk<Record<string, unknown>>(
      ['node', 'create', '--driver', 'fake-hardware', '--name', name, '--conductor-group', group],
      { endpoint: url },
    );
  const [a, b, c] = await Promise.all([
    create(loc1.url, 'smoke-default', ''),
    create(loc1.url, 'smoke-grp2', 'grp2'),
    create(loc2.url, 'smoke-grp1', 'grp1'),
  ]);
  assert.equal(a!.conductor_group, '');
  assert.equal(b!.conductor_group, 'grp2');
  assert.equal(c!.conductor_group, 'grp1');
  assert.equal(b!.provision_state, 'enroll');

  // A group the site has no conductor for: 400 NoValidHost, exit 1.
  const bad = await baremetal(
    ['node', 'create', '--driver', 'fake-hardware', '--name', 'smoke-bad', '--conductor-group', 'grp1'],
    { endpoint: loc1.url },
  );
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /No valid host was found\. Reason: No conductor service registered which supports driver fake-hardware for conductor group "grp1"\. \(HTTP 400\)/,
  );

  const list1 = await baremetalJsonOk<Array<Record<string, unknown>>>(['node', 'list', '--long'], { endpoint: loc1.url });
  assert.deepEqual(list1.map((n) => n.Name).sort(), ['smoke-default', 'smoke-grp2']);
  const byGroup = await baremetalJsonOk<Array<Record<string, unknown>>>(
    ['node', 'list', '--conductor-group', 'grp2'],
    { endpoint: loc1.url },
  );
  assert.deepEqual(byGroup.map((n) => n.Name), ['smoke-grp2']);
  const list2 = await baremetalJsonOk<Array<Record<string, unknown>>>(['node', 'list'], { endpoint: loc2.url });
  assert.deepEqual(list2.map((n) => n.Name), ['smoke-grp1']);

  // The conductor that holds each node is the one of its group.
  const grp2Host = loc1.conductors.find((x) => x.group === 'grp2')!.hostname;
  const shown = await baremetalJsonOk<Record<string, unknown>>(['node', 'show', 'smoke-grp2'], { endpoint: loc1.url });
  assert.equal(shown.conductor, grp2Host);

  const missing = await baremetal(['node', 'show', 'no-such-node'], { endpoint: loc1.url });
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim(), 'Node no-such-node could not be found. (HTTP 404)');
});

test('openstacksdk lists and fetches the nodes', { skip }, async () => {
  const loc1 = sites().site('loc1');
  const nodes = await sdkOk<Array<Record<string, unknown>>>(
    { op: 'list_nodes', details: true, limit: 1 },
    loc1.url,
  );
  assert.deepEqual(nodes.map((n) => n.name).sort(), ['smoke-default', 'smoke-grp2']);
  const r = await sdk({ op: 'get_node', id: 'no-such-node' }, loc1.url);
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.error.status_code, 404);
    assert.equal(r.error.type, 'ResourceNotFound');
  }
});

test('full fake-hardware cycle on the second conductor (json-rpc)', { skip, timeout: 120_000 }, async () => {
  const url = sites().site('loc1').url;
  const o = { endpoint: url };
  const node = 'smoke-grp2';
  // --wait for manage polls every 2 s (provide/deploy/undeploy: every 10 s,
  // so those are polled here over HTTP instead).
  await baremetalOk(['node', 'manage', node, '--wait', '60'], o);
  await baremetalOk(['node', 'provide', node], o);
  await waitForProvisionState(url, node, 'available');
  await baremetalOk(['node', 'deploy', node], o);
  let n = await waitForProvisionState(url, node, 'active');
  // Ironic 21.4's fake deploy does not touch power: power_state stays what
  // it was (null for a new node) until a power action or the periodic sync.
  assert.equal(n.power_state, null);
  await baremetalOk(['node', 'power', 'off', node], o);
  n = await baremetalJsonOk<Record<string, unknown>>(['node', 'show', node], o);
  assert.equal(n.power_state, 'power off');
  await baremetalOk(['node', 'power', 'on', node], o);
  n = await baremetalJsonOk<Record<string, unknown>>(['node', 'show', node], o);
  assert.equal(n.power_state, 'power on');
  await baremetalOk(['node', 'undeploy', node], o);
  n = await waitForProvisionState(url, node, 'available');
  assert.equal(n.last_error, null);

  // The same through openstacksdk, waiting the SDK's way (polls every 2 s).
  const r = await sdk({ op: 'set_provision_state', id: node, target: 'active', wait: true, timeout: 60 }, url);
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal((r.result as Record<string, unknown>).provision_state, 'active');
});
