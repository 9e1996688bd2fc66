/**
 * Test harness: start and stop REAL Ironic sites (Debian's python3-ironic,
 * 21.4 / API 1.1..1.82) on loopback, with fake hardware.
 *
 *   const lab = await startRealSites([
 *     { name: 'loc1', conductorGroups: ['', 'grp2'] },
 *     { name: 'loc2', conductorGroups: ['grp1'] },
 *   ]);
 *   try { ... lab.site('loc1').url ... } finally { await lab.stop(); }
 *
 * Layout of one site (each in its own temp dir, own SQLite DB, own ports):
 *
 * - One conductor group: ONE process, `ironic.cmd.singleprocess` with
 *   `rpc_transport = none` (API + conductor, as in lab-notes.md). Its
 *   conductor host name is the site name.
 * - N > 1 conductor groups: `rpc_transport = json-rpc`. Process 0 is
 *   `ironic.cmd.singleprocess` (API + the conductor of the first group), and
 *   one `ironic.cmd.conductor` process per further group, all sharing the
 *   site's SQLite file. ironic-lib's JSON-RPC client reaches a conductor at
 *   `http://<conductor host name>:<[json_rpc] port>`, one port for all, so
 *   every conductor gets its own loopback address (127.x.y.z, which Linux
 *   routes to `lo` without configuration) and that address is also its host
 *   name. SQLite shared by processes needs `BEGIN IMMEDIATE` (see
 *   ironic_launcher.py --sqlite-immediate), or concurrent requests fail with
 *   "database is locked".
 *
 * Every process runs in its own process group (detached), is killed when
 * the test process exits (an 'exit' handler, SIGINT/SIGTERM/SIGHUP
 * handlers, and prctl(PR_SET_PDEATHSIG) in the launcher for a SIGKILLed
 * test process), and logs to a file in the site's dir.
 *
 * Needs: scripts/install-system-deps.sh (python3-ironic & co), Linux.
 */
import { installExitHandlers, liveDirs, liveGroups } from './exit-cleanup.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A site to start. */
export interface RealSiteSpec {
  /** Site name; used for the temp dir and (one group) the conductor host name. */
  name: string;
  /**
   * Conductor groups served by this site; '' is the default group.
   * Default ['']. Must be lower case (Ironic lower-cases node groups).
   */
  conductorGroups?: string[];
  /** Extra Ironic configuration for this site only (see RealSitesOptions.extraConfig). */
  extraConfig?: IniConfig;
  /**
   * `[DEFAULT] pin_release_version`: the site then advertises (and enforces,
   * 406 above it) the API maximum of that release, e.g. '18.1' → 1.75,
   * '21.1' → 1.80, '15.0' → 1.65 (see ironic/common/release_mappings.py).
   * Lets a test run sites with different maximum versions.
   */
  pinReleaseVersion?: string;
}

/** INI text, or sections → options → values. */
export type IniConfig = string | Record<string, Record<string, string | number | boolean>>;

export interface RealSitesOptions {
  /** Parent of the per-site temp dirs. Default os.tmpdir(). */
  baseDir?: string;
  /** Deadline for all sites to become ready. Default 90 s. */
  startTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL in stop(). Default 5 s. */
  stopTimeoutMs?: number;
  /** Interpreter that can import ironic. Default /usr/bin/python3. */
  python?: string;
  /** Keep the site dirs (logs, DB) after stop(). Default: env IRONIC_KEEP_SITE_DIRS=1. */
  keepDirs?: boolean;
  /**
   * Extra Ironic configuration for every site, written to its own file that
   * is passed last (so it overrides), e.g. `{ api: { max_limit: 5 } }` or
   * a `[keystone_authtoken]` section.
   */
  extraConfig?: IniConfig;
  /** Ironic debug logging ([DEFAULT] debug = true). Default false. */
  debug?: boolean;
  /**
   * For sites behind Keystone (extraConfig from ironicKeystoneConfig() in
   * keystone.ts): a token sent as X-Auth-Token on the readiness check
   * (GET /v1/conductors needs an admin: system or project admin), e.g.
   * `() => ks.systemAdminToken()`. Without it that check gets 401.
   */
  readyToken?: () => string | Promise<string>;
}

