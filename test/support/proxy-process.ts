/**
 * A proxy as its own process (the CLI from source, `src/main.ts`, or the
 * production command `bin/ironic-proxy.js` over the compiled `dist/`), the
 * way replicas run: its own port, its own caches, its configuration file in
 * a temp dir. Ready when it logs that it listens (each of its workers, when
 * there are several). `kill()` is SIGKILL (a crash), `stop()` a graceful
 * SIGTERM. One process unless asked otherwise: tests read its state.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installExitHandlers, liveDirs, liveGroups } from './exit-cleanup.js';
import { getFreePort } from './real-ironic.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ProxyProcessOptions {
  /** `[api]api_workers` written to the file (default '1': one process); null writes none (the default applies: auto). */
  apiWorkers?: string | null;
  /** More command-line arguments (e.g. `['--workers', 'auto']`). */
  args?: readonly string[];
  /** How many processes must log that they listen before it counts as started (default 1). */
  listeners?: number;
  /**
   * Run the production command users run, `bin/ironic-proxy.js` (its own
   * interpreter line, the compiled `dist/`), instead of `src/main.ts` under
   * tsx. `dist/` is rebuilt first when any source file is newer than it.
   */
  production?: boolean;
}

export interface ProxyProcess {
  url: string;
  pid: number;
  /** The pids that logged "ironic-proxy listening" (each worker, or the one process). */
  listening(): number[];
  /** The last lines it wrote (for failure messages). */
  output(): string;
  /** Every JSON line it wrote to standard output so far (log lines, access lines), parsed. */
  logLines(): Array<Record<string, unknown>>;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `ironic-proxy --config-file <file with iniText>`; `[api]host_ip/port` are added. */
export async function startProxyProcess(iniText: string, timeoutMs = 60_000, opts: ProxyProcessOptions = {}): Promise<ProxyProcess> {
  installExitHandlers();
  const port = await getFreePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ironic-proxy-replica-'));
  liveDirs.add(dir);
  const file = path.join(dir, 'ironic-proxy.conf');
  const workers = opts.apiWorkers === undefined ? '1' : opts.apiWorkers;
  fs.writeFileSync(file, `${iniText}\n[api]\nhost_ip = 127.0.0.1\nport = ${port}\n${workers === null ? '' : `api_workers = ${workers}\n`}`);
  if (opts.production) ensureBuilt();
  const [command, ...prefix] = opts.production ? [path.join(ROOT, 'bin/ironic-proxy.js')] : [process.execPath, '--import', 'tsx', 'src/main.ts'];
  const child: ChildProcess = spawn(command!, [...prefix, '--config-file', file, ...(opts.args ?? [])], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The interpreter line names `node`: the one running the tests, as a user's PATH would give theirs.
    env: opts.production ? { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` } : process.env,
  });
  liveGroups.add(child.pid!);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      liveGroups.delete(child.pid!);
      resolve();
    }),
  );
  let tail = '';
  const keep = (c: Buffer): void => {
    tail = (tail + c.toString('utf8')).slice(-20_000);
  };
  child.stderr!.on('data', keep);
  // Whole lines of standard output, read for the listening workers (a chunk may end mid-line).
  const listening: number[] = [];
  const logLines: Array<Record<string, unknown>> = [];
  let partial = '';
  const readLines = (c: Buffer): void => {
    const lines = (partial + c.toString('utf8')).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue; // not a log line
      }
      logLines.push(parsed);
      if (parsed.msg === 'ironic-proxy listening') listening.push(parsed.pid as number);
    }
  };
  const wanted = opts.listeners ?? 1;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`proxy did not start in ${timeoutMs} ms:\n${tail}`)), timeoutMs);
    child.stdout!.on('data', (c: Buffer) => {
      keep(c);
      readLines(c);
      if (listening.length >= wanted) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`proxy exited (${code}) before listening:\n${tail}`));
    });
  });
  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* gone */
    }
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
  };
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, listening: () => [...listening], output: () => tail, logLines: () => [...logLines], kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}

/** True when some src/X.ts has no dist/X.js or is newer than it. */
function stale(srcDir: string, distDir: string): boolean {
  for (const e of fs.readdirSync(srcDir, { withFileTypes: true })) {
    const from = path.join(srcDir, e.name);
    if (e.isDirectory()) {
      if (stale(from, path.join(distDir, e.name))) return true;
    } else if (e.name.endsWith('.ts')) {
      const to = path.join(distDir, e.name.replace(/\.ts$/, '.js'));
      if (!fs.existsSync(to) || fs.statSync(to).mtimeMs < fs.statSync(from).mtimeMs) return true;
    }
  }
  return false;
}

/**
 * `bin/ironic-proxy.js` runs `dist/`, which `npm ci` builds but nothing
 * rebuilds after an edit: a test of the production command must not pass
 * or fail on older code. Rebuilds (`npm run build`, ~10 s) when a source
 * file is newer than its compiled file.
 */
function ensureBuilt(): void {
  if (!stale(path.join(ROOT, 'src'), path.join(ROOT, 'dist'))) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building dist/ failed (${r.status}):\n${r.stdout}${r.stderr}`);
}
