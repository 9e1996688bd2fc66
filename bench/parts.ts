/**
 * The pieces a benchmark section starts: a backend of simulated sites, nginx
 * in front of one of them, the proxy over some of them, and a load run.
 */
import { withServerFlags } from '../src/runtime-flags.js';
import { launch, launchTs, memoryOf, readLine, stop, tmp, tmpFile, waitReady, freePort, ROOT, type Proc } from './procs.js';
import type { LoadResult, LoadSpec } from './load.js';
import path from 'node:path';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';

export interface SiteSpec {
  name: string;
  nodes: number;
  latencyMs?: number;
  conductorGroups?: string[];
  /** Served by a cache in front of the simulator (bench/backend.ts): for data that does not change during the run. */
  cached?: boolean;
}

export interface BackendSite {
  name: string;
  url: string;
  nodes: number;
}

export interface Backend {
  proc: Proc;
  sites: BackendSite[];
  /** Sites started under another name because their seeded uuids collided with another site's. */
  renamed: Array<{ from: string; to: string; duplicates: number }>;
  seedMs: number;
  rssMB: number;
  close(): Promise<void>;
}

/** `count` sites named s000…, each serving its own conductor group g<i>. */
export function siteSpecs(count: number, nodes: number, latencyMs = 0): SiteSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `s${String(i).padStart(3, '0')}`,
    nodes,
    latencyMs,
    conductorGroups: [`g${i}`],
  }));
}

export async function startBackend(label: string, sites: SiteSpec[], opts: { heapMB?: number; timeoutMs?: number } = {}): Promise<Backend> {
  const flags = opts.heapMB ? [`--max-old-space-size=${opts.heapMB}`] : [];
  const proc = launchTs(`backend-${label}`, path.join('bench', 'backend.ts'), { sites }, flags);
  try {
    const ready = JSON.parse(await readLine(proc, 'READY ', opts.timeoutMs ?? 120_000)) as Omit<Backend, 'proc' | 'close'>;
    return { proc, ...ready, close: () => stop(proc) };
  } catch (err) {
    await stop(proc);
    throw err;
  }
}

export interface Proxy {
  proc: Proc;
  url: string;
  close(): Promise<void>;
  memory(): { rssMB: number; hwmMB: number };
}