export interface RealConductor {
  /** Conductor host name as Ironic reports it (node.conductor, /v1/conductors). */
  hostname: string;
  group: string;
  pid: number;
  logFile: string;
}

export interface RealSite {
  name: string;
  /** Base URL of the site's API, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  port: number;
  conductorGroups: string[];
  conductors: RealConductor[];
  /** The site's temp dir (config, DB, logs). */
  dir: string;
  /** PID (= process group id) of the API process. */
  pid: number;
  /** PIDs of all processes of the site, API process first. */
  pids: number[];
  /** Log file of the API process (further conductors log to conductors[i].logFile). */
  logFile: string;
  dbPath: string;
  /** API version range the site advertises at GET / (e.g. {min: '1.1', max: '1.82'}). */
  apiVersion: { min: string; max: string };
  /** 'none' (one group, one process) or 'json-rpc' (several groups). */
  rpcTransport: 'none' | 'json-rpc';
  /** Time from spawning the processes to ready, in ms. */
  startMs: number;
  /** Stops this site only (idempotent). */
  stop(): Promise<void>;
  /** Last lines of every log file of the site. */
  logTail(lines?: number): string;
}

export interface RealSites {
  sites: RealSite[];
  /** The site with this name (throws if unknown). */
  site(name: string): RealSite;
  /** Total wall time of startRealSites, in ms. */
  startMs: number;
  /** Stops all sites (idempotent): SIGTERM, SIGKILL after a bound, removes dirs. */
  stop(): Promise<void>;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const IRONIC_LAUNCHER = path.join(HERE, 'ironic_launcher.py');
export const DEFAULT_PYTHON = '/usr/bin/python3';

const GROUP_RE = /^[a-z0-9_.-]{0,255}$/;

// ---------------------------------------------------------------------------
// A started process (its group is registered in exit-cleanup.ts while it runs).

interface Proc {
  child: ChildProcess;
  pid: number;
  exited: Promise<void>;
  done: boolean;
}


// ---------------------------------------------------------------------------
// Small helpers.

const usedPorts = new Set<number>();
const usedAddrs = new Set<string>();

/** A TCP port that nothing listens on, on any address (bound on the wildcard). */
export async function getFreePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen({ port: 0, host: '0.0.0.0', exclusive: true }, () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (port && !usedPorts.has(port)) {
      usedPorts.add(port);
      return port;
    }
  }
  throw new Error('could not find a free TCP port');
}

/** A fresh loopback address 127.a.b.c (not 127.0.0.1), unique in this process. */
function newLoopbackAddress(): string {
  for (;;) {
    const a = `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(2, 255)}`;
    if (!usedAddrs.has(a)) {
      usedAddrs.add(a);
      return a;
    }
  }
}

/**
 * Number of LISTEN sockets on this TCP port (any address), from /proc/net.
 * Ironic (eventlet) listens with SO_REUSEPORT: a second Ironic on the same
 * port starts without error and silently shares the traffic.
 */
function listenersOnPort(port: number): number {
  let n = 0;
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4) continue;
      const local = cols[1] ?? '';
      const state = cols[3];
      const hexPort = local.slice(local.lastIndexOf(':') + 1);
      if (state === '0A' && parseInt(hexPort, 16) === port) n++;
    }
  }
  return n;
}

function renderIni(cfg: IniConfig | undefined): string {
  if (cfg === undefined) return '';
  if (typeof cfg === 'string') return cfg.endsWith('\n') ? cfg : cfg + '\n';
  let out = '';
  for (const [section, opts] of Object.entries(cfg)) {
    out += `[${section}]\n`;
    for (const [k, v] of Object.entries(opts)) out += `${k} = ${String(v)}\n`;
  }
  return out;
}

function tail(file: string, lines: number): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n');
  } catch (e) {
    return `(cannot read ${file}: ${(e as Error).message})`;
  }
}

interface HttpResult {
  status: number;
  body: string;
}

