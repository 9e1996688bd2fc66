/**
 * Configuration reload: with several workers, SIGHUP re-reads the file and
 * replaces the workers one set at a time (a rolling restart); a broken file
 * changes nothing. Runs the real command line in a child process.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { startSimSite, type SimSite } from '../../src/sim/index.js';

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  return port;
}

/** Polls `probe` until it returns a value, for at most `ms`. */
async function until<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let a: SimSite;
let b: SimSite;
let dir: string;
let child: ChildProcess;
let url: string;

const config = (sites: SimSite[], port: number, broken = false): string =>
  `[DEFAULT]\ngroups = ${sites.map((s, i) => `${i === 0 ? '_' : `g${i}`}:${s.name}`).join(',')}\n[api]\nport = ${port}\n` +
  sites.map((s) => `[group:${s.name}]\nendpoint_override = ${broken ? 'not a url' : s.url}\n`).join('');

const siteNames = async (): Promise<string[] | undefined> => {
  const res = await fetch(`${url}/readyz`);
  if (res.status !== 200) return undefined;
  return ((await res.json()) as { sites: Array<{ name: string }> }).sites.map((s) => s.name);
};

before(async () => {
  [a, b] = await Promise.all([startSimSite({ name: 'ra', nodes: 1 }), startSimSite({ name: 'rb', conductorGroups: ['g1'], nodes: 1 })]);
  dir = mkdtempSync(join(tmpdir(), 'ipx-reload-'));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  writeFileSync(join(dir, 'p.conf'), config([a], port));
  child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config-file', join(dir, 'p.conf'), '--workers', '2'], {
    stdio: 'ignore',
  });
  await until(siteNames, 30_000, 'the proxy to serve');
});

after(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  await Promise.all([a.close(), b.close()]);
  rmSync(dir, { recursive: true, force: true });
});

test('SIGHUP rolls the workers onto the new configuration; a broken file changes nothing', async () => {
  assert.deepEqual(await siteNames(), ['ra']);
  const port = Number(new URL(url).port);
  writeFileSync(join(dir, 'p.conf'), config([a, b], port));
  child.kill('SIGHUP');
  const names = await until(async () => {
    const n = await siteNames();
    return n && n.length === 2 ? n : undefined;
  }, 30_000, 'the new site to appear');
  assert.deepEqual(names, ['ra', 'rb']);
  const list = await fetch(`${url}/v1/nodes?fields=name`, { headers: { 'X-OpenStack-Ironic-API-Version': 'latest' } });
  assert.deepEqual(((await list.json()) as { nodes: Array<{ name: string }> }).nodes.map((n) => n.name).sort(), ['ra-node-0', 'rb-node-0']);

  writeFileSync(join(dir, 'p.conf'), config([a, b], port, true));
  child.kill('SIGHUP');
  // The refusal is immediate (the file is checked before any worker changes): the service goes on as it was.
  for (let i = 0; i < 5; i++) assert.deepEqual(await siteNames(), ['ra', 'rb']);
  assert.equal(child.exitCode, null, 'the proxy is still running');

  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
});
