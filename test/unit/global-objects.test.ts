/**
 * Global objects (chassis, deploy templates, runbooks) over three simulated sites:
 * replicated creates with one UUID, rollback when a site fails part-way, a
 * failed update reverted (or its state reported), deletes refused before
 * anything changes, listings that show each object once, and the reconcile
 * path that finds and repairs a site that missed a create.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigText } from '../../src/config/load.js';
import { createLogger, type Logger } from '../../src/log.js';
import { startProxy, type RunningProxy } from '../../src/start.js';
import { checkDrift, repairDrift, startupDriftCheck } from '../../src/reconcile.js';
import { main as reconcileMain } from '../../src/reconcile-cli.js';
import { startSimSite, type SimSite } from '../../src/sim/index.js';
import { clearSite, put, putNode } from '../support/sim-direct.js';

const V = { 'X-OpenStack-Ironic-API-Version': '1.82' };
const STATES = 'x-ironic-proxy-site-states';

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

/** A deploy step Ironic accepts (a template needs one). */
const STEPS = [{ interface: 'bios', step: 'apply_configuration', args: {}, priority: 10 }];

describe('global objects over simulated sites', () => {
  let sites: SimSite[];
  let proxy: RunningProxy;
  let ini: string;

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = V): Promise<Reply> => {
    const res = await fetch(`${proxy.url}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  const faultstring = (r: Reply): string => JSON.parse(r.body.error_message).faultstring;
  const table = (s: SimSite, family: 'chassis' | 'deploy_templates') => (family === 'chassis' ? s.api.chassis : s.api.templates);
  const get = (s: SimSite, family: 'chassis' | 'deploy_templates', uuid: string) => table(s, family).get(uuid) as Record<string, any> | undefined;
  const holders = (family: 'chassis' | 'deploy_templates', uuid: string): string[] => sites.filter((s) => get(s, family, uuid)).map((s) => s.name);
  const count = (s: SimSite, family: 'chassis' | 'deploy_templates'): number => table(s, family).size;

  before(async () => {
    sites = await Promise.all([
      startSimSite({ name: 's1', conductorGroups: [''] }),
      startSimSite({ name: 's2', conductorGroups: ['g2'] }),
      startSimSite({ name: 's3', conductorGroups: ['g3'] }),
    ]);
    ini = `
[DEFAULT]
groups = _:s1,g2:s2,g3:s3
[api]
host_ip = 127.0.0.1
port = 0
[proxy]
site_timeout = 1
circuit_failure_threshold = 100
circuit_open_seconds = 0
${sites.map((s) => `[group:${s.name}]\nauth_type = none\nendpoint_override = ${s.url}\n`).join('')}`;
    proxy = await startProxy(loadConfigText(ini), { log: createLogger({ level: 'silent' }) });
  });
  after(async () => {
    await proxy?.close();
    await Promise.all(sites.map((s) => s.close()));
  });
  afterEach(async () => {
    for (const s of sites) await clearSite(s);
  });

  test('a create reaches every site with one generated UUID; the first site answers, links at the proxy', async () => {
    const r = await call('POST', '/v1/chassis', { description: 'rack 1' });
    assert.equal(r.status, 201);
    assert.match(r.body.uuid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(holders('chassis', r.body.uuid), ['s1', 's2', 's3']);
    for (const s of sites) assert.equal(get(s, 'chassis', r.body.uuid)!.description, 'rack 1');
    assert.ok(r.body.links.every((l: { href: string }) => l.href.startsWith(proxy.url)), JSON.stringify(r.body.links));
    assert.equal(r.headers.get('location'), `${proxy.url}/v1/chassis/${r.body.uuid}`);
  });

  test("a client's UUID is kept; the first site's 4xx is the answer and nothing is created elsewhere", async () => {
    const uuid = '1be26c0b-03f2-4d2e-ae87-c02d7f33c123';
    const r = await call('POST', '/v1/deploy_templates', { uuid, name: 'CUSTOM_A', steps: STEPS });
    assert.equal(r.status, 201);
    assert.equal(r.body.uuid, uuid);
    assert.deepEqual(holders('deploy_templates', uuid), ['s1', 's2', 's3']);
    const dup = await call('POST', '/v1/deploy_templates', { name: 'CUSTOM_A', steps: STEPS });
    assert.equal(dup.status, 409);
    assert.match(faultstring(dup), /CUSTOM_A already exists/);
    for (const s of sites) assert.equal(count(s, 'deploy_templates'), 1, `${s.name} holds only the first template`);
  });

  test('a site down during create: rolled back at the others, 503 naming the site, no site keeps it', async () => {
    await sites[1]!.setFault('refuse');
    const r = await call('POST', '/v1/chassis', { description: 'half' });
    assert.equal(r.status, 503);
    const text = faultstring(r);
    assert.match(text, /site\(s\) s2 failed/);
    assert.match(text, /No site holds it/);
    assert.equal(r.headers.get(STATES), 's1=rolled-back,s2=failed,s3=rolled-back');
    for (const s of sites) assert.equal(count(s, 'chassis'), 0, `${s.name} keeps nothing`);
  });

  test('a 5xx at one site during create, and a rollback that fails too: the response names who still holds it', async () => {
    await sites[2]!.setFault('http500', { method: 'POST' });
    await sites[0]!.setFault('http500', { method: 'DELETE' });
    const r = await call('POST', '/v1/chassis', { description: 'stuck' });
    assert.equal(r.status, 503);
    assert.match(faultstring(r), /Site\(s\) s1 still hold it/);
    assert.equal(r.headers.get(STATES), 's1=created,s2=rolled-back,s3=failed');
    assert.equal(count(sites[0]!, 'chassis'), 1);
    assert.equal(count(sites[1]!, 'chassis'), 0);
    assert.equal(count(sites[2]!, 'chassis'), 0);
  });

  test('a site that applies a create but never answers (timeout): the create is undone there too', async () => {
    await sites[2]!.setFault('apply-then-hang', { method: 'POST' });
    const r = await call('POST', '/v1/chassis', { description: 'lost answer' });
    assert.equal(r.status, 503);
    assert.match(faultstring(r), /s3: Site s3 did not answer within 1 seconds/);
    assert.equal(r.headers.get(STATES), 's1=rolled-back,s2=rolled-back,s3=rolled-back');
    for (const s of sites) assert.equal(count(s, 'chassis'), 0, `${s.name} keeps nothing`);
  });

  test('an update reaches every site; a site failing part-way gets the change reverted at the others', async () => {
    const c = (await call('POST', '/v1/chassis', { description: 'old', extra: { a: 1 } })).body;
    const ok = await call('PATCH', `/v1/chassis/${c.uuid}`, [{ op: 'add', path: '/extra/b', value: 2 }]);
    assert.equal(ok.status, 200);
    for (const s of sites) assert.deepEqual(get(s, 'chassis', c.uuid)!.extra, { a: 1, b: 2 });

    await sites[2]!.setFault('http500', { method: 'PATCH' });
    const r = await call('PATCH', `/v1/chassis/${c.uuid}`, [
      { op: 'replace', path: '/description', value: 'new' },
      { op: 'remove', path: '/extra/a' },
    ]);
    assert.equal(r.status, 503);
    assert.match(faultstring(r), /reverted at s1, s2/);
    assert.match(faultstring(r), /Every site holds the previous values/);
    assert.equal(r.headers.get(STATES), 's1=reverted,s2=reverted,s3=failed');
    for (const s of sites) {
      assert.equal(get(s, 'chassis', c.uuid)!.description, 'old', s.name);
      assert.deepEqual(get(s, 'chassis', c.uuid)!.extra, { a: 1, b: 2 }, s.name);
    }
  });

  test('an update whose revert fails too: the response says which sites hold the new values', async () => {
    const t = (await call('POST', '/v1/deploy_templates', { name: 'CUSTOM_B', steps: STEPS })).body;
    await sites[1]!.setFault('http500', { method: 'PATCH', status: 503 });
    await sites[0]!.setFault('http500', { method: 'PATCH', skip: 1 });
    const r = await call('PATCH', '/v1/deploy_templates/CUSTOM_B', [{ op: 'replace', path: '/name', value: 'CUSTOM_C' }]);
    assert.equal(r.status, 503);
    assert.equal(r.headers.get(STATES), 's1=updated,s2=failed,s3=reverted');
    assert.match(faultstring(r), /Site\(s\) s1 hold the new values/);
    assert.equal(get(sites[0]!, 'deploy_templates', t.uuid)!.name, 'CUSTOM_C');
    assert.equal(get(sites[2]!, 'deploy_templates', t.uuid)!.name, 'CUSTOM_B');
  });

  test('a site down before an update or delete: refused before anything changes', async () => {
    const c = (await call('POST', '/v1/chassis', { description: 'keep' })).body;
    const before = sites[0]!.received.length;
    await sites[2]!.setFault('refuse');
    const u = await call('PATCH', `/v1/chassis/${c.uuid}`, [{ op: 'replace', path: '/description', value: 'x' }]);
    assert.equal(u.status, 503);
    assert.match(faultstring(u), /s3 did not answer.*nothing was changed/);
    const d = await call('DELETE', `/v1/chassis/${c.uuid}`);
    assert.equal(d.status, 503);
    await sites[2]!.setFault('none');
    assert.deepEqual(holders('chassis', c.uuid), ['s1', 's2', 's3']);
    for (const s of sites) assert.equal(get(s, 'chassis', c.uuid)!.description, 'keep');
    assert.ok(!sites[0]!.received.slice(before).some((q) => q.startsWith('PATCH ') || q.startsWith('DELETE ')), 'no write reached s1');
  });

  test('a delete reaches every site; one that fails is named as still holding it', async () => {
    const a = (await call('POST', '/v1/chassis', {})).body;
    assert.equal((await call('DELETE', `/v1/chassis/${a.uuid}`)).status, 204);
    assert.deepEqual(holders('chassis', a.uuid), []);

    const b = (await call('POST', '/v1/chassis', {})).body;
    await sites[1]!.setFault('http500', { method: 'DELETE' });
    const r = await call('DELETE', `/v1/chassis/${b.uuid}`);
    assert.equal(r.status, 503);
    assert.match(faultstring(r), /s2 failed .* still hold it, while s1, s3 deleted it/);
    assert.equal(r.headers.get(STATES), 's1=deleted,s2=present,s3=deleted');
    // Repeating the delete finishes it (the sites that no longer hold it need nothing).
    await sites[1]!.setFault('none');
    assert.equal((await call('DELETE', `/v1/chassis/${b.uuid}`)).status, 204);
    assert.deepEqual(holders('chassis', b.uuid), []);
  });

  test('a chassis with nodes at any site is not deleted anywhere (ChassisNotEmpty)', async () => {
    const c = (await call('POST', '/v1/chassis', {})).body;
    await putNode(sites[2]!, { uuid: '9a6d1c6e-0000-4000-8000-000000000001', chassis_uuid: c.uuid });
    const r = await call('DELETE', `/v1/chassis/${c.uuid}`);
    assert.equal(r.status, 400);
    assert.equal(faultstring(r), `Cannot complete the requested action because chassis ${c.uuid} contains nodes.`);
    assert.deepEqual(holders('chassis', c.uuid), ['s1', 's2', 's3']);
  });

  test("a chassis's nodes are listed from every site, merged and paged", async () => {
    const c = (await call('POST', '/v1/chassis', {})).body;
    const n = (i: number): string => `9a6d1c6e-0000-4000-8000-00000000000${i}`;
    for (const [site, i] of [[0, 1], [0, 4], [1, 2], [2, 3], [2, 5]] as const) await putNode(sites[site]!, { uuid: n(i), chassis_uuid: c.uuid });
    // a node of another chassis at the same site is not listed
    await putNode(sites[1]!, { uuid: n(6) });
    const p1 = await call('GET', `/v1/chassis/${c.uuid}/nodes?limit=3`);
    assert.equal(p1.status, 200);
    assert.deepEqual(p1.body.nodes.map((x: { uuid: string }) => x.uuid), [n(1), n(2), n(3)]);
    assert.ok(p1.body.next.startsWith(`${proxy.url}/v1/chassis/${c.uuid}/nodes?`), p1.body.next);
    const p2 = await call('GET', p1.body.next.slice(proxy.url.length));
    assert.deepEqual(p2.body.nodes.map((x: { uuid: string }) => x.uuid), [n(4), n(5)]);
  });

  test('a listing shows each object once, from the first site that answers; one object is found even where a site lacks it', async () => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await call('POST', '/v1/chassis', { description: `c${i}` })).body.uuid);
    const all = await call('GET', '/v1/chassis/detail');
    assert.deepEqual(all.body.chassis.map((c: { uuid: string }) => c.uuid), made);
    await sites[0]!.setFault('refuse');
    const fallback = await call('GET', '/v1/chassis');
    assert.equal(fallback.status, 200);
    assert.deepEqual(fallback.body.chassis.map((c: { uuid: string }) => c.uuid), made);
    await sites[0]!.setFault('none');
    const only = await put(sites[2]!, 'chassis', { description: 'only at s3' });
    const one = await call('GET', `/v1/chassis/${String(only.uuid)}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.description, 'only at s3');
    assert.ok(one.body.links[0].href.startsWith(proxy.url));
  });

  test('runbooks below 1.92 answer as Ironic does (404 for GET, 405 otherwise) and are not advertised', async () => {
    const g = await call('GET', '/v1/runbooks');
    assert.equal(g.status, 404);
    assert.equal((await call('POST', '/v1/runbooks', { name: 'CUSTOM_X', steps: [] })).status, 405);
    assert.equal((await call('PATCH', '/v1/runbooks/x', [])).status, 405);
    const v1 = await call('GET', '/v1');
    assert.ok('chassis' in v1.body && 'deploy_templates' in v1.body);
    assert.ok(!('runbooks' in v1.body));
    const old = await call('GET', '/v1', undefined, { 'X-OpenStack-Ironic-API-Version': '1.50' });
    assert.ok(!('deploy_templates' in old.body));
    // Below 1.55 deploy templates do not exist: the table's gate answers Ironic's 404 (no site is asked).
    assert.equal((await call('GET', '/v1/deploy_templates', undefined, { 'X-OpenStack-Ironic-API-Version': '1.50' })).status, 404);
  });

  test('reconcile finds a site that missed a create and a field that differs, and repairs them by the rule', async () => {
    const missed = await put(sites[0]!, 'chassis', { description: 'missed by s3' });
    await put(sites[1]!, 'chassis', { uuid: missed.uuid, description: missed.description });
    const t = (await call('POST', '/v1/deploy_templates', { name: 'CUSTOM_D', steps: STEPS, extra: { k: 'v' } })).body;
    get(sites[1]!, 'deploy_templates', t.uuid)!.extra = { k: 'drifted' };
    const clients = proxy.services.registry.sites;
    const version = proxy.services.internalVersion();

    const report = await checkDrift(clients, { version });
    assert.deepEqual(report.unreachable, []);
    const byUuid = new Map(report.drift.map((d) => [d.uuid, d]));
    assert.deepEqual(byUuid.get(String(missed.uuid))?.missingAt, ['s3']);
    const tf = byUuid.get(t.uuid)?.differing;
    assert.deepEqual(tf?.map((f) => [f.field, f.chosen]), [['extra', { k: 'v' }]]);

    const warnings: unknown[] = [];
    const log = { warn: (...a: unknown[]) => warnings.push(a) } as unknown as Logger;
    await startupDriftCheck(clients, version, log);
    assert.equal(warnings.length, 1, 'the start-up check warns once about drift');
    assert.equal(get(sites[2]!, 'chassis', String(missed.uuid)), undefined, 'the start-up check repairs nothing');

    const actions = await repairDrift(clients, report, { version });
    assert.ok(actions.every((a) => a.ok), JSON.stringify(actions));
    assert.equal(get(sites[2]!, 'chassis', String(missed.uuid))!.description, 'missed by s3');
    assert.deepEqual(get(sites[1]!, 'deploy_templates', t.uuid)!.extra, { k: 'v' });
    assert.deepEqual((await checkDrift(clients, { version })).drift, []);
  });

  test('the start-up check with a site down: warns that the site was not checked, repairs nothing, never throws', async () => {
    await put(sites[0]!, 'chassis', { description: 'only at s1' });
    await sites[1]!.setFault('refuse');
    const warnings: Array<[unknown, string]> = [];
    const log = { warn: (o: unknown, m: string) => warnings.push([o, m]) } as unknown as Logger;
    const report = await startupDriftCheck(proxy.services.registry.sites, proxy.services.internalVersion(), log);
    assert.deepEqual(report?.unreachable.map((u) => u.site), ['s2']);
    assert.deepEqual(report?.drift.map((d) => d.missingAt), [['s3']], 'a site that did not answer is not called missing');
    assert.deepEqual(warnings.map(([, m]) => m.split(';')[0]), [
      'global objects (chassis, deploy templates, runbooks) not checked for drift at some sites',
      'global objects differ between sites',
    ]);
    assert.equal(count(sites[2]!, 'chassis'), 0);
  });

  test('ironic-proxy-reconcile: reports drift (exit 1), repairs it (exit 0), then finds none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reconcile-'));
    const file = join(dir, 'proxy.conf');
    writeFileSync(file, ini);
    const missed = await put(sites[1]!, 'chassis', { description: 'only at s2' });
    const run = async (...argv: string[]): Promise<{ code: number; out: string }> => {
      let out = '';
      const code = await reconcileMain(['--config-file', file, ...argv], { out: (t) => (out += t), err: (t) => (out += t) });
      return { code, out };
    };
    const check = await run();
    assert.equal(check.code, 1);
    assert.match(check.out, new RegExp(`chassis ${String(missed.uuid)}: missing at s1, s3 \\(held by s2\\)`));
    const repair = await run('--repair');
    assert.equal(repair.code, 0, repair.out);
    assert.deepEqual(holders('chassis', String(missed.uuid)), ['s1', 's2', 's3']);
    const again = await run('--json');
    assert.equal(again.code, 0);
    assert.deepEqual(JSON.parse(again.out).drift, []);
  });
});
