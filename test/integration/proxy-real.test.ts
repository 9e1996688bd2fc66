/**
 * The proxy in front of real Ironic sites (Debian's 21.4), driven by the real
 * clients: the `baremetal` CLI and openstacksdk. Site loc1 holds the default
 * group and grp2 (two conductors, json-rpc), site loc2 holds grp1. The
 * proxy's max_limit is small so that listings span several pages.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningProxy } from '../../src/start.js';
import { startProxyOver } from '../support/proxy-over-real.js';
import { startRealSites, type RealSites } from '../support/real-ironic.js';
import { baremetal, baremetalJsonOk, sdk, type BaremetalOptions } from '../support/clients.js';

interface NodeRow {
  UUID: string;
  Name: string;
}

describe('proxy over real Ironic sites', { timeout: 600_000 }, () => {
  let sites: RealSites;
  let proxy: RunningProxy;
  let cli: BaremetalOptions;
  const uuids = new Map<string, string>();

  const siteNode = async (site: string, ident: string): Promise<number> =>
    (await fetch(`${sites.site(site).url}/v1/nodes/${ident}`, { headers: { 'X-OpenStack-Ironic-API-Version': '1.82' } })).status;
  // `--limit 0` makes ironicclient follow `next` to the end; without it, it returns one page (max_limit).
  const listNames = async (args: string[] = []): Promise<string[]> =>
    (await baremetalJsonOk<NodeRow[]>(['node', 'list', '--limit', '0', ...args], cli)).map((r) => r.Name);
  const failing = async (args: string[], opts: Partial<BaremetalOptions> = {}): Promise<string> => {
    const r = await baremetal(args, { ...cli, maxRetries: 0, ...opts });
    assert.notEqual(r.code, 0, `baremetal ${args.join(' ')} should fail`);
    return r.stderr;
  };

  before(async () => {
    sites = await startRealSites([
      { name: 'loc1', conductorGroups: ['', 'grp2'] },
      { name: 'loc2', conductorGroups: ['grp1'] },
    ]);
    proxy = await startProxyOver(sites, { groups: '_:loc1,grp1:loc2,grp2:loc1', api: { max_limit: 3 } });
    cli = { endpoint: proxy.url };
  });
  after(async () => {
    await proxy?.close();
    await sites?.stop();
  });

  test('creates route by conductor group to the site that holds it', async () => {
    for (const [name, group, site] of [
      ['it-a1', '', 'loc1'],
      ['it-b1', 'grp1', 'loc2'],
      ['it-a2', 'grp2', 'loc1'],
      ['it-b2', 'grp1', 'loc2'],
      ['it-a3', '', 'loc1'],
      ['it-b3', 'grp1', 'loc2'],
      ['it-a4', 'grp2', 'loc1'],
    ] as const) {
      const args = ['node', 'create', '--driver', 'fake-hardware', '--name', name];
      if (group) args.push('--conductor-group', group);
      const node = await baremetalJsonOk<{ uuid: string; conductor_group: string }>(args, cli);
      assert.equal(node.conductor_group, group);
      uuids.set(name, node.uuid);
      assert.equal(await siteNode(site, node.uuid), 200, `${name} is at ${site}`);
      assert.equal(await siteNode(site === 'loc1' ? 'loc2' : 'loc1', node.uuid), 404);
    }
  });

  test('an unknown conductor group is a 400 naming it', async () => {
    const err = await failing(['node', 'create', '--driver', 'fake-hardware', '--conductor-group', 'nowhere']);
    assert.match(err, /conductor group "nowhere" is not served by any site/);
    assert.match(err, /HTTP 400/);
  });

  test('the merged list has every node of both sites once, across several pages', async () => {
    const names = await listNames();
    assert.deepEqual([...names].sort(), [...uuids.keys()].sort());
    const sorted = await listNames(['--sort', 'name:desc']);
    assert.deepEqual(sorted, [...uuids.keys()].sort().reverse());
    const firstPage = await baremetalJsonOk<NodeRow[]>(['node', 'list'], cli);
    assert.equal(firstPage.length, 3, 'without --limit the CLI shows one page of max_limit nodes, as with Ironic');
    const long = await baremetalJsonOk<Array<Record<string, unknown>>>(['node', 'list', '--long', '--limit', '0'], cli);
    assert.equal(long.length, uuids.size);
    assert.deepEqual(new Set(long.map((n) => n['Conductor Group'])), new Set(['', 'grp1', 'grp2']));
  });

  test('paging by hand with --limit and --marker sees every node once', async () => {
    const seen: string[] = [];
    let marker: string | undefined;
    for (let page = 0; page < 10; page++) {
      const args = ['node', 'list', '--limit', '2', ...(marker ? ['--marker', marker] : [])];
      const rows = await baremetalJsonOk<NodeRow[]>(args, cli);
      if (rows.length === 0) break;
      assert.ok(rows.length <= 2);
      seen.push(...rows.map((r) => r.Name));
      marker = rows[rows.length - 1]!.UUID;
    }
    assert.deepEqual([...seen].sort(), [...uuids.keys()].sort());
    assert.equal(new Set(seen).size, seen.length);
  });

  test('openstacksdk pages through with a small limit and sees every node once', async () => {
    const r = await sdk<Array<{ name: string }>>({ op: 'list_nodes', details: true, limit: 2 }, proxy.url, { trace: true });
    assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
    assert.deepEqual(r.result.map((n) => n.name).sort(), [...uuids.keys()].sort());
    const pages = (r.requests ?? []).filter((q) => q.url.includes('/nodes/detail'));
    assert.ok(pages.length >= 4, `${pages.length} pages`);
    for (const p of pages) assert.ok(p.url.startsWith(proxy.url), `sdk followed ${p.url}`);
  });

  test('show, set and unset by name and by UUID', async () => {
    const byName = await baremetalJsonOk<{ uuid: string }>(['node', 'show', 'it-b1'], cli);
    assert.equal(byName.uuid, uuids.get('it-b1'));
    const set = await baremetal(['node', 'set', 'it-b1', '--description', 'rack 7', '--property', 'cpus=4'], cli);
    assert.equal(set.code, 0, set.stderr);
    const byUuid = await baremetalJsonOk<{ description: string; properties: Record<string, unknown> }>(['node', 'show', uuids.get('it-b1')!], cli);
    assert.equal(byUuid.description, 'rack 7');
    assert.equal(byUuid.properties.cpus, 4);
    const unset = await baremetal(['node', 'unset', uuids.get('it-b1')!, '--description'], cli);
    assert.equal(unset.code, 0, unset.stderr);
    assert.equal((await baremetalJsonOk<{ description: string | null }>(['node', 'show', 'it-b1'], cli)).description, null);
  });

  test('a name used at another site is a 409, on create and on rename', async () => {
    const create = await failing(['node', 'create', '--driver', 'fake-hardware', '--name', 'it-a1', '--conductor-group', 'grp1']);
    assert.match(create, /A node with name it-a1 already exists\. \(HTTP 409\)/);
    const rename = await failing(['node', 'set', 'it-b2', '--name', 'it-a1']);
    assert.match(rename, /A node with name it-a1 already exists\. \(HTTP 409\)/);
  });

  test('moving a node to a group of another site is refused; within its site it passes', async () => {
    const err = await failing(['node', 'set', 'it-a3', '--conductor-group', 'grp1']);
    assert.match(err, /cannot move to conductor group "grp1".*site loc2.*site loc1/);
    assert.match(err, /HTTP 400/);
    const ok = await baremetal(['node', 'set', 'it-a3', '--conductor-group', 'grp2'], cli);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await baremetalJsonOk<{ conductor_group: string }>(['node', 'show', 'it-a3'], cli)).conductor_group, 'grp2');
  });

  test('errors print as Ironic writes them: 404, and 404 for names below 1.5', async () => {
    assert.match(await failing(['node', 'show', 'it-none']), /Node it-none could not be found\. \(HTTP 404\)/);
    assert.match(
      await failing(['node', 'show', 'it-a1'], { apiVersion: '1.1' }),
      /Node it-a1 could not be found\. \(HTTP 404\)/,
    );
  });

  test('406 outside the common range, with the version headers', async () => {
    const res = await fetch(`${proxy.url}/v1/nodes`, { headers: { 'X-OpenStack-Ironic-API-Version': '1.83' } });
    assert.equal(res.status, 406);
    assert.equal(res.headers.get('x-openstack-ironic-api-maximum-version'), '1.82');
    const inner = JSON.parse(((await res.json()) as { error_message: string }).error_message);
    assert.equal(
      inner.description,
      'Version 1.83 was requested but the minor version is not supported by this service. The supported version range is: [1.1, 1.82].',
    );
  });

  test('links point at the proxy (the CLI hides them; read them raw)', async () => {
    const res = await fetch(`${proxy.url}/v1/nodes/it-b3`, { headers: { 'X-OpenStack-Ironic-API-Version': 'latest' } });
    const node = (await res.json()) as Record<string, Array<{ href: string }>>;
    const hrefs = ['links', 'ports', 'states', 'portgroups', 'volume'].flatMap((k) => node[k]!.map((l) => l.href));
    assert.equal(hrefs.length, 10);
    for (const h of hrefs) assert.ok(h.startsWith(`${proxy.url}/`), `${h} points at the proxy`);
    const created = await fetch(`${proxy.url}/v1/nodes/it-b3/states/power`, {
      method: 'PUT',
      headers: { 'X-OpenStack-Ironic-API-Version': 'latest', 'Content-Type': 'application/json' },
      body: JSON.stringify({ target: 'power on' }),
    });
    assert.equal(created.status, 202);
    assert.equal(created.headers.get('location'), `${proxy.url}/v1/nodes/it-b3/states`);
  });

  test('next links point at the proxy and carry the filters', async () => {
    const res = await fetch(`${proxy.url}/v1/nodes?limit=1&driver=fake-hardware`, { headers: { 'X-OpenStack-Ironic-API-Version': 'latest' } });
    const body = (await res.json()) as { next: string };
    assert.ok(body.next.startsWith(`${proxy.url}/v1/nodes?`), body.next);
    assert.match(body.next, /driver=fake-hardware/);
  });

  test('manage, provide, deploy, power and undeploy through the proxy', async () => {
    for (const step of [
      ['node', 'manage', 'it-b1', '--wait', '60'],
      ['node', 'provide', 'it-b1', '--wait', '60'],
      ['node', 'deploy', 'it-b1', '--wait', '60'],
      ['node', 'power', 'off', 'it-b1'],
      ['node', 'power', 'on', 'it-b1'],
      ['node', 'undeploy', 'it-b1', '--wait', '60'],
    ]) {
      const r = await baremetal(step, { ...cli, timeoutMs: 120_000 });
      assert.equal(r.code, 0, `${step.join(' ')}: ${r.stderr}`);
    }
    const node = await baremetalJsonOk<{ provision_state: string; power_state: string }>(['node', 'show', 'it-b1'], cli);
    assert.equal(node.provision_state, 'available');
  });

  test('openstacksdk: find by name, update, provision and delete', async () => {
    const found = await sdk<{ id: string }>({ op: 'find_node', id: 'it-a2' }, proxy.url);
    assert.ok(found.ok && found.result.id === uuids.get('it-a2'));
    const upd = await sdk<{ extra: Record<string, unknown> }>({ op: 'update_node', id: 'it-a2', attrs: { extra: { team: 'edge' } } }, proxy.url);
    assert.ok(upd.ok, JSON.stringify(!upd.ok && upd.error));
    assert.deepEqual(upd.result.extra, { team: 'edge' });
    const manage = await sdk<{ provision_state: string }>({ op: 'set_provision_state', id: 'it-a2', target: 'manage', wait: true, timeout: 60 }, proxy.url);
    assert.ok(manage.ok && manage.result.provision_state === 'manageable', JSON.stringify(manage));
    const missing = await sdk({ op: 'get_node', id: 'it-none' }, proxy.url);
    assert.ok(!missing.ok && missing.error.status_code === 404);
    const del = await sdk({ op: 'delete_node', id: uuids.get('it-a4')! }, proxy.url);
    assert.ok(del.ok, JSON.stringify(del));
    assert.equal(await siteNode('loc1', uuids.get('it-a4')!), 404);
  });

  test('delete by name and by UUID', async () => {
    assert.equal((await baremetal(['node', 'delete', 'it-a1'], cli)).code, 0);
    assert.equal((await baremetal(['node', 'delete', uuids.get('it-b2')!], cli)).code, 0);
    assert.equal(await siteNode('loc1', uuids.get('it-a1')!), 404);
    assert.equal(await siteNode('loc2', uuids.get('it-b2')!), 404);
    const names = await listNames();
    assert.ok(!names.includes('it-a1') && !names.includes('it-b2'));
    assert.equal(names.length, uuids.size - 3);
  });
});

describe('proxy over real sites of different releases', { timeout: 300_000 }, () => {
  let sites: RealSites;
  let proxy: RunningProxy;

  before(async () => {
    sites = await startRealSites([
      { name: 'new', conductorGroups: [''] },
      // Pinned to Ironic 18.1: its API stops at 1.75.
      { name: 'old', conductorGroups: ['grp-old'], pinReleaseVersion: '18.1' },
    ]);
    proxy = await startProxyOver(sites, { groups: '_:new,grp-old:old' });
  });
  after(async () => {
    await proxy?.close();
    await sites?.stop();
  });

  test('the proxy advertises the common maximum and the CLI prints the 406 above it', async () => {
    const root = (await (await fetch(`${proxy.url}/`)).json()) as { default_version: { version: string } };
    assert.equal(root.default_version.version, '1.75');
    const r = await baremetal(['node', 'list'], { endpoint: proxy.url, apiVersion: '1.76', maxRetries: 0 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr.replace(/\s+/g, ' '), /Requested API version 1\.76 is not supported .* Supported version range is 1\.1 to 1\.75/);
    const ok = await baremetal(['node', 'list'], { endpoint: proxy.url, apiVersion: 'latest' });
    assert.equal(ok.code, 0, ok.stderr);
  });
});
