/**
 * Test harness: a REAL Keystone (Debian's python3-keystone 22, sqlite,
 * fernet tokens) on a free loopback port, plus REST helpers to fill it.
 *
 *   const ks = await startKeystone();
 *   try {
 *     const p = await ks.createProject('p1');
 *     await ks.createUser('alice', 'pw', { projectId: p.id, roles: ['member'] });
 *     const tok = await ks.issueToken({ username: 'alice', password: 'pw', projectName: 'p1' });
 *     const v = await ks.validate(tok);            // as keystonemiddleware does
 *   } finally { await ks.stop(); }
 *
 * Start-up: keystone_app.py `setup` (db_sync, WAL, fernet_setup,
 * credential_setup, bootstrap; Keystone imported once, each step forked:
 * about 2 s) then `serve` (gunicorn gthread, 1 worker, 1 thread, keep-alive
 * 10 s, [cache] dogpile.cache.memory: about 2 s until GET /v3 answers).
 * The handle's `timings` has the measured values.
 *
 * The gunicorn master runs in its own process group (detached) and gets
 * SIGTERM from the kernel if the test process dies (PR_SET_PDEATHSIG);
 * stop() and the process 'exit' / SIGINT / SIGTERM / SIGHUP handlers kill
 * the group and remove the temp dir.
 *
 * Needs: scripts/install-system-deps.sh (python3-keystone, python3-gunicorn).
 */
import { installExitHandlers, liveDirs, liveGroups } from './exit-cleanup.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------
// Public types.

export interface KeystoneOptions {
  /** Parent of the temp dir. Default os.tmpdir(). */
  baseDir?: string;
  /** Interpreter that can import keystone and gunicorn. Default /usr/bin/python3. */
  python?: string;
  /** Password of the bootstrap admin user. Default: random. */
  adminPassword?: string;
  /** Region of the identity endpoint created by bootstrap. Default 'RegionOne'. */
  region?: string;
  /** `[token] expiration` of the server, in seconds. Default 3600. */
  tokenExpiration?: number;
  /** Deadline for setup + serve. Default 60 s. */
  startTimeoutMs?: number;
  /** How long stop()/stopServing() wait for the killed server to release its port. Default 3 s. */
  stopTimeoutMs?: number;
  /** Keep the temp dir after stop(). Default: env KEYSTONE_KEEP_DIR=1. */
  keepDir?: boolean;
  /** [DEFAULT] debug = true and gunicorn's access log. Default false. */
  debug?: boolean;
  /**
   * bcrypt with 4 rounds instead of 12 (password auth ~10 ms instead of
   * ~250 ms). Default true; it changes nothing an API client can see.
   */
  fastPasswordHash?: boolean;
  /** Extra keystone.conf text, appended to the generated file. */
  extraConfig?: string;
}

export interface KeystoneTimings {
  /** keystone_app.py setup: db_sync, WAL, key repositories, bootstrap. */
  setupMs: number;
  /** Spawning gunicorn until GET /v3 answers 200. */
  serveMs: number;
  /** Whole startKeystone() call. */
  totalMs: number;
}

export interface Credentials {
  username: string;
  password: string;
  /** Domain of the user. Default 'default'. */
  userDomainId?: string;
  /** Project scope by name (in projectDomainId, default 'default'). */
  projectName?: string;
  /** Project scope by id. */
  projectId?: string;
  projectDomainId?: string;
  /** System scope (`{"system": {"all": true}}`). */
  system?: boolean;
  /** Domain scope by id. */
  domainId?: string;
}

export interface CatalogEndpoint {
  id: string;
  interface: string;
  region: string | null;
  region_id: string | null;
  url: string;
}

export interface CatalogEntry {
  id: string;
  type: string;
  name: string;
  endpoints: CatalogEndpoint[];
}

export interface RoleRef {
  id: string;
  name: string;
}

/** The `token` object Keystone returns on POST and GET /v3/auth/tokens. */
export interface KeystoneToken {
  methods: string[];
  user: { id: string; name: string; domain: { id: string; name: string }; password_expires_at: string | null };
  audit_ids: string[];
  expires_at: string;
  issued_at: string;
  project?: { id: string; name: string; domain: { id: string; name: string } };
  domain?: { id: string; name: string };
  system?: { all: boolean };
  is_domain?: boolean;
  roles?: RoleRef[];
  catalog?: CatalogEntry[];
}

