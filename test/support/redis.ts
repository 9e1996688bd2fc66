/**
 * Test harness: a real Redis (Debian's redis-server) on a free loopback port,
 * in its own temp dir and process group, no persistence, a password. Killed
 * with the test process if a test forgets it (exit-cleanup.ts). `stop()` and
 * `start()` again on the same port let a test take the store away mid-run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { installExitHandlers, liveDirs, liveGroups } from './exit-cleanup.js';
import { getFreePort } from './real-ironic.js';

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface TestRedis {
  port: number;
  password: string;
  /** `redis://:password@127.0.0.1:port/0` (`rediss://` with TLS), as [coordination]backend_url takes it. */
  url: string;
  dir: string;
  running: boolean;
  /** Starts it again (same port, password and dir) after stop(). */
  start(): Promise<void>;
  /** SIGTERM, and waits for the process to end. */
  stop(): Promise<void>;
  /** Stops it and removes its dir. */
  dispose(): Promise<void>;
}

/** `tls`: serve only TLS (no plain port) with this certificate; the URL is then `rediss://`. */
export async function startRedis(opts: { tls?: { cert: string; key: string } } = {}): Promise<TestRedis> {
  installExitHandlers();
  const port = await getFreePort();
  const password = randomBytes(12).toString('hex');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ironic-proxy-redis-'));
  liveDirs.add(dir);
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    const proc = spawn(
      REDIS_SERVER,
      [
        ...(opts.tls
          ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', opts.tls.cert, '--tls-key-file', opts.tls.key, '--tls-auth-clients', 'no']
          : ['--port', String(port)]),
        '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--requirepass', password, '--daemonize', 'no', '--loglevel', 'notice'],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    liveGroups.add(proc.pid!);
    exited = new Promise((resolve) => proc.once('exit', () => {
      liveGroups.delete(proc.pid!);
      resolve();
    }));
    // Ready when it says so; an early exit is a failure with its output.
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8');
        if (output.includes('Ready to accept connections')) {
          proc.stdout!.off('data', onData);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
      proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)));
    });
    proc.stdout!.resume();
    proc.stderr!.resume();
  };

  const stop = async (): Promise<void> => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      /* gone */
    }
    await exited;
  };

  await start();
  const redis: TestRedis = {
    port,
    password,
    url: `${opts.tls ? 'rediss' : 'redis'}://:${password}@127.0.0.1:${port}/0`,
    dir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    start,
    stop,
    dispose: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    },
  };
  return redis;
}
