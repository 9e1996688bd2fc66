/**
 * A proxy in a child process of its own (started with --expose-gc), for
 * tests that must see the proxy's heap alone — not the simulated sites',
 * not the test's — and that it stays alive whatever it is sent.
 *
 *   const child = await startProxyChild(iniText);
 *   … requests to child.url …
 *   const bytes = await child.heapUsed(); // after a full collection
 *   await child.close();
 *
 * Run as a script (the child side): reads the INI from PROXY_CHILD_INI,
 * starts the proxy, sends `{ url }` to the parent, then answers
 * `{ op: 'heap' }` with `{ heapUsed }` measured after gc().
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ProxyChild {
  url: string;
  pid: number;
  /** Bytes of JS heap in use after a forced full collection (two, to let finalisers run). */
  heapUsed(): Promise<number>;
  /** Resolves with how the child ended, if it did (for "the process stays alive"). */
  readonly exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  close(): Promise<void>;
}

const SELF = fileURLToPath(import.meta.url);

export async function startProxyChild(ini: string): Promise<ProxyChild> {
  const child: ChildProcess = fork(SELF, [], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, PROXY_CHILD_INI: ini },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exited: ProxyChild['exited'];
  const gone = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { url?: string; error?: string }) => (m.url ? resolve(m.url) : reject(new Error(m.error))));
    child.once('exit', (code) => reject(new Error(`proxy child exited (${code}) before it listened`)));
  });
  return {
    url,
    pid: child.pid!,
    get exited() {
      return exited;
    },
    heapUsed: () =>
      new Promise<number>((resolve, reject) => {
        if (exited) return reject(new Error(`proxy child has exited: ${JSON.stringify(exited)}`));
        child.once('message', (m: { heapUsed: number }) => resolve(m.heapUsed));
        child.send({ op: 'heap' });
      }),
    close: async () => {
      if (!exited) {
        child.send({ op: 'close' });
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(t);
      }
    },
  };
}

async function childMain(): Promise<void> {
  const { loadConfigText } = await import('../../src/config/load.js');
  const { createLogger } = await import('../../src/log.js');
  const { startProxy } = await import('../../src/start.js');
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the proxy child needs --expose-gc');
  try {
    const proxy = await startProxy(loadConfigText(process.env.PROXY_CHILD_INI!), {
      log: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    });
    process.on('message', (m: { op: string }) => {
      if (m.op === 'heap') {
        gc();
        gc();
        process.send!({ heapUsed: process.memoryUsage().heapUsed });
      } else if (m.op === 'close') {
        void proxy.close().then(() => process.exit(0));
      }
    });
    // The parent went away without closing: do not linger.
    process.on('disconnect', () => process.exit(0));
    process.send!({ url: proxy.url });
  } catch (err) {
    process.send!({ error: String(err) });
    process.exit(1);
  }
}

if (process.argv[1] === SELF && process.env.PROXY_CHILD_INI !== undefined) void childMain();