export interface TokenInfo {
  token: string;
  body: KeystoneToken;
  expiresAt: Date;
}

export interface KsResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json: unknown;
}

export interface RequestOptions {
  /** X-Auth-Token. Default: the cached project-scoped admin token; null for none. */
  token?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
  /** Throw unless the status is one of these. */
  expect?: number | number[];
}

export interface ValidateOptions {
  /** X-Auth-Token of the validating service. Default: the admin token. */
  serviceToken?: string;
  /** Ask for the catalog too. Default false (`?nocatalog`, as keystonemiddleware does unless include_service_catalog). */
  catalog?: boolean;
  /** `?allow_expired=1`. */
  allowExpired?: boolean;
}

export interface ValidateResult {
  status: number;
  headers: Headers;
  /** The token on 200, otherwise undefined. */
  token?: KeystoneToken;
  /** Raw JSON body (error bodies too). */
  json: unknown;
}

export interface CreateUserOptions {
  /** Project to grant `roles` on. */
  projectId?: string;
  /** Role names granted on `projectId` (created if missing). */
  roles?: string[];
  /** Role names granted on the system (`all`). */
  systemRoles?: string[];
  /** Default 'default'. */
  domainId?: string;
  /** Default project of the user (no role implied). */
  defaultProjectId?: string;
  enabled?: boolean;
}

export interface KeystoneHandle {
  /** Identity API v3 URL, e.g. http://127.0.0.1:41234/v3 (the auth_url). */
  url: string;
  /** Without /v3. */
  baseUrl: string;
  port: number;
  /** Temp dir: keystone.conf, keystone.db, fernet-keys, credential-keys, keystone.log. */
  dir: string;
  logFile: string;
  /** PID (= process group id) of the gunicorn master; 0 while not serving. */
  readonly pid: number;
  region: string;
  adminUser: string;
  adminPassword: string;
  adminProject: string;
  /** 'default'. */
  defaultDomainId: string;
  timings: KeystoneTimings;

  /** Any Keystone API call; `p` is relative to /v3 ('/projects') or a full URL. */
  request(method: string, p: string, opts?: RequestOptions): Promise<KsResponse>;

  /** Project-scoped (admin project) admin token, cached and renewed before it expires. */
  adminToken(): Promise<string>;
  /** System-scoped admin token (bootstrap grants admin on the system to the admin user). */
  systemAdminToken(): Promise<string>;

  /**
   * POST /v3/auth/tokens with a password; the token (X-Subject-Token) and
   * its body (without the catalog unless `catalog: true`).
   */
  authenticate(creds: Credentials, opts?: { catalog?: boolean }): Promise<TokenInfo>;
  /** POST /v3/auth/tokens with a password; the token string. */
  issueToken(creds: Credentials): Promise<string>;
  /**
   * A token that expires `seconds` after issue (whole seconds: Keystone
   * truncates issued_at to the second), from the Keystone app loaded
   * in-process in Python with `[token] expiration = seconds` over this
   * Keystone's database and fernet keys. Takes about 2 s (Python start).
   */
  issueShortLivedToken(creds: Credentials, seconds: number): Promise<string>;
  authenticateShortLived(creds: Credentials, seconds: number): Promise<TokenInfo>;
  /** GET /v3/auth/tokens with X-Auth-Token (service) + X-Subject-Token (user), as keystonemiddleware does. */
  validate(token: string, opts?: ValidateOptions): Promise<ValidateResult>;
  /** DELETE /v3/auth/tokens (as admin unless serviceToken is given). */
  revokeToken(token: string, opts?: { serviceToken?: string }): Promise<void>;

  /** The role's id, creating the role if it does not exist. */
  ensureRole(name: string): Promise<string>;
  createProject(name: string, opts?: { domainId?: string; description?: string }): Promise<{ id: string; name: string }>;
  /** The project with this name (in domain 'default' unless given), created if missing. */
  ensureProject(name: string, opts?: { domainId?: string }): Promise<{ id: string; name: string }>;
  createUser(name: string, password: string, opts?: CreateUserOptions): Promise<{ id: string; name: string }>;
  assignProjectRole(userId: string, projectId: string, role: string): Promise<void>;
  /** PUT /v3/system/users/{id}/roles/{role_id}. */
  assignSystemRole(userId: string, role: string): Promise<void>;
  ensureRegion(id: string): Promise<void>;
  /** POST /v3/services; returns the service id. */
  createService(type: string, name?: string): Promise<string>;
  /** POST /v3/endpoints (the region is created if missing); returns the endpoint id. */
  createEndpoint(
    serviceId: string,
    ep: { interface: 'public' | 'internal' | 'admin'; url: string; region: string },
  ): Promise<string>;
  deleteEndpoint(endpointId: string): Promise<void>;

