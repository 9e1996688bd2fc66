/**
 * Run the REAL Bare Metal clients against an endpoint (a real site, the
 * simulator or the proxy):
 *
 * - `baremetal(args, opts)`: the `baremetal` CLI (python-ironicclient 5.0.1)
 *   with OS_AUTH_TYPE=none and OS_ENDPOINT.
 * - `baremetalJson(args, opts)`: the same with `-f json`, stdout parsed.
 * - `sdk(op, endpoint)`: openstacksdk 0.101 through sdk_driver.py.
 * - `waitForProvisionState(...)`: fast polling over HTTP (the CLI's --wait
 *   polls every 10 s for provide/deploy/undeploy, every 2 s for manage).
 *
 * All need scripts/install-system-deps.sh (python3-ironicclient,
 * python3-openstacksdk, python3-openstackclient).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SDK_DRIVER = path.join(HERE, 'sdk_driver.py');
export const PYTHON = '/usr/bin/python3';
export const BAREMETAL_CLI = '/usr/bin/baremetal';

export interface RunResult {
  /** Exit code (null if killed by a signal, e.g. on timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time in ms. */
  ms: number;
}

export interface BaremetalOptions {
  /** Endpoint URL, e.g. http://127.0.0.1:6385 (OS_ENDPOINT). */
  endpoint: string;
  /** OS_BAREMETAL_API_VERSION; default 'latest' (= min(server max, 1.78) for this client). */
  apiVersion?: string;
  /**
   * Extra environment (added after the defaults, so it can override them;
   * undefined removes a variable). Inherited OS_* variables are dropped.
   * Keystone instead of noauth: { OS_AUTH_TYPE: 'password', OS_ENDPOINT: undefined,
   * OS_BAREMETAL_ENDPOINT_OVERRIDE: url, OS_AUTH_URL, OS_USERNAME, ... }.
   */
  env?: Record<string, string | undefined>;
  /**
   * `baremetal --max-retries N`. The client retries 409 and 503 answers
   * and refused connections (default 5 retries, 2 s apart: a 409 then
   * costs ~10 s). Pass 0 for one attempt.
   */
  maxRetries?: number;
  /** `--retry-interval` in seconds. */
  retryInterval?: number;
  /** Kill the CLI after this long (SIGKILL). Default 120 s. */
  timeoutMs?: number;
  /** Data for stdin (e.g. for `-` arguments). */
  input?: string;
}

