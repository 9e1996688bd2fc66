/**
 * A proxy as its own process (the CLI from source, `src/main.ts`), the way
 * replicas run: its own port, its own caches, its configuration file in a
 * temp dir. Ready when it logs that it listens (each of its workers, when
 * there are several). `kill()` is SIGKILL (a crash), `stop()` a graceful
 * SIGTERM. One process unless asked otherwise: tests read its state.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
}

export interface ProxyProcess {
  url: string;
  pid: number;
  /** The pids that logged "ironic-proxy listening" (each worker, or the one process). */
  listening(): number[];
  /** The last lines it wrote (for failure messages). */
  output(): string;
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
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config-file', file, ...(opts.args ?? [])], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
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
  let partial = '';
  const readLines = (c: Buffer): void => {
    const lines = (partial + c.toString('utf8')).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (!line.includes('"ironic-proxy listening"')) continue;
      try {
        listening.push((JSON.parse(line) as { pid: number }).pid);
      } catch {
        /* not a log line */
      }
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
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, listening: () => [...listening], output: () => tail, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}