  /** Resident memory of the gunicorn master and its worker, in KiB. */
  rssKb(): { master: number; worker: number; total: number };
  /** Last lines of keystone.log. */
  logTail(lines?: number): string;

  /** Stop serving (kill the process group) but keep the data: Keystone is "down". */
  stopServing(): Promise<void>;
  /**
   * Serve again on the same port and data (about 2 s). `tokenExpiration`
   * changes `[token] expiration` of the server from now on.
   */
  restart(opts?: { tokenExpiration?: number }): Promise<void>;
  /** Stop and remove the temp dir (idempotent). */
  stop(): Promise<void>;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const KEYSTONE_APP = path.join(HERE, 'keystone_app.py');
export const DEFAULT_PYTHON = '/usr/bin/python3';

// ---------------------------------------------------------------------------
// Helpers that do not need a running Keystone.

/**
 * keystoneauth's endpoint selection over a token's catalog: the first
 * endpoint of the first service of `serviceType` with this interface and,
 * if given, region. Without a region the first match wins, whatever its
 * region (as keystoneauth does: silently).
 */
export function catalogLookup(
  catalog: CatalogEntry[],
  q: { serviceType: string; interface?: string; region?: string },
): string | undefined {
  const iface = q.interface ?? 'public';
  for (const svc of catalog) {
    if (svc.type !== q.serviceType) continue;
    for (const ep of svc.endpoints) {
      if (ep.interface !== iface) continue;
      if (q.region !== undefined && ep.region_id !== q.region && ep.region !== q.region) continue;
      return ep.url;
    }
  }
  return undefined;
}

export interface IronicServiceUser {
  serviceUser: string;
  servicePassword: string;
  userId: string;
  /** Project 'service'. */
  projectId: string;
  projectName: string;
}

/**
 * The service user an Ironic site (keystonemiddleware) authenticates with:
 * `username` with the admin role in project `service` (created if missing).
 * Defaults: username 'ironic', random password.
 */
export async function createIronicServiceUser(
  ks: KeystoneHandle,
  opts: { username?: string; password?: string; projectName?: string; roles?: string[] } = {},
): Promise<IronicServiceUser> {
  const projectName = opts.projectName ?? 'service';
  const project = await ks.ensureProject(projectName);
  const serviceUser = opts.username ?? 'ironic';
  const servicePassword = opts.password ?? randomSecret();
  const user = await ks.createUser(serviceUser, servicePassword, {
    projectId: project.id,
    roles: opts.roles ?? ['admin'],
  });
  return { serviceUser, servicePassword, userId: user.id, projectId: project.id, projectName };
}

/**
 * Extra Ironic configuration (INI text) that puts an Ironic 21.4 site
 * behind this Keystone: `[DEFAULT] auth_strategy = keystone` and the
 * `[keystone_authtoken]` section keystonemiddleware 10.1 reads. Append it
 * after the site's own config (e.g. RealSitesOptions.extraConfig).
 *
 * `interface = public` matters: keystonemiddleware looks for the identity
 * endpoint on the 'internal' interface by default, and bootstrap creates
 * only a public one.
 */
export function ironicKeystoneConfig(
  ks: Pick<KeystoneHandle, 'url' | 'region'>,
  opts: {
    serviceUser: string;
    servicePassword: string;
    projectName?: string;
    /** Default 'default' (ids, so no name lookup is needed). */
    userDomainId?: string;
    projectDomainId?: string;
    region?: string;
    /** Seconds keystonemiddleware caches a validation. Default 300 (its own default). */
    tokenCacheTime?: number;
  },
): string {
  const lines = [
    '[DEFAULT]',
    'auth_strategy = keystone',
    '[keystone_authtoken]',
    'auth_type = password',
    `auth_url = ${ks.url}`,
    `www_authenticate_uri = ${ks.url}`,
    `username = ${opts.serviceUser}`,
    `password = ${opts.servicePassword}`,
    `user_domain_id = ${opts.userDomainId ?? 'default'}`,
    `project_name = ${opts.projectName ?? 'service'}`,
    `project_domain_id = ${opts.projectDomainId ?? 'default'}`,
    `region_name = ${opts.region ?? ks.region}`,
    'interface = public',
    'http_connect_timeout = 5',
  ];
  if (opts.tokenCacheTime !== undefined) lines.push(`token_cache_time = ${opts.tokenCacheTime}`);
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------
// Process and dir registry, for the exit handlers.

// ---------------------------------------------------------------------------
// Small helpers.

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function randomSecret(): string {
  return randomBytes(18).toString('base64url');
}

async function getFreePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const addr = srv.address();
      const p = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(p));
    });
  });
}

