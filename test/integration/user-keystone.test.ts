/**
 * Users authenticated by a real Keystone (Debian's python3-keystone) and
 * authorised by the proxy, driven by the real `baremetal` CLI with Keystone
 * credentials, over two real Ironic sites: an admin does everything, a
 * reader lists but cannot change, a project member sees only its project's
 * nodes, and no, forged or revoked tokens get 401.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startProxy, type RunningProxy } from '../../src/start.js';
import { startRealSites, type RealSites } from '../support/real-ironic.js';
import { startKeystone, type KeystoneHandle } from '../support/keystone.js';
import { baremetal, type BaremetalOptions } from '../support/clients.js';

describe('users through a real Keystone', { timeout: 600_000 }, () => {
  let ks: KeystoneHandle;
  let sites: RealSites;
  let proxy: RunningProxy;
  let p1: { id: string; name: string };

  /** The CLI as a Keystone user, with the proxy as the fixed baremetal endpoint. */
  const as = (user: string, project: string | undefined, system = false): BaremetalOptions => ({
    endpoint: proxy.url,
    maxRetries: 0,
    env: {
      OS_AUTH_TYPE: 'password',
      OS_ENDPOINT: undefined,
      OS_AUTH_URL: ks.url,
      OS_USERNAME: user,
      OS_PASSWORD: 'pw-' + user,
      OS_USER_DOMAIN_ID: 'default',
      ...(system ? { OS_SYSTEM_SCOPE: 'all' } : { OS_PROJECT_NAME: project, OS_PROJECT_DOMAIN_ID: 'default' }),
      OS_BAREMETAL_ENDPOINT_OVERRIDE: proxy.url,
    },
  });
  const names = async (opts: BaremetalOptions): Promise<string[]> => {
    const r = await baremetal(['node', 'list', '--limit', '0', '-f', 'json'], opts);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as Array<{ Name: string }>).map((n) => n.Name).sort();
  };
  const raw = async (token: string | undefined): Promise<Response> =>
    fetch(`${proxy.url}/v1/nodes`, { headers: { 'X-OpenStack-Ironic-API-Version': 'latest', ...(token ? { 'X-Auth-Token': token } : {}) } });

  before(async () => {
    [ks, sites] = await Promise.all([
      startKeystone(),
      startRealSites([
        { name: 'k1', conductorGroups: [''] },
        { name: 'k2', conductorGroups: ['g2'] },
      ]),
    ]);
    const service = await ks.ensureProject('service');
    await ks.createUser('ironic-proxy', 'pw-ironic-proxy', { projectId: service.id, roles: ['admin'] });
    p1 = await ks.createProject('p1');
    const p2 = await ks.createProject('p2');
    await ks.createUser('boss', 'pw-boss', { projectId: p1.id, roles: ['admin'] });
    await ks.createUser('auditor', 'pw-auditor', { systemRoles: ['reader'] });
    await ks.createUser('alice', 'pw-alice', { projectId: p1.id, roles: ['member'] });
    await ks.createUser('bob', 'pw-bob', { projectId: p2.id, roles: ['member'] });
    const ini = `
[DEFAULT]
groups = _:k1,g2:k2
[api]
port = 0
auth_strategy = keystone
[keystone_authtoken]
auth_url = ${ks.url}
www_authenticate_uri = ${ks.url}
username = ironic-proxy
password = pw-ironic-proxy
user_domain_id = default
project_name = service
project_domain_id = default
token_cache_time = 0
[group:k1]
endpoint_override = ${sites.site('k1').url}
[group:k2]
endpoint_override = ${sites.site('k2').url}
`;
    proxy = await startProxy(loadConfigText(ini), { log: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
  });
  after(async () => {
    await proxy?.close();
    await Promise.all([sites?.stop(), ks?.stop()]);
  });

  test('an admin creates nodes at both sites and gives them to projects', async () => {
    const boss = as('boss', 'p1');
    for (const [name, group, owner] of [['ks-a', '', 'p1'], ['ks-b', 'g2', 'p2'], ['ks-c', 'g2', 'p1']] as const) {
      const args = ['node', 'create', '--driver', 'fake-hardware', '--name', name];
      if (group) args.push('--conductor-group', group);
      const r = await baremetal(args, boss);
      assert.equal(r.code, 0, r.stderr);
      const ownerId = owner === 'p1' ? p1.id : (await ks.ensureProject('p2')).id;
      const set = await baremetal(['node', 'set', name, '--owner', ownerId], boss);
      assert.equal(set.code, 0, set.stderr);
    }
    assert.deepEqual(await names(boss), ['ks-a', 'ks-b', 'ks-c']);
  });

  test('a system reader lists everything but cannot change anything', async () => {
    const auditor = as('auditor', undefined, true);
    assert.deepEqual(await names(auditor), ['ks-a', 'ks-b', 'ks-c']);
    const r = await baremetal(['node', 'set', 'ks-a', '--description', 'x'], auditor);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Access was denied to the following resource: baremetal:node:update \(HTTP 403\)/);
  });

  test('a project member sees and changes only its project\'s nodes', async () => {
    const alice = as('alice', 'p1');
    assert.deepEqual(await names(alice), ['ks-a', 'ks-c']);
    const own = await baremetal(['node', 'set', 'ks-c', '--description', 'mine'], alice);
    assert.equal(own.code, 0, own.stderr);
    const other = await baremetal(['node', 'show', 'ks-b'], alice);
    assert.match(other.stderr, /Node ks-b could not be found\. \(HTTP 404\)/);
    const create = await baremetal(['node', 'create', '--driver', 'fake-hardware'], alice);
    assert.match(create.stderr, /baremetal:node:create \(HTTP 403\)/);
    assert.deepEqual(await names(as('bob', 'p2')), ['ks-b']);
  });

  test('no token, a forged token and a revoked token get 401 with WWW-Authenticate', async () => {
    const none = await raw(undefined);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), `Keystone uri="${ks.url}"`);
    assert.equal((await raw('gAAAAABforgedforgedforged')).status, 401);
    const token = await ks.issueToken({ username: 'alice', password: 'pw-alice', projectName: 'p1' });
    assert.equal((await raw(token)).status, 200);
    await ks.revokeToken(token);
    assert.equal((await raw(token)).status, 401);
    assert.equal((await fetch(`${proxy.url}/v1`)).status, 200, 'the version document stays public');
  });
});