/** The proxy (compiled, `bin/ironic-proxy.js`) in its own process, one worker, over `sites`. */
/** `proxyIni`: options of [proxy]; `extraIni`: further sections (e.g. `[coordination]`). */
export async function startProxy(
  label: string,
  sites: Array<BackendSite & { group: string }>,
  proxyIni = '',
  extraIni = '',
  /** The checkout whose build (dist/) runs: another one for an A/B comparison within one run. */
  root = ROOT,
  /** The proxy's --workers; default BENCH_PROXY_WORKERS, else 1 (one process, whose CPU the bench reads). */
  workersArg?: string,
): Promise<Proxy> {
  const port = await freePort();
  const groups = sites.map((s) => `${s.group}:${s.name}`).join(',');
  const sections = sites.map((s) => `[group:${s.name}]\nauth_type = none\nendpoint_override = ${s.url}\n`).join('\n');
  const conf = tmpFile(
    `proxy-${label}.conf`,
    `[DEFAULT]\ngroups = ${groups}\n\n[api]\nhost_ip = 127.0.0.1\nport = ${port}\napi_workers = 1\n\n[proxy]\n${proxyIni}\n\n${sections}\n${extraIni}`,
  );
  // Logs (one JSON line per request, the production default) go to a file, as they would in production.
  // BENCH_PROXY_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"): Node flags for the proxy only, to profile it.
  // The proxy runs with the Node options production gives its serving processes (src/runtime-flags.ts).
  const nodeFlags = withServerFlags((process.env.BENCH_PROXY_NODE_FLAGS ?? '').split(' ').filter(Boolean));
  // BENCH_PROXY_WORKERS (a number or auto): the proxy's --workers (default 1).
  const workers = workersArg ?? process.env.BENCH_PROXY_WORKERS ?? '1';
  const proc = launch(`proxy-${label}`, process.execPath, [...nodeFlags, path.join(root, 'bin', 'ironic-proxy.js'), '--config-file', conf, '--workers', workers], {
    stdoutFile: `proxy-${label}.log`,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(proc, `${url}/readyz`, 60_000);
  } catch (err) {
    await stop(proc);
    throw err;
  }
  return { proc, url, close: () => stop(proc), memory: () => memoryOf(proc.pid) };
}

/** nginx (`proxy_pass` to an upstream with a keep-alive pool) in front of `backendUrl`. */
export async function startNginx(backendUrl: string): Promise<{ proc: Proc; url: string; close(): Promise<void> }> {
  const port = await freePort();
  const dir = tmp();
  const upstream = new URL(backendUrl).host;
  const url = `http://127.0.0.1:${port}`;
  const proc = await launchNginx(
    'nginx',
    dir,
    url,
    `  upstream ironic {
    server ${upstream};
    keepalive 32;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://ironic;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_buffering on;
    }
  }`,
  );
  return { proc, url, close: () => stop(proc) };
}

/**
 * nginx with `http` (the block's own lines) under the settings every bench
 * nginx shares — one worker, no access log, unbounded keep-alive, its
 * temporary files in `dir` — in the foreground, once `url` answers.
 */
async function launchNginx(name: string, dir: string, url: string, http: string): Promise<Proc> {
  const conf = tmpFile(
    `${name}.conf`,
    `worker_processes 1;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/nginx-client-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
${http}
}
`,
  );
  const proc = launch(name, '/usr/sbin/nginx', ['-p', dir, '-e', `${dir}/nginx-error.log`, '-c', conf, '-g', `daemon off; pid ${dir}/nginx.pid;`]);
  try {
    await waitReady(proc, `${url}/`, 15_000);
  } catch (err) {
    await stop(proc);
    throw err;
  }
  return proc;
}

/** The bare Node.js proxy of floor-proxy.ts in front of `backendUrl` (a reference row, not a product). */
export async function startFloorProxy(backendUrl: string, framework?: 'fastify'): Promise<{ proc: Proc; url: string; close(): Promise<void> }> {
  const port = await freePort();
  const nodeFlags = (process.env.BENCH_FLOOR_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const proc = launchTs(`floor-proxy${framework ? `-${framework}` : ''}`, path.join('bench', 'floor-proxy.ts'), { upstream: new URL(backendUrl).origin, port, framework }, nodeFlags);
  try {
    await readLine(proc, 'READY', 30_000);
  } catch (err) {
    await stop(proc);
    throw err;
  }
  return { proc, url: `http://127.0.0.1:${port}`, close: () => stop(proc) };
}

/** One autocannon run (after its warm-up) in a separate process. */
export async function runLoad(label: string, spec: LoadSpec): Promise<LoadResult> {
  const proc = launchTs(`load-${label}`, path.join('bench', 'load.ts'), spec);
  try {
    const line = await readLine(proc, '{', (spec.warmupSeconds + spec.seconds) * 1000 + 60_000);
    await proc.exited;
    return JSON.parse(`{${line}`) as LoadResult;
  } finally {
    await stop(proc);
  }
}

/**
 * A backend that costs almost nothing per request: nginx serving static
 * copies of a site's documents (the version documents and node documents,
 * each with the headers Ironic sends), so that what stands in front of it —
 * nginx proxy_pass, the bare Node.js proxy, ironic-proxy — is what the
 * figures measure. A PATCH of a node gets the node's document back, as
 * Ironic answers a PATCH with the updated node.
 *
 * `docs` maps a path to its body, as fetched from `from` (a simulated site):
 * links naming `from` are rewritten to name the static backend.
 */
export async function startStaticBackend(from: string, docs: Map<string, string>): Promise<{ proc: Proc; url: string; close(): Promise<void> }> {
  const port = await freePort();
  // nginx's workers run as another user (nobody) when started by root: the files must be reachable for them.
  chmodSync(tmp(), 0o711);
  const dir = path.join(tmp(), `nginx-static-${port}`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const url = `http://127.0.0.1:${port}`;
  const root = path.join(dir, 'root');
  for (const [p, body] of docs) {
    const file = path.join(root, p === '/' ? 'index.json' : p);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, body.split(from).join(url));
  }
  const proc = await launchNginx(
    'nginx-static',
    dir,
    url,
    `  keepalive_timeout 60s;
  default_type application/json;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    etag off;
    add_header X-OpenStack-Ironic-API-Minimum-Version 1.1 always;
    add_header X-OpenStack-Ironic-API-Maximum-Version 1.82 always;
    add_header X-OpenStack-Ironic-API-Version 1.82 always;
    location = / { try_files /index.json =404; }
    # Static files answer GET and HEAD; a PATCH of a node gets the node back (Ironic answers with the updated node).
    location /v1/nodes/ { error_page 405 =200 $uri; }
  }`,
  );
  return { proc, url, close: () => stop(proc) };
}
