/**
 * The world of the authorisation differential suite
 * (test/integration/authz-differential.test.ts): one REAL Keystone, two REAL
 * Ironic 21.4 sites behind keystonemiddleware (site-a: conductor group '',
 * site-b: 'grp2'), and the proxy over them with `[api]auth_strategy =
 * keystone`, reaching each site with its own system-scoped admin credentials.
 *
 *   const ks = await startAuthzKeystone();            // users and tokens, once
 *   const w = await startAuthzWorld(ks, { enforceScope: true, enforceNewDefaults: true });
 *   try { ... w.siteUrl('A'), w.proxyUrl, w.users['p1-member'].token, w.fx.A.nodeP1.uuid ... }
 *   finally { await w.stop(); }
 *   await ks.stop();
 *
 * Keystone (users, projects, tokens) is shared by every configuration; the
 * sites and the proxy are per configuration, because `[oslo_policy]
 * enforce_scope / enforce_new_defaults` are read once at start-up. The same
 * `[oslo_policy]` options (and the same policy file) are given to the sites
 * and to the proxy.
 *
 * Users (all with password `pw-<name>`), see USERS below: system admin /
 * member / reader (role on system `all`), P1 admin / member / reader (P1 owns
 * the fixture nodes), P2 admin / member / reader (P2 leases them), a P3 member
 * (unrelated project), a P1 user with only a role Ironic does not know
 * ('nobody': Keystone cannot issue a project-scoped token without a role),
 * a `service` role user in project `service`, and a `baremetal_observer` in P3
 * (only meaningful when a policy file names that role).
 *
 * Data, created directly at each site with a system admin token (see
 * AuthzFixtures): nodes owned by P1 and leased to P2 (driver_info with a
 * password, instance_info, extra, a trait, a chassis), owned by P3, unowned;
 * ports, portgroups, volume connectors and targets on them; at site-a a node
 * made `available` and an allocation owned by P1 holding it; allocations
 * owned by P3 / P1 that failed (no node: cheap); one chassis and one deploy
 * template present at BOTH sites with one UUID (created at each site with an
 * explicit uuid — what the proxy's replication would have made — so the
 * world does not depend on the proxy being right).
 *
 * Fresh objects for write tests: `w.makeVictim(kind, site)`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';

import { loadConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startProxy, type RunningProxy } from '../../src/start.js';
import { liveDirs } from './exit-cleanup.js';
import { createIronicServiceUser, ironicKeystoneConfig, startKeystone, type IronicServiceUser, type KeystoneHandle } from './keystone.js';
import { startRealSites, type RealSites } from './real-ironic.js';

// ---------------------------------------------------------------------------
// HTTP.

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON, or undefined (empty or not JSON). */
  json: any;
}

export interface CallOptions {
  token?: string;
  /** X-OpenStack-Ironic-API-Version; default '1.82'. null: no header. */
  version?: string | null;
  body?: unknown;
  timeoutMs?: number;
  /**
   * Retry a 409 "Node … is locked by host …" this many times, 50 ms apart
   * (what ironicclient does with its retries). Default 40.
   */
  lockedRetries?: number;
}

/** One request to an Ironic API (a site or the proxy). Never throws for a status. */
export async function ironicCall(base: string, method: string, p: string, o: CallOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (o.version !== null) headers['X-OpenStack-Ironic-API-Version'] = o.version ?? '1.82';
  if (o.token) headers['X-Auth-Token'] = o.token;
  let body: string | undefined;
  if (o.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(o.body);
  }
  let lastErr: unknown;
  let locked = o.lockedRetries ?? 40;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const res = await fetch(`${base}${p}`, { method, headers, body, signal: AbortSignal.timeout(o.timeoutMs ?? 30_000) });
      const text = await res.text();
      if (res.status === 409 && locked > 0 && /is locked by host/.test(text)) {
        locked--;
        attempt--;
        await delay(50);
        continue;
      }
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, text, json };
    } catch (e) {
      // A keep-alive connection the server closed as we reused it: retry (only connection errors).
      lastErr = e;
      const code = (e as { cause?: { code?: string } }).cause?.code ?? '';
      if (!/ECONNRESET|UND_ERR_SOCKET|EPIPE/.test(code)) break;
    }
  }
  throw new Error(`${method} ${base}${p}: ${(lastErr as Error).message}`);
}

