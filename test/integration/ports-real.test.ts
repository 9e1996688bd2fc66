/**
 * Ports, portgroups and volume connectors through the proxy over two real
 * Ironic sites (Debian's 21.4), driven by the `baremetal` CLI: they live at
 * their node's site, listings merge (max_limit 2 forces paging), a node
 * filter asks only that node's site, and a MAC address / portgroup name /
 * connector id is unique over both sites.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningProxy } from '../../src/start.js';
import { startProxyOver } from '../support/proxy-over-real.js';
import { startRealSites, type RealSites } from '../support/real-ironic.js';
import { baremetal, baremetalJsonOk, ironicRequest, type BaremetalOptions } from '../support/clients.js';

interface PortRow {
  UUID: string;
  Address: string;
}

describe('ports, portgroups and volume over real Ironic sites', { timeout: 600_000 }, () => {
  let sites: RealSites;
  let proxy: RunningProxy;
  let cli: BaremetalOptions;
  const nodes = new Map<string, string>();
  /** MAC → port uuid. */
  const ports = new Map<string, string>();

  const atSite = async (site: string, path: string): Promise<number> =>
    (await ironicRequest(sites.site(site).url, 'GET', path, { apiVersion: '1.78' })).status;
  /** Requests the proxy has sent to a site (its metrics). */
  const siteRequests = async (site: string): Promise<number> => {
    const text = await (await fetch(`${proxy.url}/metrics`)).text();
    let total = 0;
    for (const m of text.matchAll(new RegExp(`^ironic_proxy_site_requests_total\\{[^}]*site="${site}"[^}]*\\} (\\d+)`, 'gm'))) total += Number(m[1]);
    return total;
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
    proxy = await startProxyOver(sites, { groups: '_:loc1,grp1:loc2', api: { max_limit: 2 } });
    cli = { endpoint: proxy.url, maxRetries: 0 };
    for (const [name, group] of [['pa', ''], ['pb', 'grp1']] as const) {
      const args = ['node', 'create', '--driver', 'fake-hardware', '--name', name];
      if (group) args.push('--conductor-group', group);
      nodes.set(name, (await baremetalJsonOk<{ uuid: string }>(args, cli)).uuid);
    }
  });
  after(async () => {
    await proxy?.close();
    await sites?.stop();
  });

  test('port create goes to the site of its node', async () => {
    for (const [mac, node, site] of [
      ['52:54:00:00:00:01', 'pa', 'loc1'],
      ['52:54:00:00:00:02', 'pb', 'loc2'],
      ['52:54:00:00:00:03', 'pa', 'loc1'],
      ['52:54:00:00:00:04', 'pb', 'loc2'],
      ['52:54:00:00:00:05', 'pb', 'loc2'],
    ] as const) {
      const port = await baremetalJsonOk<{ uuid: string; node_uuid: string }>(['port', 'create', mac, '--node', nodes.get(node)!], cli);
      assert.equal(port.node_uuid, nodes.get(node));
      ports.set(mac, port.uuid);
      assert.equal(await atSite(site, `/v1/ports/${port.uuid}`), 200, `${mac} is at ${site}`);
      assert.equal(await atSite(site === 'loc1' ? 'loc2' : 'loc1', `/v1/ports/${port.uuid}`), 404);
    }
  });

  test('the merged port list has every port of both sites once, across pages', async () => {
    const all = await baremetalJsonOk<PortRow[]>(['port', 'list', '--limit', '0'], cli);
    assert.deepEqual(all.map((p) => p.Address).sort(), [...ports.keys()].sort());
    assert.deepEqual(all.map((p) => p.UUID), [...all.map((p) => p.UUID)].sort(), 'default order: uuid');
    const page = await baremetalJsonOk<PortRow[]>(['port', 'list'], cli);
    assert.equal(page.length, 2, 'one page of max_limit');
    const byAddress = await baremetalJsonOk<PortRow[]>(['port', 'list', '--limit', '0', '--sort', 'address:desc'], cli);
    assert.deepEqual(byAddress.map((p) => p.Address), [...ports.keys()].sort().reverse());
    const long = await baremetalJsonOk<Array<Record<string, unknown>>>(['port', 'list', '--long', '--limit', '0'], cli);
    assert.equal(long.length, ports.size);
    assert.ok(long.every((p) => typeof p['Node UUID'] === 'string'));
  });

  test('paging by hand with --marker sees every port once', async () => {
    const seen: string[] = [];
    let marker: string | undefined;
    for (let i = 0; i < 10; i++) {
      const rows = await baremetalJsonOk<PortRow[]>(['port', 'list', '--limit', '2', ...(marker ? ['--marker', marker] : [])], cli);
      if (rows.length === 0) break;
      seen.push(...rows.map((r) => r.Address));
      marker = rows[rows.length - 1]!.UUID;
    }
    assert.deepEqual([...seen].sort(), [...ports.keys()].sort());
  });

  test('port list --node asks only that node\'s site', async () => {
    const loc1Before = await siteRequests('loc1');
    const loc2Before = await siteRequests('loc2');
    const rows = await baremetalJsonOk<PortRow[]>(['port', 'list', '--node', 'pb', '--limit', '0'], cli);
    assert.deepEqual(rows.map((r) => r.Address).sort(), ['52:54:00:00:00:02', '52:54:00:00:00:04', '52:54:00:00:00:05']);
    assert.equal(await siteRequests('loc1'), loc1Before, 'the other site is not asked');
    assert.ok((await siteRequests('loc2')) > loc2Before);
    const other = await ironicRequest(proxy.url, 'GET', '/v1/ports?node=pa', { apiVersion: '1.78' });
    assert.equal(other.status, 200);
    assert.equal((other.json as { ports: unknown[] }).ports.length, 2);
    const nowhere = await ironicRequest(proxy.url, 'GET', '/v1/ports?node=no-such-node', { apiVersion: '1.78' });
    assert.equal(nowhere.status, 404);
    assert.match(nowhere.text, /Node no-such-node could not be found/);
    const byAddress = await ironicRequest<{ ports: Array<{ uuid: string }> }>(proxy.url, 'GET', '/v1/ports?address=52:54:00:00:00:04', { apiVersion: '1.78' });
    assert.deepEqual(byAddress.json?.ports.map((p) => p.uuid), [ports.get('52:54:00:00:00:04')]);
  });

  test('port show, set --extra and delete by UUID', async () => {
    const uuid = ports.get('52:54:00:00:00:05')!;
    const shown = await baremetalJsonOk<{ address: string }>(['port', 'show', uuid], cli);
    assert.equal(shown.address, '52:54:00:00:00:05');
    const raw = await ironicRequest<{ links: Array<{ href: string }> }>(proxy.url, 'GET', `/v1/ports/${uuid}`, { apiVersion: '1.78' });
    assert.equal(raw.json?.links.length, 2);
    assert.ok(raw.json?.links.every((l) => l.href.startsWith(proxy.url)), 'links point at the proxy');
    const set = await baremetal(['port', 'set', uuid, '--extra', 'rack=7'], cli);
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual((await baremetalJsonOk<{ extra: Record<string, string> }>(['port', 'show', uuid], cli)).extra, { rack: 7 });
    const del = await baremetal(['port', 'delete', uuid], cli);
    assert.equal(del.code, 0, del.stderr);
    ports.delete('52:54:00:00:00:05');
    assert.equal(await atSite('loc2', `/v1/ports/${uuid}`), 404);
    assert.match(await failing(['port', 'show', uuid]), /Port .* could not be found/);
  });

  test('a MAC address used at another site is a 409, on create and on update', async () => {
    const create = await failing(['port', 'create', '52:54:00:00:00:01', '--node', nodes.get('pb')!]);
    assert.match(create, /A port with MAC address 52:54:00:00:00:01 already exists/);
    assert.match(create, /HTTP 409/);
    const update = await failing(['port', 'set', ports.get('52:54:00:00:00:02')!, '--address', '52:54:00:00:00:03']);
    assert.match(update, /A port with MAC address 52:54:00:00:00:03 already exists/);
    assert.equal(await atSite('loc2', '/v1/ports?address=52:54:00:00:00:01'), 200);
    const loc2 = await ironicRequest<{ ports: unknown[] }>(sites.site('loc2').url, 'GET', '/v1/ports?address=52:54:00:00:00:01', { apiVersion: '1.78' });
    assert.equal(loc2.json?.ports.length, 0, 'nothing was created at the other site');
  });

  test('a port cannot move to a node at another site', async () => {
    const err = await failing(['port', 'set', ports.get('52:54:00:00:00:01')!, '--node', nodes.get('pb')!]);
    assert.match(err, /cannot move between sites/);
    assert.match(err, /HTTP 400/);
  });

  test('a portgroup is created, listed and shown at its node\'s site; its name is unique over sites', async () => {
    const pg = await baremetalJsonOk<{ uuid: string; name: string }>(['port', 'group', 'create', '--node', nodes.get('pb')!, '--name', 'bond0', '--address', '52:54:00:00:01:01'], cli);
    assert.equal(await atSite('loc2', `/v1/portgroups/${pg.uuid}`), 200);
    const listed = await baremetalJsonOk<Array<{ UUID: string; Name: string }>>(['port', 'group', 'list', '--limit', '0'], cli);
    assert.deepEqual(listed.map((p) => p.Name), ['bond0']);
    const shown = await baremetalJsonOk<{ uuid: string; node_uuid: string }>(['port', 'group', 'show', 'bond0'], cli);
    assert.equal(shown.uuid, pg.uuid);
    assert.equal(shown.node_uuid, nodes.get('pb'));
    const dup = await failing(['port', 'group', 'create', '--node', nodes.get('pa')!, '--name', 'bond0']);
    assert.match(dup, /A portgroup with name bond0 already exists/);
    const port = await baremetalJsonOk<{ portgroup_uuid: string }>(['port', 'create', '52:54:00:00:00:06', '--node', nodes.get('pb')!, '--port-group', pg.uuid], cli);
    assert.equal(port.portgroup_uuid, pg.uuid);
    const inGroup = await baremetalJsonOk<PortRow[]>(['port', 'list', '--port-group', 'bond0', '--limit', '0'], cli);
    assert.deepEqual(inGroup.map((p) => p.Address), ['52:54:00:00:00:06']);
    const viaGroup = await ironicRequest<{ ports: Array<{ uuid: string }> }>(proxy.url, 'GET', `/v1/portgroups/${pg.uuid}/ports`, { apiVersion: '1.78' });
    assert.equal(viaGroup.status, 200);
    assert.equal(viaGroup.json?.ports.length, 1);
    const crossed = await failing(['port', 'create', '52:54:00:00:00:07', '--node', nodes.get('pa')!, '--port-group', pg.uuid]);
    assert.match(crossed, /portgroup belonging to a different node/);
  });

  test('a volume connector lives at its node\'s site and its connector id is unique over sites', async () => {
    const vc = await baremetalJsonOk<{ uuid: string }>(['volume', 'connector', 'create', '--node', nodes.get('pa')!, '--type', 'iqn', '--connector-id', 'iqn.2024-01.org.example:pa'], cli);
    assert.equal(await atSite('loc1', `/v1/volume/connectors/${vc.uuid}`), 200);
    const listed = await baremetalJsonOk<Array<{ UUID: string }>>(['volume', 'connector', 'list', '--limit', '0'], cli);
    assert.deepEqual(listed.map((c) => c.UUID), [vc.uuid]);
    const dup = await failing(['volume', 'connector', 'create', '--node', nodes.get('pb')!, '--type', 'iqn', '--connector-id', 'iqn.2024-01.org.example:pa']);
    assert.match(dup, /A volume connector with type iqn and connector ID iqn.2024-01.org.example:pa already exists/);
    const doc = await ironicRequest<Record<string, unknown>>(proxy.url, 'GET', '/v1/volume', { apiVersion: '1.78' });
    assert.equal(doc.status, 200);
    assert.ok(JSON.stringify(doc.json).includes(`${proxy.url}/v1/volume/connectors`));
    const v1 = await ironicRequest<Record<string, unknown>>(proxy.url, 'GET', '/v1', { apiVersion: '1.78' });
    for (const key of ['ports', 'portgroups', 'volume']) assert.ok(v1.json?.[key], `/v1 advertises ${key}`);
  });

  test('a volume target lives at its node\'s site; shown, listed by node, deleted through the proxy', async () => {
    const vt = await baremetalJsonOk<{ uuid: string }>(
      ['volume', 'target', 'create', '--node', nodes.get('pb')!, '--type', 'iscsi', '--boot-index', '0', '--volume-id', 'vol-1'],
      cli,
    );
    assert.equal(await atSite('loc2', `/v1/volume/targets/${vt.uuid}`), 200);
    assert.equal((await baremetalJsonOk<{ volume_id: string }>(['volume', 'target', 'show', vt.uuid], cli)).volume_id, 'vol-1');
    const byNode = await baremetalJsonOk<Array<{ UUID: string }>>(['volume', 'target', 'list', '--node', 'pb'], cli);
    assert.deepEqual(byNode.map((t) => t.UUID), [vt.uuid]);
    assert.deepEqual(await baremetalJsonOk<unknown[]>(['volume', 'target', 'list', '--node', 'pa'], cli), []);
    // Ironic refuses while the node's power state is unknown; that answer is the site's, relayed.
    const refused = await failing(['volume', 'target', 'delete', vt.uuid]);
    assert.match(refused, /can not be performed on node .* while it is in state "None"/);
    assert.equal(await atSite('loc2', `/v1/volume/targets/${vt.uuid}`), 200);
    const off = await baremetal(['node', 'power', 'off', 'pb', '--power-timeout', '60'], cli);
    assert.equal(off.code, 0, off.stderr);
    const del = await baremetal(['volume', 'target', 'delete', vt.uuid], cli);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(await atSite('loc2', `/v1/volume/targets/${vt.uuid}`), 404);
  });
});