/** One GET without keep-alive (so no socket outlives the call). */
function httpGet(url: string, headers: Record<string, string>, timeoutMs: number): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { ...headers, Connection: 'close' }, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits for p, at most ms; true if it timed out. The timer is cleared either way. */
async function timedOut(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(true), Math.max(ms, 0));
  });
  try {
    return await Promise.race([p.then(() => false), t]);
  } finally {
    clearTimeout(timer);
  }
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, IRONIC_LAUNCHER_PARENT_PID: String(process.pid) };
  // Another interpreter's settings must not leak into /usr/bin/python3.
  delete env.PYTHONPATH;
  delete env.PYTHONHOME;
  delete env.VIRTUAL_ENV;
  return env;
}

function spawnLauncher(
  python: string,
  mode: 'dbsync' | 'singleprocess' | 'conductor',
  launcherOpts: string[],
  ironicArgs: string[],
  cwd: string,
  logFile: string,
): Proc {
  const fd = fs.openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(python, [IRONIC_LAUNCHER, mode, '--die-with-parent', ...launcherOpts, '--', ...ironicArgs], {
      cwd,
      detached: true, // own process group: pgid = pid
      stdio: ['ignore', fd, fd],
      env: childEnv(),
    });
  } finally {
    fs.closeSync(fd);
  }
  if (child.pid === undefined) {
    throw new Error(`cannot spawn ${python} (is python3-ironic installed? run scripts/install-system-deps.sh)`);
  }
  const proc: Proc = {
    child,
    pid: child.pid,
    done: false,
    exited: new Promise<void>((resolve) => {
      child.once('exit', () => {
        proc.done = true;
        liveGroups.delete(proc.pid);
        resolve();
      });
      child.once('error', () => {
        proc.done = true;
        liveGroups.delete(proc.pid);
        resolve();
      });
    }),
  };
  child.unref();
  liveGroups.add(proc.pid);
  return proc;
}

async function stopProcs(procs: Proc[], timeoutMs: number): Promise<void> {
  const signal = (p: Proc, sig: NodeJS.Signals): void => {
    if (p.done) return;
    try {
      process.kill(-p.pid, sig);
    } catch {
      /* gone */
    }
  };
  procs.forEach((p) => signal(p, 'SIGTERM'));
  const all = Promise.all(procs.map((p) => p.exited));
  if (await timedOut(all, timeoutMs)) {
    procs.forEach((p) => signal(p, 'SIGKILL'));
    await timedOut(all, 5000);
  }
  // Leftovers of the groups (if any child forked) go too.
  for (const p of procs) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    liveGroups.delete(p.pid);
  }
}

const OWNER_FILE = 'harness-owner.pid';

function markOwned(dir: string): void {
  fs.writeFileSync(path.join(dir, OWNER_FILE), `${process.pid}\n`);
}

