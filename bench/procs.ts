/**
 * Child processes of the benchmark (simulated sites, nginx, the proxy, the
 * load generator) and the temporary directory they use: everything started
 * here is stopped, and the directory removed, when the benchmark ends — also
 * on an error or Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const LATEST = { 'X-OpenStack-Ironic-API-Version': 'latest' };

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  exited: Promise<void>;
  /** The end of what it wrote to stderr (a pipe or a file). */
  stderrTail(): string;
}

const procs = new Set<Proc>();
let tmpDir: string | undefined;

export function tmp(): string {
  tmpDir ??= mkdtempSync(path.join(os.tmpdir(), 'ipx-bench-'));
  // Someone sweeping /tmp may have removed it: files already open stay usable, new ones need the directory.
  mkdirSync(tmpDir, { recursive: true });
  return tmpDir;
}

export function tmpFile(name: string, text?: string): string {
  const p = path.join(tmp(), name);
  if (text !== undefined) writeFileSync(p, text);
  return p;
}

/**
 * Starts a child. stdout: 'pipe' (read by the caller) or a file under the temp
 * directory; stderr always ends up where stderrTail() can read it.
 */
export function launch(
  name: string,
  cmd: string,
  args: string[],
  opts: { stdin?: 'pipe' | 'ignore'; stdoutFile?: string; env?: NodeJS.ProcessEnv } = {},
): Proc {
  const errPath = tmpFile(`${name}.stderr`);
  const errFd = openSync(errPath, 'w');
  const outFd = opts.stdoutFile ? openSync(tmpFile(opts.stdoutFile), 'w') : undefined;
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: opts.env ?? process.env,
    stdio: [opts.stdin ?? 'ignore', outFd ?? 'pipe', errFd],
  });
  closeSync(errFd);
  if (outFd !== undefined) closeSync(outFd);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const proc: Proc = {
    name,
    child,
    pid: child.pid,
    exited,
    stderrTail: () => {
      try {
        return readFileSync(errPath, 'utf8').slice(-3000);
      } catch {
        return '';
      }
    },
  };
  procs.add(proc);
  void exited.then(() => procs.delete(proc));
  return proc;
}

export function running(p: Proc): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stop(p: Proc, graceMs = 5000): Promise<void> {
  if (!running(p)) return;
  p.child.kill('SIGTERM');
  const timer = new Promise<'late'>((r) => setTimeout(() => r('late'), graceMs).unref());
  if ((await Promise.race([p.exited.then(() => 'ok' as const), timer])) === 'late' && running(p)) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
}

/** Node running a TypeScript file of this repository (through tsx), with a JSON argument. */
export function launchTs(name: string, file: string, arg: unknown, nodeFlags: string[] = []): Proc {
  return launch(name, process.execPath, [...nodeFlags, '--import', 'tsx', file, JSON.stringify(arg)], { stdin: 'pipe' });
}

/** The first stdout line of `p` that starts with `prefix` (rejects if it exits first or `timeoutMs` passes). */
export function readLine(p: Proc, prefix: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const out = p.child.stdout!;
    const timer = setTimeout(() => finish(new Error(`${p.name}: no "${prefix}" line within ${timeoutMs / 1000} s\n${p.stderrTail()}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      buf += d.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith(prefix)) return finish(undefined, line.slice(prefix.length));
      }
    };
    const onExit = (): void => {
      // Let the last stdout chunk arrive before giving up.
      setTimeout(() => finish(new Error(`${p.name} exited (${p.child.exitCode ?? p.child.signalCode}) before "${prefix}"\n${p.stderrTail()}`)), 50);
    };
    const finish = (err?: Error, line?: string): void => {
      clearTimeout(timer);
      out.off('data', onData);
      p.child.off('exit', onExit);
      if (err) reject(err);
      else resolve(line!);
    };
    out.on('data', onData);
    p.child.once('exit', onExit);
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const agent = new Agent({ keepAliveTimeout: 30_000, connections: 8 });

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  ms: number;
}

export async function get(url: string, headers: Record<string, string> = LATEST): Promise<HttpAnswer> {
  const t0 = performance.now();
  const res = await request(url, { method: 'GET', headers, dispatcher: agent });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, ms: performance.now() - t0 };
}

export async function getJson<T = any>(url: string, headers: Record<string, string> = LATEST): Promise<{ status: number; body: T; ms: number; headers: HttpAnswer['headers'] }> {
  const r = await get(url, headers);
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${r.text.slice(0, 300)}`);
  return { status: r.status, body: JSON.parse(r.text) as T, ms: r.ms, headers: r.headers };
}

/** Polls `url` until it answers 200 (rejects if `p` exits first or `timeoutMs` passes). */
export async function waitReady(p: Proc, url: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (!running(p)) throw new Error(`${p.name} exited (${p.child.exitCode ?? p.child.signalCode}) during start-up\n${p.stderrTail()}`);
    try {
      if ((await get(url, {})).status === 200) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > end) throw new Error(`${p.name} not ready at ${url} within ${timeoutMs / 1000} s\n${p.stderrTail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** VmRSS and VmHWM of a process, in MiB. */
export function memoryOf(pid: number): { rssMB: number; hwmMB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 };
}

/** utime+stime(+cutime+cstime) of a process from /proc/<pid>/stat, in clock ticks. */
function procTicks(pid: number | 'self', withChildren: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields after the command: state=0 … utime=11 stime=12 cutime=13 cstime=14
    const t = Number(f[11]) + Number(f[12]);
    return withChildren ? t + Number(f[13]) + Number(f[14]) : t;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) a process and its live descendants (nginx's workers) have used so far. */
export function cpuSecondsOf(pid: number): number {
  let ticks = procTicks(pid, false);
  for (const child of childrenOf(pid)) ticks += cpuSecondsOf(child) * CLOCK_TICKS_PER_SECOND;
  return ticks / CLOCK_TICKS_PER_SECOND;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK) is not reachable from Node). */
const CLOCK_TICKS_PER_SECOND = 100;

export interface CpuSample {
  /** Busy ticks of the whole machine (all CPUs). */
  busy: number;
  /** Ticks of all ticks (busy + idle) of the whole machine. */
  all: number;
  /** Busy ticks of this benchmark: itself, its children, and the children it has reaped. */
  ours: number;
}

/** A snapshot of CPU use, to tell how much of the machine other processes took during a measurement. */
export function cpuSample(): CpuSample {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = cpu;
  const busy = user + nice + system + irq + softirq + steal;
  let ours = procTicks('self', true);
  for (const p of procs) if (running(p)) ours += procTicks(p.pid, true);
  return { busy, all: busy + idle + iowait, ours };
}

/** Share of the machine's CPU (0–1, all cores) used by processes that are not the benchmark's, between two samples. */
export function foreignShare(a: CpuSample, b: CpuSample): number {
  const all = b.all - a.all;
  if (all <= 0) return 0;
  return Math.max(0, (b.busy - a.busy - (b.ours - a.ours)) / all);
}

let cleaning: Promise<void> | undefined;

/** Stops every child and removes the temp directory (idempotent). */
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all([...procs].map((p) => stop(p)));
    await agent.close().catch(() => undefined);
    removeTmp();
  })();
  return cleaning;
}

function removeTmp(): void {
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = undefined;
}

/** Last resort when the process is leaving anyway: SIGKILL whatever is left. */
export function killAllNow(): void {
  for (const p of procs) if (running(p)) p.child.kill('SIGKILL');
  removeTmp();
}