function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch (e) {
    return `(cannot read ${file}: ${(e as Error).message})`;
  }
}

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, KEYSTONE_APP_PARENT_PID: String(process.pid), ...extra };
  // Another interpreter's settings must not leak into /usr/bin/python3.
  delete env.PYTHONPATH;
  delete env.PYTHONHOME;
  delete env.VIRTUAL_ENV;
  // keystone.server.flask.core reads these when no config file is given.
  delete env.OS_KEYSTONE_CONFIG_DIR;
  delete env.OS_KEYSTONE_CONFIG_FILES;
  return env;
}

function readRssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function childPids(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run keystone_app.py to completion (own process group, killed at the deadline). */
function runPython(
  python: string,
  args: string[],
  opts: { cwd: string; env?: Record<string, string>; stdin?: string; timeoutMs: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [KEYSTONE_APP, ...args, '--die-with-parent'], {
      cwd: opts.cwd,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: childEnv(opts.env),
    });
    if (child.pid === undefined) {
      reject(new Error(`cannot spawn ${python}`));
      return;
    }
    const pgid = child.pid;
    liveGroups.add(pgid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, Math.max(opts.timeoutMs, 1));
    child.once('error', (e) => {
      clearTimeout(timer);
      liveGroups.delete(pgid);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      liveGroups.delete(pgid);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin!.end(opts.stdin ?? '');
  });
}

function authBody(c: Credentials): unknown {
  const identity = {
    methods: ['password'],
    password: { user: { name: c.username, domain: { id: c.userDomainId ?? 'default' }, password: c.password } },
  };
  let scope: unknown;
  if (c.system) scope = { system: { all: true } };
  else if (c.projectId) scope = { project: { id: c.projectId } };
  else if (c.projectName) scope = { project: { name: c.projectName, domain: { id: c.projectDomainId ?? 'default' } } };
  else if (c.domainId) scope = { domain: { id: c.domainId } };
  return { auth: scope === undefined ? { identity } : { identity, scope } };
}

function describe(creds: Credentials): string {
  const scope = creds.system
    ? 'system'
    : creds.projectName ?? creds.projectId ?? (creds.domainId ? `domain ${creds.domainId}` : 'unscoped');
  return `${creds.username} (${scope})`;
}

function isConnectionError(e: unknown): boolean {
  const cause = (e as { cause?: { code?: string } }).cause;
  const code = cause?.code ?? '';
  return (
    e instanceof TypeError &&
    (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'ECONNREFUSED' || code === 'EPIPE')
  );
}

// ---------------------------------------------------------------------------
// startKeystone.

function keystoneConf(dir: string, opts: KeystoneOptions, expiration: number): string {
  let conf = `[DEFAULT]
use_stderr = true
debug = ${opts.debug ? 'true' : 'false'}
[database]
connection = sqlite:///${path.join(dir, 'keystone.db')}
sqlite_synchronous = false
[fernet_tokens]
key_repository = ${path.join(dir, 'fernet-keys')}
[fernet_receipts]
key_repository = ${path.join(dir, 'fernet-keys')}
[credential]
key_repository = ${path.join(dir, 'credential-keys')}
[cache]
enabled = true
backend = dogpile.cache.memory
[token]
provider = fernet
expiration = ${expiration}
`;
  if (opts.fastPasswordHash ?? true) conf += '[identity]\npassword_hash_algorithm = bcrypt\npassword_hash_rounds = 4\n';
  if (opts.extraConfig) conf += opts.extraConfig.endsWith('\n') ? opts.extraConfig : opts.extraConfig + '\n';
  return conf;
}

interface Server {
  child: ChildProcess;
  pid: number;
  done: boolean;
  exited: Promise<void>;
}

export async function startKeystone(opts: KeystoneOptions = {}): Promise<KeystoneHandle> {
  const t0 = Date.now();
  const python = opts.python ?? DEFAULT_PYTHON;
  if (!fs.existsSync(python)) throw new Error(`${python} not found: run scripts/install-system-deps.sh`);
  installExitHandlers();
  const deadline = t0 + (opts.startTimeoutMs ?? 60_000);
  const region = opts.region ?? 'RegionOne';
  const adminPassword = opts.adminPassword ?? randomSecret();
  const keepDir = opts.keepDir ?? process.env.KEYSTONE_KEEP_DIR === '1';
  const dir = fs.mkdtempSync(path.join(opts.baseDir ?? os.tmpdir(), 'keystone-'));
  if (!keepDir) liveDirs.add(dir);
  const confFile = path.join(dir, 'keystone.conf');
  const overrideFile = path.join(dir, 'override.conf');
  const logFile = path.join(dir, 'keystone.log');
  fs.mkdirSync(path.join(dir, 'fernet-keys'));
  fs.mkdirSync(path.join(dir, 'credential-keys'));
  fs.writeFileSync(confFile, keystoneConf(dir, opts, opts.tokenExpiration ?? 3600), { mode: 0o600 });
  fs.writeFileSync(overrideFile, '');
  const configArgs = ['--config-file', confFile, '--config-file', overrideFile];

  let port = await getFreePort();
  let server: Server | undefined;
  let stopped: Promise<void> | undefined;
  const cleanupOnFailure = async (): Promise<void> => {
    if (server) await killServer(server, port, 3000);
    if (!keepDir) fs.rmSync(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
  };

  // --- setup, once ---
  const tSetup = Date.now();
  let setup: RunResult;
  try {
    setup = await runPython(
      python,
      ['setup', ...configArgs, '--public-url', `http://127.0.0.1:${port}/v3`, '--region', region],
      { cwd: dir, env: { OS_BOOTSTRAP_PASSWORD: adminPassword }, timeoutMs: deadline - Date.now() },
    );
  } catch (e) {
    await cleanupOnFailure();
    throw e;
  }
  fs.appendFileSync(logFile, setup.stderr);
  if (setup.code !== 0) {
    const msg = `Keystone setup failed (exit ${setup.code ?? setup.signal}):\n${setup.stderr.split('\n').slice(-40).join('\n')}`;
    await cleanupOnFailure();
    throw new Error(/No module named/.test(setup.stderr) ? `${msg}\nRun scripts/install-system-deps.sh.` : msg);
  }
  const setupMs = Date.now() - tSetup;

  // --- serve ---
  const spawnServer = (): Server => {
    const fd = fs.openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      const args = [KEYSTONE_APP, 'serve', ...configArgs, '--bind', `127.0.0.1:${port}`, '--die-with-parent'];
      if (opts.debug) args.push('--access-log');
      child = spawn(python, args, { cwd: dir, detached: true, stdio: ['ignore', fd, fd], env: childEnv() });
    } finally {
      fs.closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`cannot spawn ${python}`);
    const pid = child.pid;
    liveGroups.add(pid);
    child.unref();
    const s: Server = {
      child,
      pid,
      done: false,
      exited: new Promise<void>((resolve) => {
        const done = (): void => {
          s.done = true;
          resolve();
        };
        child.once('exit', done);
        child.once('error', done);
      }),
    };
    return s;
  };

  const waitReady = async (s: Server, until: number, logOffset: number): Promise<void> => {
    let last = 'not started';
    while (Date.now() < until) {
      if (s.done) throw new Error(`gunicorn exited with ${s.child.exitCode ?? s.child.signalCode} during start-up`);
      const log = readFrom(logFile, logOffset);
      if (/Connection in use|Address already in use/.test(log)) throw new AddressInUse();
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v3`, {
          signal: AbortSignal.timeout(2000),
          headers: { Connection: 'close' },
        });
        await res.arrayBuffer();
        if (res.status === 200) return;
        last = `GET /v3 answered ${res.status}`;
      } catch (e) {
        last = (e as Error).message;
      }
      await delay(50);
    }
    throw new Error(`not ready before the deadline (${last})`);
  };

  const serve = async (until: number, allowPortChange: boolean): Promise<number> => {
    const tServe = Date.now();
    for (let attempt = 0; ; attempt++) {
      const offset = fileSize(logFile);
      server = spawnServer();
      try {
        await waitReady(server, until, offset);
        return Date.now() - tServe;
      } catch (e) {
        // On a port taken by another process, do not wait for it to close.
        await killServer(server, e instanceof AddressInUse ? 0 : port, 3000);
        server = undefined;
        if (e instanceof AddressInUse && allowPortChange && attempt < 5) {
          port = await getFreePort();
          continue;
        }
        throw new Error(`Keystone failed to serve on port ${port}: ${(e as Error).message}\n${tail(logFile, 40)}`);
      }
    }
  };

  let serveMs: number;
  const bootstrapPort = port;
  try {
    serveMs = await serve(deadline, true);
  } catch (e) {
    await cleanupOnFailure();
    throw e;
  }

  // --- the handle ---
  const baseUrl = (): string => `http://127.0.0.1:${port}`;
  let adminCache: TokenInfo | undefined;
  let systemCache: TokenInfo | undefined;
  const roleIds = new Map<string, string>();

  const rawRequest = async (method: string, p: string, token: string | null, o: RequestOptions): Promise<KsResponse> => {
    const url = /^https?:\/\//.test(p) ? p : `${baseUrl()}/v3${p.startsWith('/') ? p : `/${p}`}`;
    const headers: Record<string, string> = { Accept: 'application/json', ...(o.headers ?? {}) };
    if (token !== null) headers['X-Auth-Token'] = token;
    let body: string | undefined;
    if (o.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(o.body);
    }
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(30_000) });
    } catch (e) {
      // A pooled keep-alive connection to a restarted server: once more.
      if (!isConnectionError(e)) throw e;
      res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(30_000) });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (o.expect !== undefined) {
      const ok = Array.isArray(o.expect) ? o.expect : [o.expect];
      if (!ok.includes(res.status)) {
        throw new Error(`Keystone ${method} ${url} answered ${res.status} (expected ${ok.join('|')}): ${text.slice(0, 500)}`);
      }
    }
    return { status: res.status, headers: res.headers, text, json };
  };

  const authenticate = async (creds: Credentials, o: { catalog?: boolean } = {}): Promise<TokenInfo> => {
    const res = await rawRequest('POST', o.catalog ? '/auth/tokens' : '/auth/tokens?nocatalog', null, {
      body: authBody(creds),
    });
    const token = res.headers.get('x-subject-token');
    if (res.status !== 201 || !token) {
      throw new Error(`Keystone refused a token for ${describe(creds)}: ${res.status} ${res.text.slice(0, 300)}`);
    }
    const body = (res.json as { token: KeystoneToken }).token;
    return { token, body, expiresAt: new Date(body.expires_at) };
  };

  const fresh = (t: TokenInfo | undefined): t is TokenInfo => {
    if (!t) return false;
    const life = t.expiresAt.getTime() - new Date(t.body.issued_at).getTime();
    return Date.now() < t.expiresAt.getTime() - Math.min(60_000, life / 2);
  };

  const handle: KeystoneHandle = {
    url: `${baseUrl()}/v3`,
    baseUrl: baseUrl(),
    port,
    dir,
    logFile,
    get pid(): number {
      return server && !server.done ? server.pid : 0;
    },
    region,
    adminUser: 'admin',
    adminPassword,
    adminProject: 'admin',
    defaultDomainId: 'default',
    timings: { setupMs, serveMs, totalMs: Date.now() - t0 },

    async request(method, p, o = {}) {
      const token = o.token === undefined ? await handle.adminToken() : o.token;
      return rawRequest(method, p, token, o);
    },

    async adminToken() {
      if (!fresh(adminCache)) {
        adminCache = await authenticate({ username: 'admin', password: adminPassword, projectName: 'admin' });
      }
      return adminCache.token;
    },

    async systemAdminToken() {
      if (!fresh(systemCache)) {
        systemCache = await authenticate({ username: 'admin', password: adminPassword, system: true });
      }
      return systemCache.token;
    },

    authenticate,

    async issueToken(creds) {
      return (await authenticate(creds)).token;
    },

    async authenticateShortLived(creds, seconds) {
      if (!Number.isInteger(seconds) || seconds < 1) throw new Error('seconds must be an integer >= 1');
      const r = await runPython(python, ['token', ...configArgs, '--expiration', String(seconds)], {
        cwd: dir,
        stdin: JSON.stringify(authBody(creds)),
        timeoutMs: 60_000,
      });
      let out: { status?: number; token?: string | null; body?: { token?: KeystoneToken } } = {};
      try {
        out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as typeof out;
      } catch {
        /* reported below */
      }
      if (out.status !== 201 || !out.token || !out.body?.token) {
        throw new Error(
          `short-lived token for ${describe(creds)} failed (exit ${r.code ?? r.signal}, status ${out.status}): ` +
            `${r.stdout.slice(0, 500)}\n${r.stderr.split('\n').slice(-30).join('\n')}`,
        );
      }
      return { token: out.token, body: out.body.token, expiresAt: new Date(out.body.token.expires_at) };
    },

    async issueShortLivedToken(creds, seconds) {
      return (await handle.authenticateShortLived(creds, seconds)).token;
    },

    async validate(token, o = {}) {
      const q = [o.catalog ? '' : 'nocatalog', o.allowExpired ? 'allow_expired=1' : ''].filter(Boolean).join('&');
      const service = o.serviceToken ?? (await handle.adminToken());
      const res = await rawRequest('GET', `/auth/tokens${q ? `?${q}` : ''}`, service, {
        headers: { 'X-Subject-Token': token },
      });
      const t = res.status === 200 ? (res.json as { token: KeystoneToken }).token : undefined;
      return { status: res.status, headers: res.headers, token: t, json: res.json };
    },

    async revokeToken(token, o = {}) {
      const service = o.serviceToken ?? (await handle.adminToken());
      await rawRequest('DELETE', '/auth/tokens', service, { headers: { 'X-Subject-Token': token }, expect: 204 });
    },

    async ensureRole(name) {
      const known = roleIds.get(name);
      if (known) return known;
      const res = await handle.request('GET', `/roles?name=${encodeURIComponent(name)}`, { expect: 200 });
      let id = (res.json as { roles: RoleRef[] }).roles.find((r) => r.name === name)?.id;
      if (!id) {
        const created = await handle.request('POST', '/roles', { body: { role: { name } }, expect: 201 });
        id = (created.json as { role: RoleRef }).role.id;
      }
      roleIds.set(name, id);
      return id;
    },

    async createProject(name, o = {}) {
      const res = await handle.request('POST', '/projects', {
        body: { project: { name, domain_id: o.domainId ?? 'default', description: o.description ?? '', enabled: true } },
        expect: 201,
      });
      const p = (res.json as { project: { id: string; name: string } }).project;
      return { id: p.id, name: p.name };
    },

    async ensureProject(name, o = {}) {
      const domain = o.domainId ?? 'default';
      const res = await handle.request(
        'GET',
        `/projects?name=${encodeURIComponent(name)}&domain_id=${encodeURIComponent(domain)}`,
        { expect: 200 },
      );
      const found = (res.json as { projects: Array<{ id: string; name: string }> }).projects.find((p) => p.name === name);
      return found ? { id: found.id, name: found.name } : handle.createProject(name, { domainId: domain });
    },

    async createUser(name, password, o = {}) {
      const user: Record<string, unknown> = { name, password, domain_id: o.domainId ?? 'default', enabled: o.enabled ?? true };
      if (o.defaultProjectId) user.default_project_id = o.defaultProjectId;
      const res = await handle.request('POST', '/users', { body: { user }, expect: 201 });
      const u = (res.json as { user: { id: string; name: string } }).user;
      if (o.roles && o.roles.length > 0) {
        if (!o.projectId) throw new Error(`createUser ${name}: roles need a projectId`);
        for (const r of o.roles) await handle.assignProjectRole(u.id, o.projectId, r);
      }
      for (const r of o.systemRoles ?? []) await handle.assignSystemRole(u.id, r);
      return { id: u.id, name: u.name };
    },

    async assignProjectRole(userId, projectId, role) {
      const roleId = await handle.ensureRole(role);
      await handle.request('PUT', `/projects/${projectId}/users/${userId}/roles/${roleId}`, { expect: 204 });
    },

    async assignSystemRole(userId, role) {
      const roleId = await handle.ensureRole(role);
      await handle.request('PUT', `/system/users/${userId}/roles/${roleId}`, { expect: 204 });
    },

    async ensureRegion(id) {
      const res = await handle.request('GET', `/regions/${encodeURIComponent(id)}`);
      if (res.status === 200) return;
      if (res.status !== 404) throw new Error(`GET region ${id}: ${res.status} ${res.text.slice(0, 300)}`);
      // 409 if created concurrently.
      await handle.request('POST', '/regions', { body: { region: { id } }, expect: [201, 409] });
    },

    async createService(type, name) {
      const res = await handle.request('POST', '/services', {
        body: { service: { type, name: name ?? type, enabled: true } },
        expect: 201,
      });
      return (res.json as { service: { id: string } }).service.id;
    },

    async createEndpoint(serviceId, ep) {
      await handle.ensureRegion(ep.region);
      const res = await handle.request('POST', '/endpoints', {
        body: { endpoint: { service_id: serviceId, interface: ep.interface, url: ep.url, region_id: ep.region, enabled: true } },
        expect: 201,
      });
      return (res.json as { endpoint: { id: string } }).endpoint.id;
    },

    async deleteEndpoint(endpointId) {
      await handle.request('DELETE', `/endpoints/${endpointId}`, { expect: 204 });
    },

    rssKb() {
      const pid = server && !server.done ? server.pid : 0;
      if (!pid) return { master: 0, worker: 0, total: 0 };
      const master = readRssKb(pid);
      const worker = childPids(pid).reduce((sum, c) => sum + readRssKb(c), 0);
      return { master, worker, total: master + worker };
    },

    logTail(lines = 40) {
      return tail(logFile, lines);
    },

    async stopServing() {
      if (server) {
        await killServer(server, port, opts.stopTimeoutMs ?? 3000);
        server = undefined;
      }
    },

    async restart(o = {}) {
      if (stopped) throw new Error('Keystone was stopped');
      await handle.stopServing();
      if (o.tokenExpiration !== undefined) {
        fs.writeFileSync(overrideFile, `[token]\nexpiration = ${o.tokenExpiration}\n`);
      }
      adminCache = undefined;
      systemCache = undefined;
      try {
        await serve(Date.now() + (opts.startTimeoutMs ?? 60_000), false);
      } catch (e) {
        throw new Error(`Keystone restart failed: ${(e as Error).message}`);
      }
    },

    stop() {
      stopped ??= (async () => {
        await handle.stopServing();
        if (!keepDir) fs.rmSync(dir, { recursive: true, force: true });
        liveDirs.delete(dir);
      })();
      return stopped;
    },
  };

  // The port changed (bind race): point the identity endpoint at it.
  if (port !== bootstrapPort) {
    try {
      const res = await handle.request('GET', '/endpoints?interface=public', { expect: 200 });
      const eps = (res.json as { endpoints: Array<{ id: string; url: string }> }).endpoints;
      for (const ep of eps.filter((e) => e.url === `http://127.0.0.1:${bootstrapPort}/v3`)) {
        await handle.request('PATCH', `/endpoints/${ep.id}`, { body: { endpoint: { url: handle.url } }, expect: 200 });
      }
    } catch (e) {
      await handle.stop();
      throw e;
    }
  }
  handle.timings.totalMs = Date.now() - t0;
  return handle;
}

class AddressInUse extends Error {
  constructor() {
    super('address already in use');
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function readFrom(file: string, offset: number): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= offset) return '';
      const buf = Buffer.alloc(Math.min(size - offset, 1 << 20));
      fs.readSync(fd, buf, 0, buf.length, offset);
      return buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

async function killServer(s: Server, port: number, timeoutMs: number): Promise<void> {
  // Keystone keeps nothing in memory that must survive (SQLite commits
  // are atomic, WAL included), so the whole group goes at once: gunicorn's
  // own shutdown (SIGINT/SIGTERM) takes 1-2 s for nothing.
  try {
    process.kill(-s.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  // The master's exit is not enough: its worker shares the listening
  // socket and may still accept connections for a moment.
  const until = Date.now() + timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([s.exited, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
  clearTimeout(timer);
  while (port > 0 && listenersOnPort(port) > 0 && Date.now() < until) await delay(10);
  liveGroups.delete(s.pid);
}

/** Number of LISTEN sockets on this TCP port (any address), from /proc/net. */
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
      const local = cols[1] ?? '';
      if (cols[3] === '0A' && parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) n++;
    }
  }
  return n;
}