/** Environment without inherited OpenStack/Python settings that could redirect the clients. */
function cleanEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('OS_') || k === 'PYTHONPATH' || k === 'PYTHONHOME' || k === 'VIRTUAL_ENV') continue;
    env[k] = v;
  }
  env.PYTHONDONTWRITEBYTECODE = '1';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs a program, collects its output; never rejects for a non-zero exit. */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: Date.now() - t0,
      });
    });
    child.stdin.on('error', () => {
      /* the program may exit without reading stdin */
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs `baremetal ARGS` against opts.endpoint without authentication. */
export function baremetal(args: string[], opts: BaremetalOptions): Promise<RunResult> {
  const env = cleanEnv({
    OS_AUTH_TYPE: 'none',
    OS_ENDPOINT: opts.endpoint,
    OS_BAREMETAL_API_VERSION: opts.apiVersion ?? 'latest',
    ...opts.env,
  });
  const pre: string[] = [];
  if (opts.maxRetries !== undefined) pre.push('--max-retries', String(opts.maxRetries));
  if (opts.retryInterval !== undefined) pre.push('--retry-interval', String(opts.retryInterval));
  return run(BAREMETAL_CLI, [...pre, ...args], { env, input: opts.input, timeoutMs: opts.timeoutMs });
}

export interface JsonRunResult<T> extends RunResult {
  /** Parsed stdout (undefined when the command failed or printed nothing). */
  json: T | undefined;
}

/**
 * Runs `baremetal ARGS -f json` and parses stdout. Does not throw on a
 * non-zero exit (check `code` and `stderr`); throws if a successful
 * command printed something that is not JSON.
 */
export async function baremetalJson<T = unknown>(args: string[], opts: BaremetalOptions): Promise<JsonRunResult<T>> {
  const res = await baremetal([...args, '-f', 'json'], opts);
  let json: T | undefined;
  if (res.code === 0 && res.stdout.trim() !== '') {
    try {
      json = JSON.parse(res.stdout) as T;
    } catch (e) {
      throw new Error(`baremetal ${args.join(' ')}: stdout is not JSON (${(e as Error).message}):\n${res.stdout}`);
    }
  }
  return { ...res, json };
}

/** Like baremetal(), but throws (with stderr) unless the exit code is 0. */
export async function baremetalOk(args: string[], opts: BaremetalOptions): Promise<RunResult> {
  const res = await baremetal(args, opts);
  if (res.code !== 0) {
    throw new Error(`baremetal ${args.join(' ')} exited ${res.code}:\n${res.stderr}${res.stdout}`);
  }
  return res;
}

/** Like baremetalJson(), but throws unless the exit code is 0; returns the parsed JSON. */
export async function baremetalJsonOk<T = unknown>(args: string[], opts: BaremetalOptions): Promise<T> {
  const res = await baremetalJson<T>(args, opts);
  if (res.code !== 0) {
    throw new Error(`baremetal ${args.join(' ')} -f json exited ${res.code}:\n${res.stderr}${res.stdout}`);
  }
  return res.json as T;
}

// ---------------------------------------------------------------------------
// openstacksdk

/** One command for sdk_driver.py (see its docstring for the full list). */
export type SdkOp =
  | {
      op: 'list_nodes';
      details?: boolean;
      limit?: number;
      marker?: string;
      fields?: string[];
      filters?: Record<string, string | number | boolean>;
      max_items?: number;
      paginated?: boolean;
    }
  | { op: 'get_node'; id: string; fields?: string[] }
  | { op: 'find_node'; id: string; ignore_missing?: boolean }
  | { op: 'create_node'; attrs: Record<string, unknown> }
  | { op: 'update_node'; id: string; attrs: Record<string, unknown> }
  | { op: 'patch_node'; id: string; patch: Array<Record<string, unknown>> }
  | { op: 'delete_node'; id: string; ignore_missing?: boolean }
  | {
      op: 'set_provision_state';
      id: string;
      target: string;
      wait?: boolean;
      timeout?: number;
      config_drive?: unknown;
      clean_steps?: unknown[];
      deploy_steps?: unknown[];
    }
  | { op: 'wait_for_provision_state'; id: string; state: string; timeout?: number }
  | { op: 'set_power_state'; id: string; target: string; wait?: boolean; timeout?: number }
  | { op: 'set_maintenance'; id: string; state: boolean; reason?: string }
  | { op: 'call'; method: string; args?: unknown[]; kwargs?: Record<string, unknown> };

/**
 * Options common to every command. api_version and connection are honoured
 * on the first command of a batch only.
 */
export type SdkCommand = SdkOp & { trace?: boolean; api_version?: string; connection?: Record<string, unknown> };

export interface SdkRequest {
  method: string;
  url: string;
  status: number;
  /** X-OpenStack-Ironic-API-Version sent (null for discovery requests). */
  api_version: string | null;
}

export interface SdkError {
  /** openstacksdk exception class, e.g. ResourceNotFound, BadRequestException, ConflictException. */
  type: string;
  message: string;
  status_code?: number;
  details?: string;
  request_id?: string | null;
  url?: string;
  body?: string;
}

export type SdkResult<T = unknown> =
  | { ok: true; result: T; requests?: SdkRequest[] }
  | { ok: false; error: SdkError; requests?: SdkRequest[] };

export interface SdkOptions {
  /** Default microversion for every call (Connection(baremetal_api_version=...)). */
  apiVersion?: string;
  /** Record the HTTP requests the SDK made (result.requests). */
  trace?: boolean;
  /**
   * More openstack.connection.Connection() keyword arguments (override
   * auth_type='none' / baremetal_endpoint_override), e.g. Keystone:
   * { auth_type: 'password', auth: { auth_url, username, password, project_name,
   *   user_domain_name, project_domain_name } }.
   */
  connection?: Record<string, unknown>;
  timeoutMs?: number;
}

async function runSdk(endpoint: string, doc: unknown, timeoutMs?: number): Promise<unknown> {
  const res = await run(PYTHON, [SDK_DRIVER, endpoint], {
    env: cleanEnv({}),
    input: JSON.stringify(doc),
    timeoutMs: timeoutMs ?? 120_000,
  });
  if (res.code !== 0) {
    throw new Error(`sdk_driver.py exited ${res.code}:\n${res.stderr}${res.stdout}`);
  }
  try {
    return JSON.parse(res.stdout);
  } catch {
    throw new Error(`sdk_driver.py printed no JSON:\n${res.stdout}\n${res.stderr}`);
  }
}

/**
 * Runs one openstacksdk operation against endpoint, e.g.
 *   await sdk({ op: 'list_nodes', details: true, limit: 2 }, url, { trace: true })
 * Never throws for an API error: check `ok`.
 */
export async function sdk<T = unknown>(op: SdkCommand, endpoint: string, opts: SdkOptions = {}): Promise<SdkResult<T>> {
  const cmd: SdkCommand = { ...op };
  if (opts.apiVersion !== undefined) cmd.api_version = opts.apiVersion;
  if (opts.connection !== undefined) cmd.connection = opts.connection;
  if (opts.trace !== undefined) cmd.trace = opts.trace;
  return (await runSdk(endpoint, cmd, opts.timeoutMs)) as SdkResult<T>;
}

/** Runs several operations over one SDK Connection (one Python start-up, ~0.5 s, for all). */
export async function sdkBatch(ops: SdkCommand[], endpoint: string, opts: SdkOptions = {}): Promise<SdkResult[]> {
  const cmds = ops.map((o, i) => {
    const c: SdkCommand = { ...o };
    if (i === 0 && opts.apiVersion !== undefined) c.api_version = opts.apiVersion;
    if (i === 0 && opts.connection !== undefined) c.connection = opts.connection;
    if (opts.trace !== undefined && c.trace === undefined) c.trace = opts.trace;
    return c;
  });
  return (await runSdk(endpoint, cmds, opts.timeoutMs)) as SdkResult[];
}

/** sdk(), but throws unless ok; returns the result. */
export async function sdkOk<T = unknown>(op: SdkCommand, endpoint: string, opts: SdkOptions = {}): Promise<T> {
  const r = await sdk<T>(op, endpoint, opts);
  if (!r.ok) throw new Error(`sdk ${op.op} failed: ${r.error.type}: ${r.error.message}`);
  return r.result;
}

// ---------------------------------------------------------------------------
// Plain HTTP

export interface IronicHttpOptions {
  /** X-OpenStack-Ironic-API-Version; default '1.1' is Ironic's own default, so pass one. */
  apiVersion?: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs?: number;
}

export interface IronicHttpResult<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed body, if JSON. */
  json: T | undefined;
}

/** One request to an Ironic-like endpoint (fetch). */
export async function ironicRequest<T = unknown>(
  endpoint: string,
  method: string,
  pathAndQuery: string,
  opts: IronicHttpOptions = {},
): Promise<IronicHttpResult<T>> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (opts.apiVersion) headers['X-OpenStack-Ironic-API-Version'] = opts.apiVersion;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(endpoint.replace(/\/+$/, '') + pathAndQuery, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
  });
  const text = await res.text();
  let json: T | undefined;
  try {
    json = text ? (JSON.parse(text) as T) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  apiVersion?: string;
}