/** Removes dirs left by a test process that was SIGKILLed (its exit handler never ran). */
function removeStaleDirs(baseDir: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(baseDir);
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.startsWith('ironic-site-') && !e.startsWith('ironic-schema-')) continue;
    const dir = path.join(baseDir, e);
    let owner: number;
    try {
      owner = Number(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8').trim());
    } catch {
      continue;
    }
    if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid) continue;
    try {
      process.kill(owner, 0);
      continue; // owner alive
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// Schema: created once per test process, copied into each site.

let schemaTemplate: Promise<string> | undefined;

async function createSchemaTemplate(python: string, baseDir: string, deadline: number): Promise<string> {
  const dir = fs.mkdtempSync(path.join(baseDir, 'ironic-schema-'));
  liveDirs.add(dir);
  markOwned(dir);
  const db = path.join(dir, 'ironic.db');
  const conf = path.join(dir, 'dbsync.conf');
  fs.writeFileSync(conf, `[DEFAULT]\nuse_stderr = true\n[database]\nconnection = sqlite:///${db}\n`);
  const log = path.join(dir, 'dbsync.log');
  const proc = spawnLauncher(python, 'dbsync', [], ['--config-file', conf, 'create_schema'], dir, log);
  if (await timedOut(proc.exited, deadline - Date.now())) {
    await stopProcs([proc], 1000);
    throw new Error(`ironic-dbsync create_schema did not finish in time:\n${tail(log, 40)}`);
  }
  if (proc.child.exitCode !== 0 || !fs.existsSync(db)) {
    throw new Error(`ironic-dbsync create_schema failed (exit ${proc.child.exitCode}):\n${tail(log, 40)}`);
  }
  return db;
}

function getSchemaTemplate(python: string, baseDir: string, deadline: number): Promise<string> {
  if (!schemaTemplate) {
    schemaTemplate = createSchemaTemplate(python, baseDir, deadline);
    schemaTemplate.catch(() => {
      schemaTemplate = undefined;
    });
  }
  return schemaTemplate;
}

// ---------------------------------------------------------------------------
// Configuration.

const BASE_CONFIG = `[DEFAULT]
auth_strategy = noauth
enabled_hardware_types = fake-hardware
enabled_power_interfaces = fake
enabled_management_interfaces = fake
enabled_deploy_interfaces = fake
enabled_boot_interfaces = fake
enabled_inspect_interfaces = fake,no-inspect
enabled_bios_interfaces = fake,no-bios
enabled_raid_interfaces = fake,no-raid
enabled_vendor_interfaces = fake,no-vendor
enabled_console_interfaces = fake,no-console
enabled_rescue_interfaces = fake,no-rescue
enabled_network_interfaces = noop
enabled_storage_interfaces = noop
default_network_interface = noop
use_stderr = true
`;

interface ConductorPlan {
  group: string;
  hostname: string;
  confFile: string;
  logFile: string;
}

interface SitePlan {
  spec: RealSiteSpec;
  groups: string[];
  dir: string;
  port: number;
  dbPath: string;
  commonConf: string;
  extraConf: string;
  rpcTransport: 'none' | 'json-rpc';
  conductors: ConductorPlan[];
}

async function planSite(spec: RealSiteSpec, opts: RealSitesOptions, baseDir: string): Promise<SitePlan> {
  const groups = spec.conductorGroups && spec.conductorGroups.length > 0 ? [...spec.conductorGroups] : [''];
  for (const g of groups) {
    if (!GROUP_RE.test(g)) {
      throw new Error(`site ${spec.name}: invalid conductor group ${JSON.stringify(g)} (lower case [a-z0-9_.-] only)`);
    }
  }
  if (new Set(groups).size !== groups.length) throw new Error(`site ${spec.name}: duplicate conductor groups`);
  const safeName = spec.name.replace(/[^A-Za-z0-9_.-]/g, '_');
  const dir = fs.mkdtempSync(path.join(baseDir, `ironic-site-${safeName}-`));
  liveDirs.add(dir);
  markOwned(dir);
  fs.mkdirSync(path.join(dir, 'locks'));
  const port = await getFreePort();
  const dbPath = path.join(dir, 'ironic.db');
  const rpcTransport = groups.length > 1 ? 'json-rpc' : 'none';
  const rpcPort = rpcTransport === 'json-rpc' ? await getFreePort() : 0;

  let common = BASE_CONFIG;
  common += `rpc_transport = ${rpcTransport}\n`;
  if (opts.debug) common += 'debug = true\n';
  if (spec.pinReleaseVersion) common += `pin_release_version = ${spec.pinReleaseVersion}\n`;
  common += '[dhcp]\ndhcp_provider = none\n';
  common += `[api]\nhost_ip = 127.0.0.1\nport = ${port}\n`;
  common += `[database]\nconnection = sqlite:///${dbPath}\nsqlite_synchronous = false\n`;
  common += `[oslo_concurrency]\nlock_path = ${path.join(dir, 'locks')}\n`;
  if (rpcTransport === 'json-rpc') common += `[json_rpc]\nauth_strategy = noauth\nport = ${rpcPort}\n`;
  const commonConf = path.join(dir, 'ironic.conf');
  fs.writeFileSync(commonConf, common);

  const extraConf = path.join(dir, 'extra.conf');
  fs.writeFileSync(extraConf, renderIni(opts.extraConfig) + renderIni(spec.extraConfig));

  const conductors: ConductorPlan[] = groups.map((group, i) => {
    const hostname = rpcTransport === 'json-rpc' ? newLoopbackAddress() : spec.name;
    let conf = `[DEFAULT]\nhost = ${hostname}\n[conductor]\nconductor_group = ${group}\n`;
    if (rpcTransport === 'json-rpc') conf += `[json_rpc]\nhost_ip = ${hostname}\n`;
    const confFile = path.join(dir, i === 0 ? 'conductor-0.conf' : `conductor-${i}.conf`);
    fs.writeFileSync(confFile, conf);
    const logFile = path.join(dir, i === 0 ? 'ironic.log' : `conductor-${i}.log`);
    return { group, hostname, confFile, logFile };
  });

  return { spec, groups, dir, port, dbPath, commonConf, extraConf, rpcTransport, conductors };
}

function siteLogTail(plan: SitePlan, lines: number): string {
  return plan.conductors
    .map((c) => `--- ${c.logFile} (group ${JSON.stringify(c.group)}) ---\n${tail(c.logFile, lines)}`)
    .join('\n');
}

interface ApiRange {
  min: string;
  max: string;
}

async function waitReady(
  plan: SitePlan,
  procs: Proc[],
  deadline: number,
  readyToken?: () => string | Promise<string>,
): Promise<ApiRange> {
  const url = `http://127.0.0.1:${plan.port}`;
  const expected = new Map(plan.conductors.map((c) => [c.hostname, c.group]));
  let lastProblem = 'not started';
  while (Date.now() < deadline) {
    const dead = procs.find((p) => p.done);
    if (dead) {
      throw new Error(`process ${dead.pid} exited with ${dead.child.exitCode ?? dead.child.signalCode} during start-up`);
    }
    try {
      const root = await httpGet(`${url}/`, {}, 2000);
      if (root.status !== 200) {
        lastProblem = `GET / answered ${root.status}`;
      } else {
        const versions = (JSON.parse(root.body) as { default_version?: { version?: string; min_version?: string } })
          .default_version;
        const range: ApiRange = { min: versions?.min_version ?? '', max: versions?.version ?? '' };
        const headers: Record<string, string> = { 'X-OpenStack-Ironic-API-Version': '1.49' };
        if (readyToken) headers['X-Auth-Token'] = await readyToken();
        const res = await httpGet(`${url}/v1/conductors?fields=hostname,conductor_group,alive`, headers, 2000);
        if (res.status !== 200) {
          lastProblem = `GET /v1/conductors answered ${res.status}: ${res.body.slice(0, 300)}`;
        } else {
          const body = JSON.parse(res.body) as { conductors: Array<{ hostname: string; conductor_group: string; alive: boolean }> };
          const missing = [...expected].filter(
            ([h, g]) => !body.conductors.some((c) => c.hostname === h && c.conductor_group === g && c.alive),
          );
          if (missing.length === 0) return range;
          lastProblem = `conductors not registered yet: ${missing.map(([h, g]) => `${h} (group ${JSON.stringify(g)})`).join(', ')}`;
        }
      }
    } catch (e) {
      lastProblem = (e as Error).message;
    }
    await delay(100);
  }
  throw new Error(`not ready before the deadline (${lastProblem})`);
}

async function startSite(plan: SitePlan, opts: RealSitesOptions, template: string, deadline: number): Promise<RealSite> {
  const python = opts.python ?? DEFAULT_PYTHON;
  fs.copyFileSync(template, plan.dbPath);
  const multi = plan.rpcTransport === 'json-rpc';
  const launcherOpts = multi ? ['--sqlite-immediate'] : [];
  const t0 = Date.now();
  const procs: Proc[] = [];
  let apiVersion: ApiRange;
  try {
    plan.conductors.forEach((c, i) => {
      const args = ['--config-file', plan.commonConf, '--config-file', c.confFile, '--config-file', plan.extraConf];
      procs.push(spawnLauncher(python, i === 0 ? 'singleprocess' : 'conductor', launcherOpts, args, plan.dir, c.logFile));
    });
    apiVersion = await waitReady(plan, procs, deadline, opts.readyToken);
    const listeners = listenersOnPort(plan.port);
    if (listeners !== 1) {
      throw new Error(
        `${listeners} sockets listen on port ${plan.port}: another process shares it (Ironic uses SO_REUSEPORT)`,
      );
    }
  } catch (e) {
    await stopProcs(procs, 1000);
    throw new Error(`Ironic site ${plan.spec.name} failed to start: ${(e as Error).message}\n${siteLogTail(plan, 40)}`);
  }
  const startMs = Date.now() - t0;
  let stopped: Promise<void> | undefined;
  const site: RealSite = {
    name: plan.spec.name,
    url: `http://127.0.0.1:${plan.port}`,
    port: plan.port,
    conductorGroups: plan.groups,
    conductors: plan.conductors.map((c, i) => ({
      hostname: c.hostname,
      group: c.group,
      pid: procs[i]!.pid,
      logFile: c.logFile,
    })),
    dir: plan.dir,
    pid: procs[0]!.pid,
    pids: procs.map((p) => p.pid),
    logFile: plan.conductors[0]!.logFile,
    dbPath: plan.dbPath,
    rpcTransport: plan.rpcTransport,
    apiVersion,
    startMs,
    logTail: (lines = 40) => siteLogTail(plan, lines),
    stop: () => {
      stopped ??= (async () => {
        await stopProcs(procs, opts.stopTimeoutMs ?? 5000);
        const keep = opts.keepDirs ?? process.env.IRONIC_KEEP_SITE_DIRS === '1';
        if (!keep) fs.rmSync(plan.dir, { recursive: true, force: true });
        liveDirs.delete(plan.dir);
      })();
      return stopped;
    },
  };
  return site;
}

/**
 * Start real Ironic sites in parallel and wait until each answers `GET /`
 * and lists all its conductors as alive. On failure every site started by
 * this call is stopped and the error carries the tail of the failing
 * site's logs.
 */
/**
 * Starts the sites; when one could not bind its port because another
 * process took it between getFreePort() and Ironic's bind (ports are chosen
 * free, then bound by another process: test files run in parallel), all are
 * started again on new ports, up to three times.
 */
export async function startRealSites(specs: RealSiteSpec[], opts: RealSitesOptions = {}): Promise<RealSites> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRealSitesOnce(specs, opts);
    } catch (e) {
      if (attempt >= 3 || !/Address already in use/.test(String((e as Error).message))) throw e;
    }
  }
}