function must(r: HttpResult, want: number | number[], what: string): HttpResult {
  const ok = Array.isArray(want) ? want.includes(r.status) : r.status === want;
  if (!ok) throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 500)}`);
  return r;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------
// Keystone: projects, users, tokens (shared by every configuration).

export type UserName =
  | 'sys-admin'
  | 'sys-member'
  | 'sys-reader'
  | 'p1-admin'
  | 'p1-member'
  | 'p1-reader'
  | 'p2-admin'
  | 'p2-member'
  | 'p2-reader'
  | 'p3-member'
  | 'p1-nobody'
  | 'svc'
  | 'p3-observer';

interface UserSpec {
  name: UserName;
  /** 'system' or a project key. */
  scope: 'system' | 'P1' | 'P2' | 'P3' | 'service';
  roles: string[];
  /** What the user is, for the report. */
  about: string;
}

export const USERS: readonly UserSpec[] = [
  { name: 'sys-admin', scope: 'system', roles: ['admin'], about: 'admin on system all' },
  { name: 'sys-member', scope: 'system', roles: ['member'], about: 'member on system all' },
  { name: 'sys-reader', scope: 'system', roles: ['reader'], about: 'reader on system all' },
  { name: 'p1-admin', scope: 'P1', roles: ['admin'], about: 'admin in P1 (owner)' },
  { name: 'p1-member', scope: 'P1', roles: ['member'], about: 'member in P1 (owner)' },
  { name: 'p1-reader', scope: 'P1', roles: ['reader'], about: 'reader in P1 (owner)' },
  { name: 'p2-admin', scope: 'P2', roles: ['admin'], about: 'admin in P2 (lessee)' },
  { name: 'p2-member', scope: 'P2', roles: ['member'], about: 'member in P2 (lessee)' },
  { name: 'p2-reader', scope: 'P2', roles: ['reader'], about: 'reader in P2 (lessee)' },
  { name: 'p3-member', scope: 'P3', roles: ['member'], about: 'member in P3 (unrelated)' },
  { name: 'p1-nobody', scope: 'P1', roles: ['nobody'], about: "only role 'nobody' in P1" },
  { name: 'svc', scope: 'service', roles: ['service'], about: "role 'service' in project service" },
  { name: 'p3-observer', scope: 'P3', roles: ['baremetal_observer'], about: "only role 'baremetal_observer' in P3" },
];

export interface AuthzUser {
  name: UserName;
  about: string;
  system: boolean;
  /** Project id ('' for system scope). */
  projectId: string;
  roles: string[];
  token: string;
}

export interface AuthzKeystone {
  ks: KeystoneHandle;
  projects: { P1: string; P2: string; P3: string; service: string };
  users: Record<UserName, AuthzUser>;
  /** The sites' keystonemiddleware user (admin in project service). */
  siteService: IronicServiceUser;
  /** The proxy's user: admin in project service (validates tokens) and admin on the system (calls sites). */
  proxyUser: { username: string; password: string };
  /** A system-scoped admin token for fixtures (user sys-admin). */
  adminToken: string;
  startMs: number;
  stop(): Promise<void>;
}

export async function startAuthzKeystone(): Promise<AuthzKeystone> {
  const t0 = Date.now();
  const ks = await startKeystone();
  try {
    const siteService = await createIronicServiceUser(ks);
    const service = await ks.ensureProject('service');
    const proxyUser = { username: 'ironic-proxy', password: 'pw-ironic-proxy' };
    await ks.createUser(proxyUser.username, proxyUser.password, { projectId: service.id, roles: ['admin'], systemRoles: ['admin'] });
    const [p1, p2, p3] = await Promise.all([ks.createProject('P1'), ks.createProject('P2'), ks.createProject('P3')]);
    const projects = { P1: p1.id, P2: p2.id, P3: p3.id, service: service.id };
    // Roles first (createUser creates missing roles; concurrent creates of one role would collide).
    for (const r of new Set(USERS.flatMap((u) => u.roles))) await ks.ensureRole(r);
    const users = {} as Record<UserName, AuthzUser>;
    for (const u of USERS) {
      const pw = `pw-${u.name}`;
      const system = u.scope === 'system';
      const projectId = u.scope === 'system' ? '' : projects[u.scope];
      await ks.createUser(u.name, pw, system ? { systemRoles: u.roles } : { projectId, roles: u.roles });
      const token = await ks.issueToken(system ? { username: u.name, password: pw, system: true } : { username: u.name, password: pw, projectId });
      users[u.name] = { name: u.name, about: u.about, system, projectId, roles: u.roles, token };
    }
    return {
      ks,
      projects,
      users,
      siteService,
      proxyUser,
      adminToken: users['sys-admin'].token,
      startMs: Date.now() - t0,
      stop: () => ks.stop(),
    };
  } catch (e) {
    await ks.stop();
    throw e;
  }
}

// ---------------------------------------------------------------------------
// Fixtures.

export type SiteKey = 'A' | 'B';

export interface Obj {
  uuid: string;
  name?: string;
}

export interface SiteFixtures {
  site: SiteKey;
  /** Conductor host name (= site name). */
  conductor: string;
  group: string;
  /** Owner P1, lessee P2, driver_info with a password, instance_info, extra, trait CUSTOM_P1; at site A in the chassis. */
  nodeP1: Obj;
  /** Owner P3. */
  nodeP3: Obj;
  /** No owner, no lessee. */
  nodeFree: Obj;
  portP1: Obj & { address: string };
  portP3: Obj & { address: string };
  portFree: Obj & { address: string };
  pgP1: Obj;
  pgP3: Obj;
  connP1: Obj;
  connP3: Obj;
  targetP1: Obj;
  targetP3: Obj;
  /** An allocation owned by P1: at A, active on nodeAlloc; at B, failed (no node). */
  allocP1: Obj;
  /** Owned by P3, failed (no node). */
  allocP3: Obj;
  /** Site A: the `available` node (owner P1) allocated to allocP1. */
  nodeAlloc?: Obj;
}

export interface AuthzFixtures {
  A: SiteFixtures;
  B: SiteFixtures;
  /** At both sites with one UUID. */
  chassis: Obj;
  template: Obj;
}

export type VictimKind = 'node' | 'port' | 'portgroup' | 'connector' | 'target' | 'allocation' | 'chassis' | 'template';

export interface Victim {
  kind: VictimKind;
  site: SiteKey | 'both';
  uuid: string;
  name?: string;
  /** For ports etc.: the node they are on. */
  nodeUuid?: string;
  address?: string;
}

// ---------------------------------------------------------------------------
// The world of one configuration.

export interface AuthzWorldOptions {
  /** [oslo_policy] enforce_scope (sites and proxy). Default: not set (oslo.policy 4.0's default, false). */
  enforceScope?: boolean;
  /** [oslo_policy] enforce_new_defaults. Default: not set (false). */
  enforceNewDefaults?: boolean;
  /** Content of a policy.yaml given as [oslo_policy] policy_file to the sites and the proxy. */
  policyYaml?: string;
  /** Label for dirs and the env file. */
  label?: string;
}

export interface AuthzWorld {
  label: string;
  kw: AuthzKeystone;
  users: Record<UserName, AuthzUser>;
  projects: AuthzKeystone['projects'];
  sites: RealSites;
  proxy: RunningProxy;
  proxyUrl: string;
  siteUrl(s: SiteKey): string;
  siteName(s: SiteKey): string;
  fx: AuthzFixtures;
  /** The proxy's configuration text (passwords included: test-only). */
  proxyIni: string;
  /** Extra config text given to each site. */
  siteExtraConfig: string;
  timings: { sitesMs: number; fixturesMs: number; proxyMs: number; totalMs: number };
  /**
   * A fresh object of this kind, created with the admin token: a node owned
   * by P1 and leased to P2 (with driver_info, instance_info, extra; the
   * trait CUSTOM_OLD if `traits`); a port, portgroup, connector or target on
   * the site's nodeP1; a failed allocation owned by P1; a chassis or deploy
   * template at both sites.
   */
  makeVictim(kind: VictimKind, site: SiteKey, opts?: { traits?: boolean }): Promise<Victim>;
  /** Every object makeVictim created, in order. */
  victims: Victim[];
  /** Requests the sites have served so far (their access log lines), whoever sent them. */
  siteRequests(): number;
  /** Writes a shell env file with URLs, tokens and fixture ids; returns its path. */
  writeEnvFile(file?: string): string;
  stop(): Promise<void>;
}

export const SITE_NAMES: Record<SiteKey, string> = { A: 'site-a', B: 'site-b' };
export const SITE_GROUPS: Record<SiteKey, string> = { A: '', B: 'grp2' };

function osloPolicySection(o: AuthzWorldOptions, policyFile: string | undefined): string {
  const lines: string[] = [];
  if (o.enforceScope !== undefined) lines.push(`enforce_scope = ${o.enforceScope}`);
  if (o.enforceNewDefaults !== undefined) lines.push(`enforce_new_defaults = ${o.enforceNewDefaults}`);
  if (policyFile) lines.push(`policy_file = ${policyFile}`);
  return lines.length ? `[oslo_policy]\n${lines.join('\n')}\n` : '';
}

export async function startAuthzWorld(kw: AuthzKeystone, o: AuthzWorldOptions = {}): Promise<AuthzWorld> {
  const t0 = Date.now();
  const label = o.label ?? 'authz';
  const { ks, adminToken, projects } = kw;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `authz-${label.replace(/[^A-Za-z0-9_.-]/g, '_')}-`));
  liveDirs.add(dir);
  let policyFile: string | undefined;
  if (o.policyYaml !== undefined) {
    policyFile = path.join(dir, 'policy.yaml');
    fs.writeFileSync(policyFile, o.policyYaml);
  }
  const oslo = osloPolicySection(o, policyFile);
  const siteExtraConfig =
    ironicKeystoneConfig(ks, kw.siteService) +
    oslo +
    // No periodic power sync: it takes the node's lock (reservation) and could race a comparison.
    '[conductor]\nsync_power_state_interval = 0\n';

  let sites: RealSites | undefined;
  let proxy: RunningProxy | undefined;
  const stopAll = async (): Promise<void> => {
    await proxy?.close();
    await sites?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
  };
  try {
    const tSites = Date.now();
    sites = await startRealSites(
      [
        { name: SITE_NAMES.A, conductorGroups: [SITE_GROUPS.A] },
        { name: SITE_NAMES.B, conductorGroups: [SITE_GROUPS.B] },
      ],
      { extraConfig: siteExtraConfig, readyToken: () => adminToken },
    );
    const sitesMs = Date.now() - tSites;
    const siteUrl = (s: SiteKey): string => sites!.site(SITE_NAMES[s]).url;
    const admin = (s: SiteKey, method: string, p: string, body?: unknown): Promise<HttpResult> =>
      ironicCall(siteUrl(s), method, p, { token: adminToken, body });

    const tFx = Date.now();
    const fx = await createFixtures(admin, projects);
    const fixturesMs = Date.now() - tFx;

    const tProxy = Date.now();
    const proxyIni = `