/**
 * Polls GET /v1/nodes/{node} until provision_state is `state` (fails early
 * on "... failed"/"error" states unless that is the target). Returns the
 * node as the API shows it.
 */
export async function waitForProvisionState(
  endpoint: string,
  node: string,
  state: string,
  opts: WaitOptions = {},
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  const interval = opts.intervalMs ?? 100;
  let last: Record<string, unknown> | undefined;
  while (Date.now() < deadline) {
    const r = await ironicRequest<Record<string, unknown>>(endpoint, 'GET', `/v1/nodes/${encodeURIComponent(node)}`, {
      apiVersion: opts.apiVersion ?? '1.60',
    });
    if (r.status === 200 && r.json) {
      last = r.json;
      const ps = String(last.provision_state);
      if (ps === state) return last;
      if (ps === 'error' || ps.endsWith(' failed')) {
        throw new Error(`node ${node} reached ${ps} instead of ${state}: ${String(last.last_error)}`);
      }
    } else if (r.status !== 409 && r.status !== 503) {
      throw new Error(`GET /v1/nodes/${node} answered ${r.status}: ${r.text}`);
    }
    await new Promise((res) => setTimeout(res, interval));
  }
  throw new Error(
    `node ${node} did not reach ${state} within ${opts.timeoutMs ?? 30_000} ms (last: ${String(last?.provision_state)})`,
  );
}