async function startRealSitesOnce(specs: RealSiteSpec[], opts: RealSitesOptions): Promise<RealSites> {
  const t0 = Date.now();
  const names = specs.map((s) => s.name);
  if (new Set(names).size !== names.length) throw new Error(`duplicate site names: ${names.join(', ')}`);
  installExitHandlers();
  const python = opts.python ?? DEFAULT_PYTHON;
  if (!fs.existsSync(python)) {
    throw new Error(`${python} not found: run scripts/install-system-deps.sh`);
  }
  const baseDir = opts.baseDir ?? os.tmpdir();
  removeStaleDirs(baseDir);
  const deadline = t0 + (opts.startTimeoutMs ?? 90_000);

  const plans: SitePlan[] = [];
  const started: RealSite[] = [];
  try {
    for (const spec of specs) plans.push(await planSite(spec, opts, baseDir));
    const template = await getSchemaTemplate(python, baseDir, deadline);
    const results = await Promise.allSettled(plans.map((p) => startSite(p, opts, template, deadline)));
    const errors: string[] = [];
    for (const r of results) {
      if (r.status === 'fulfilled') started.push(r.value);
      else errors.push(String((r.reason as Error).message ?? r.reason));
    }
    if (errors.length > 0) throw new Error(errors.join('\n\n'));
  } catch (e) {
    await Promise.all(started.map((s) => s.stop()));
    for (const p of plans) {
      if (!started.some((s) => s.dir === p.dir)) {
        fs.rmSync(p.dir, { recursive: true, force: true });
        liveDirs.delete(p.dir);
      }
    }
    throw e;
  }

  let stopping: Promise<void> | undefined;
  return {
    sites: started,
    startMs: Date.now() - t0,
    site(name: string): RealSite {
      const s = started.find((x) => x.name === name);
      if (!s) throw new Error(`no site named ${name}`);
      return s;
    },
    stop(): Promise<void> {
      stopping ??= Promise.all(started.map((s) => s.stop())).then(() => undefined);
      return stopping;
    },
  };
}