[DEFAULT]
groups = _:${SITE_NAMES.A},${SITE_GROUPS.B}:${SITE_NAMES.B}
[api]
host_ip = 127.0.0.1
port = 0
auth_strategy = keystone
[keystone_authtoken]
auth_type = password
auth_url = ${ks.url}
www_authenticate_uri = ${ks.url}
username = ${kw.proxyUser.username}
password = ${kw.proxyUser.password}
user_domain_id = default
project_name = service
project_domain_id = default
token_cache_time = 300
${oslo}
${(['A', 'B'] as const)
  .map(
    (s) => `[group:${SITE_NAMES[s]}]
auth_type = password
auth_url = ${ks.url}
username = ${kw.proxyUser.username}
password = ${kw.proxyUser.password}
user_domain_id = default
system_scope = all
endpoint_override = ${siteUrl(s)}
`,
  )
  .join('')}`;
    const cfg = loadConfigText(proxyIni);
    proxy = await startProxy(cfg, { log: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
    const proxyMs = Date.now() - tProxy;

    let victims = 0;
    const world: AuthzWorld = {
      label,
      kw,
      users: kw.users,
      projects,
      sites,
      proxy,
      proxyUrl: proxy.url,
      siteUrl,
      siteName: (s) => SITE_NAMES[s],
      fx,
      proxyIni,
      siteExtraConfig,
      timings: { sitesMs, fixturesMs, proxyMs, totalMs: Date.now() - t0 },
      makeVictim: async (kind, site, vo) => {
        const v = await makeVictim(admin, projects, fx, kind, site, ++victims, vo?.traits ?? false);
        world.victims.push(v);
        return v;
      },
      victims: [],
      siteRequests: () =>
        (['A', 'B'] as const).reduce((n, s) => {
          try {
            return n + (fs.readFileSync(sites!.site(SITE_NAMES[s]).logFile, 'utf8').match(/eventlet\.wsgi\.server/g)?.length ?? 0);
          } catch {
            return n;
          }
        }, 0),
      writeEnvFile(file) {
        const f = file ?? path.join(os.tmpdir(), `authz-world-${label}.env`);
        fs.writeFileSync(f, envText(world), { mode: 0o600 });
        return f;
      },
      stop: stopAll,
    };
    return world;
  } catch (e) {
    await stopAll();
    throw e;
  }
}

// ---------------------------------------------------------------------------
// Fixture creation (system admin, directly at the sites).

type AdminCall = (s: SiteKey, method: string, p: string, body?: unknown) => Promise<HttpResult>;

const DRIVER_INFO = { ipmi_address: '10.0.0.1', ipmi_username: 'root', ipmi_password: 'secret-ipmi-pw', deploy_kernel: 'http://img/k' };
const INSTANCE_INFO = { image_source: 'http://img/disk.qcow2', image_checksum: 'abc', root_gb: '10' };

function mac(site: SiteKey, a: number, b: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `52:54:00:${site === 'A' ? '0a' : '0b'}:${hex(a)}:${hex(b)}`;
}

async function createNode(admin: AdminCall, s: SiteKey, body: Record<string, unknown>): Promise<Obj> {
  const r = must(await admin(s, 'POST', '/v1/nodes', { driver: 'fake-hardware', conductor_group: SITE_GROUPS[s], ...body }), 201, `create node at ${s}`);
  return { uuid: r.json.uuid as string, name: r.json.name as string | undefined };
}

async function waitNode(admin: AdminCall, s: SiteKey, uuid: string, field: string, want: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  let last = '';
  while (Date.now() < until) {
    const r = must(await admin(s, 'GET', `/v1/nodes/${uuid}?fields=${field},last_error`), 200, 'node state');
    last = `${r.json[field]} (${r.json.last_error ?? ''})`;
    if (r.json[field] === want) return;
    await delay(150);
  }
  throw new Error(`node ${uuid} at ${s}: ${field} is ${last}, not ${want}`);
}

async function waitAllocation(admin: AdminCall, s: SiteKey, uuid: string, want: string[], ms = 30_000): Promise<any> {
  const until = Date.now() + ms;
  let last: any;
  while (Date.now() < until) {
    last = must(await admin(s, 'GET', `/v1/allocations/${uuid}`), 200, 'allocation').json;
    if (want.includes(last.state)) return last;
    await delay(40);
  }
  throw new Error(`allocation ${uuid} at ${s}: state ${last?.state} (${last?.last_error}), not ${want.join('/')}`);
}

async function siteFixtures(admin: AdminCall, s: SiteKey, projects: AuthzKeystone['projects'], chassis: string): Promise<SiteFixtures> {
  const x = s.toLowerCase();
  const common = { driver_info: DRIVER_INFO, instance_info: INSTANCE_INFO, properties: { cpus: 4, memory_mb: 1024 } };
  const [nodeP1, nodeP3, nodeFree] = await Promise.all([
    createNode(admin, s, {
      ...common,
      name: `${x}-p1`,
      owner: projects.P1,
      lessee: projects.P2,
      extra: { tag: `${x}-p1` },
      description: 'owned by P1, leased to P2',
      resource_class: 'rc-p1',
      ...(s === 'A' ? { chassis_uuid: chassis } : {}),
    }),
    createNode(admin, s, { ...common, name: `${x}-p3`, owner: projects.P3, extra: { tag: `${x}-p3` }, description: 'owned by P3' }),
    createNode(admin, s, { ...common, name: `${x}-free`, extra: { tag: `${x}-free` }, description: 'no owner' }),
  ]);
  must(await admin(s, 'PUT', `/v1/nodes/${nodeP1.uuid}/traits`, { traits: ['CUSTOM_P1'] }), 204, 'traits');
  must(await admin(s, 'PUT', `/v1/nodes/${nodeP3.uuid}/traits`, { traits: ['CUSTOM_P3'] }), 204, 'traits');

  const pg = async (node: Obj, n: number): Promise<Obj> => {
    const r = must(
      await admin(s, 'POST', '/v1/portgroups', { node_uuid: node.uuid, name: `${x}-pg${n}`, address: mac(s, 9, n), extra: { pg: n } }),
      201,
      'portgroup',
    );
    return { uuid: r.json.uuid, name: r.json.name };
  };
  const [pgP1, pgP3] = await Promise.all([pg(nodeP1, 1), pg(nodeP3, 3)]);
  const port = async (node: Obj, n: number, portgroup?: Obj): Promise<Obj & { address: string }> => {
    const address = mac(s, 1, n);
    const r = must(
      await admin(s, 'POST', '/v1/ports', {
        node_uuid: node.uuid,
        address,
        extra: { port: n },
        ...(portgroup ? { portgroup_uuid: portgroup.uuid } : {}),
        local_link_connection: { switch_id: '00:00:00:00:00:01', port_id: `Eth${n}`, switch_info: 'sw' },
      }),
      201,
      'port',
    );
    return { uuid: r.json.uuid, address };
  };
  const [portP1, portP3, portFree] = await Promise.all([port(nodeP1, 1, pgP1), port(nodeP3, 3, pgP3), port(nodeFree, 5)]);
  const conn = async (node: Obj, n: number): Promise<Obj> => {
    const r = must(
      await admin(s, 'POST', '/v1/volume/connectors', { node_uuid: node.uuid, type: 'iqn', connector_id: `iqn.2024-01.org.example:${x}-${n}` }),
      201,
      'volume connector',
    );
    return { uuid: r.json.uuid };
  };
  const target = async (node: Obj, n: number): Promise<Obj> => {
    const r = must(
      await admin(s, 'POST', '/v1/volume/targets', {
        node_uuid: node.uuid,
        volume_type: 'iscsi',
        boot_index: 0,
        volume_id: `vol-${x}-${n}`,
        properties: { target_iqn: `iqn.2024-01.org.example:vol-${x}-${n}`, auth_password: 'secret-chap' },
      }),
      201,
      'volume target',
    );
    return { uuid: r.json.uuid };
  };
  const [connP1, connP3, targetP1, targetP3] = await Promise.all([conn(nodeP1, 1), conn(nodeP3, 3), target(nodeP1, 1), target(nodeP3, 3)]);

  const failedAllocation = async (name: string, owner: string): Promise<Obj> => {
    const r = must(await admin(s, 'POST', '/v1/allocations', { name, owner, resource_class: 'rc-none', extra: { a: name } }), 201, 'allocation');
    await waitAllocation(admin, s, r.json.uuid, ['error']);
    return { uuid: r.json.uuid, name };
  };
  const allocP3 = await failedAllocation(`${x}-alloc-p3`, projects.P3);
  let allocP1: Obj;
  let nodeAlloc: Obj | undefined;
  if (s === 'A') {
    // A real allocation: an available node owned by P1 with the resource class.
    nodeAlloc = await createNode(admin, s, { name: `${x}-alloc`, owner: projects.P1, resource_class: 'rc-alloc', driver_info: DRIVER_INFO });
    must(await admin(s, 'PUT', `/v1/nodes/${nodeAlloc.uuid}/states/provision`, { target: 'manage' }), 202, 'manage');
    await waitNode(admin, s, nodeAlloc.uuid, 'provision_state', 'manageable');
    must(await admin(s, 'PUT', `/v1/nodes/${nodeAlloc.uuid}/states/provision`, { target: 'provide' }), 202, 'provide');
    await waitNode(admin, s, nodeAlloc.uuid, 'provision_state', 'available');
    // Candidates need a power state, and the periodic power sync is off here.
    must(await admin(s, 'PUT', `/v1/nodes/${nodeAlloc.uuid}/states/power`, { target: 'power off' }), 202, 'power off');
    await waitNode(admin, s, nodeAlloc.uuid, 'power_state', 'power off');
    const r = must(
      await admin(s, 'POST', '/v1/allocations', { name: `${x}-alloc-p1`, owner: projects.P1, resource_class: 'rc-alloc', extra: { a: 1 } }),
      201,
      'allocation',
    );
    const a = await waitAllocation(admin, s, r.json.uuid, ['active', 'error']);
    if (a.state !== 'active' || a.node_uuid !== nodeAlloc.uuid) throw new Error(`allocation not active on ${nodeAlloc.uuid}: ${JSON.stringify(a)}`);
    allocP1 = { uuid: a.uuid, name: a.name };
  } else {
    allocP1 = await failedAllocation(`${x}-alloc-p1`, projects.P1);
  }
  return {
    site: s,
    conductor: SITE_NAMES[s],
    group: SITE_GROUPS[s],
    nodeP1,
    nodeP3,
    nodeFree,
    portP1,
    portP3,
    portFree,
    pgP1,
    pgP3,
    connP1,
    connP3,
    targetP1,
    targetP3,
    allocP1,
    allocP3,
    nodeAlloc,
  };
}

async function createGlobal(admin: AdminCall, collection: string, body: Record<string, unknown>): Promise<void> {
  for (const s of ['A', 'B'] as const) must(await admin(s, 'POST', collection, body), 201, `create ${collection} at ${s}`);
}

async function createFixtures(admin: AdminCall, projects: AuthzKeystone['projects']): Promise<AuthzFixtures> {
  const chassis: Obj = { uuid: randomUUID() };
  await createGlobal(admin, '/v1/chassis', { uuid: chassis.uuid, description: 'rack 1', extra: { row: 'a' } });
  const template: Obj = { uuid: randomUUID(), name: 'CUSTOM_DT_ONE' };
  await createGlobal(admin, '/v1/deploy_templates', {
    uuid: template.uuid,
    name: template.name,
    steps: [{ interface: 'bios', step: 'apply_configuration', args: { settings: [{ name: 'LogicalProc', value: 'Enabled' }] }, priority: 150 }],
    extra: { dt: 1 },
  });
  const [A, B] = await Promise.all([siteFixtures(admin, 'A', projects, chassis.uuid), siteFixtures(admin, 'B', projects, chassis.uuid)]);
  return { A, B, chassis, template };
}

async function makeVictim(
  admin: AdminCall,
  projects: AuthzKeystone['projects'],
  fx: AuthzFixtures,
  kind: VictimKind,
  s: SiteKey,
  n: number,
  traits: boolean,
): Promise<Victim> {
  const x = s.toLowerCase();
  const node = async (): Promise<Obj> => {
    const v = await createNode(admin, s, {
      name: `v${n}-${x}`,
      owner: projects.P1,
      lessee: projects.P2,
      driver_info: DRIVER_INFO,
      instance_info: INSTANCE_INFO,
      extra: { victim: n },
      description: 'victim',
    });
    if (traits) must(await admin(s, 'PUT', `/v1/nodes/${v.uuid}/traits`, { traits: ['CUSTOM_OLD'] }), 204, 'victim traits');
    return v;
  };
  switch (kind) {
    case 'node': {
      const v = await node();
      return { kind, site: s, uuid: v.uuid, name: v.name };
    }
    case 'port': {
      const parent = fx[s].nodeP1.uuid;
      const address = mac(s, 0x40 + (n >> 8), n & 0xff);
      const r = must(await admin(s, 'POST', '/v1/ports', { node_uuid: parent, address, extra: { victim: n } }), 201, 'victim port');
      return { kind, site: s, uuid: r.json.uuid, nodeUuid: parent, address };
    }
    case 'portgroup': {
      const parent = fx[s].nodeP1.uuid;
      const r = must(await admin(s, 'POST', '/v1/portgroups', { node_uuid: parent, name: `vpg${n}-${x}`, extra: { victim: n } }), 201, 'victim portgroup');
      return { kind, site: s, uuid: r.json.uuid, nodeUuid: parent, name: r.json.name };
    }
    case 'connector': {
      const parent = fx[s].nodeP1.uuid;
      const r = must(
        await admin(s, 'POST', '/v1/volume/connectors', { node_uuid: parent, type: 'iqn', connector_id: `iqn.2024-01.org.example:v${n}`, extra: { victim: n } }),
        201,
        'victim connector',
      );
      return { kind, site: s, uuid: r.json.uuid, nodeUuid: parent };
    }
    case 'target': {
      const parent = fx[s].nodeP1.uuid;
      const r = must(
        await admin(s, 'POST', '/v1/volume/targets', { node_uuid: parent, volume_type: 'iscsi', boot_index: 100 + n, volume_id: `vvol-${n}`, extra: { victim: n } }),
        201,
        'victim target',
      );
      return { kind, site: s, uuid: r.json.uuid, nodeUuid: parent };
    }
    case 'allocation': {
      // A failed allocation (no candidate node): an object owned by P1 that costs nothing.
      const r = must(
        await admin(s, 'POST', '/v1/allocations', { name: `valloc${n}-${x}`, owner: projects.P1, resource_class: 'rc-none', extra: { victim: n } }),
        201,
        'victim allocation',
      );
      await waitAllocation(admin, s, r.json.uuid, ['error']);
      return { kind, site: s, uuid: r.json.uuid, name: r.json.name };
    }
    case 'chassis': {
      const uuid = randomUUID();
      await createGlobal(admin, '/v1/chassis', { uuid, description: `victim ${n}`, extra: { victim: n } });
      return { kind, site: 'both', uuid };
    }
    case 'template': {
      const uuid = randomUUID();
      const name = `CUSTOM_VDT_${n}`;
      await createGlobal(admin, '/v1/deploy_templates', {
        uuid,
        name,
        steps: [{ interface: 'bios', step: 'apply_configuration', args: { settings: [] }, priority: 10 }],
        extra: { victim: n },
      });
      return { kind, site: 'both', uuid, name };
    }
  }
}

// ---------------------------------------------------------------------------
// Env file for interactive debugging.

function shq(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

function envText(w: AuthzWorld): string {
  const lines: string[] = [
    `# authz world "${w.label}" — source this file, then e.g.:`,
    `#   curl -s -H "X-Auth-Token: $TOKEN_P1_MEMBER" -H 'X-OpenStack-Ironic-API-Version: 1.82' $PROXY/v1/nodes`,
    `#   curl -s -H "X-Auth-Token: $TOKEN_P1_MEMBER" -H 'X-OpenStack-Ironic-API-Version: 1.82' $SITE_A/v1/nodes`,
    `export PROXY=${shq(w.proxyUrl)}`,
    `export SITE_A=${shq(w.siteUrl('A'))}`,
    `export SITE_B=${shq(w.siteUrl('B'))}`,
    `export KEYSTONE=${shq(w.kw.ks.url)}`,
    `export SITE_A_DIR=${shq(w.sites.site(SITE_NAMES.A).dir)}`,
    `export SITE_B_DIR=${shq(w.sites.site(SITE_NAMES.B).dir)}`,
  ];
  for (const [k, v] of Object.entries(w.projects)) lines.push(`export PROJECT_${k.toUpperCase()}=${shq(v)}`);
  for (const u of Object.values(w.users)) lines.push(`export TOKEN_${u.name.toUpperCase().replace(/-/g, '_')}=${shq(u.token)}   # ${u.about}`);
  const put = (prefix: string, o: object): void => {
    for (const [k, v] of Object.entries(o)) {
      if (v && typeof v === 'object' && 'uuid' in v) lines.push(`export ${prefix}_${k.toUpperCase()}=${shq((v as Obj).uuid)}`);
    }
  };
  put('A', w.fx.A);
  put('B', w.fx.B);
  lines.push(`export CHASSIS=${shq(w.fx.chassis.uuid)}`, `export TEMPLATE=${shq(w.fx.template.uuid)}`);
  lines.push('# proxy configuration:', ...w.proxyIni.split('\n').map((l) => `#   ${l}`));
  return lines.join('\n') + '\n';
}

/** Start Keystone and one world, for scripts (see AUTHZ_KEEP in the test). */
export async function startStandaloneAuthzWorld(o: AuthzWorldOptions = {}): Promise<AuthzWorld> {
  const kw = await startAuthzKeystone();
  try {
    const w = await startAuthzWorld(kw, o);
    const stop = w.stop;
    w.stop = async () => {
      await stop();
      await kw.stop();
    };
    return w;
  } catch (e) {
    await kw.stop();
    throw e;
  }
}
