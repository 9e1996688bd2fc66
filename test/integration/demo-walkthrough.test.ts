/**
 * The demo's walk-through, as `npm start` prints it, run line by line with
 * the real `baremetal` CLI (python3-ironicclient) against the demo's entry
 * (startDemo, on free ports), each step checked against the simulated sites
 * themselves; and the README shows the same walk-through as `npm start` on
 * its default ports prints it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { startDemo, walkThrough, type RunningDemo } from '../../src/demo.js';

interface Ran {
  cmd: string;
  stdout: string;
}

/**
 * Runs one printed line in bash with the environment of the printed `export`
 * line (asynchronously: the demo answers from this very process).
 */
function run(cmd: string, env: Record<string, string>): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', cmd], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 180_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`\`${cmd}\` failed (${String(err.code)}): ${stderr}${stdout}`));
      else resolve({ cmd, stdout });
    });
  });
}

/** The cells of one column of a cliff table. */
function column(table: string, index: number): string[] {
  return table
    .split('\n')
    .filter((l) => l.startsWith('| '))
    .slice(1)
    .map((l) => l.split('|')[index + 1]!.trim());
}

describe('the demo walk-through with the real baremetal CLI', () => {
  let demo: RunningDemo;
  let env: Record<string, string>;
  /** The printed steps: title, then the command lines under it. */
  const steps: Array<{ title: string; commands: string[] }> = [];

  before(async () => {
    demo = await startDemo({ port: 0 });
    const lines = demo.text.split('\n');
    const exp = lines.find((l) => l.trim().startsWith('export OS_ENDPOINT='));
    assert.ok(exp, 'the demo prints the export line');
    env = Object.fromEntries(exp.trim().slice('export '.length).split(' ').map((kv) => kv.split('=') as [string, string]));
    const start = lines.findIndex((l) => l.startsWith('Walk-through'));
    for (const l of lines.slice(start + 1)) {
      const m = /^ {2}# \d+\. (.*)$/.exec(l);
      if (m) steps.push({ title: m[1]!, commands: [] });
      else if (l.startsWith('  ') && steps.length) steps[steps.length - 1]!.commands.push(l.slice(2));
    }
    assert.equal(steps.length, 5, 'five steps are printed');
  });

  after(async () => {
    await demo?.close();
  });

  const site = (name: string) => demo.sims.find((s) => s.name === name)!;

  it('1. a node in each group lands at the site of its group', async () => {
    for (const c of steps[0]!.commands) await run(c, env);
    const at = (name: string): string[] => demo.sims.filter((s) => s.api.store.getByName(name)).map((s) => s.name);
    assert.deepEqual(at('demo-a'), ['east']);
    assert.deepEqual(at('demo-b'), ['west']);
    assert.deepEqual(at('demo-c'), ['edge']);
  });

  it('2. a port on each node, at its node\'s site', async () => {
    for (const c of steps[1]!.commands) await run(c, env);
    for (const [siteName, node, mac] of [['east', 'demo-a', '52:54:00:00:0d:01'], ['west', 'demo-b', '52:54:00:00:0d:02'], ['edge', 'demo-c', '52:54:00:00:0d:03']] as const) {
      const s = site(siteName);
      const port = s.api.ports.find((p) => p.address === mac);
      assert.ok(port, `${mac} is at ${siteName}`);
      assert.equal(port.node_id, s.api.store.getByName(node)!.id);
      for (const other of demo.sims.filter((x) => x !== s)) assert.equal(other.api.ports.find((p) => p.address === mac), undefined);
    }
  });

  it('3. a chassis created once is listed by every site with the same UUID', async () => {
    const [create, ...perSite] = steps[2]!.commands;
    await run(create!, env);
    assert.equal(perSite.length, 3);
    const seen: string[][] = [];
    for (const c of perSite) seen.push(column((await run(c, env)).stdout, 0));
    const uuid = seen[0]![0]!;
    assert.match(uuid, /^[0-9a-f-]{36}$/);
    for (const s of seen) assert.deepEqual(s, [uuid]);
    for (const s of demo.sims) assert.equal(s.api.chassis.get(uuid)?.description, 'demo rack', s.name);
  });

  it('4. an allocation lands at the only site that can serve it', async () => {
    const [prepare, create, show] = steps[3]!.commands;
    await run(prepare!, env);
    await run(create!, env);
    const edge = site('edge');
    const alloc = edge.api.allocations.find((a) => a.name === 'demo-alloc');
    assert.ok(alloc, 'the allocation is at edge');
    assert.equal(alloc.state, 'active');
    assert.equal(alloc.node_id, edge.api.store.getByName('demo-c')!.id);
    for (const s of demo.sims.filter((x) => x !== edge)) assert.equal(s.api.allocations.size, 0, `${s.name} holds no allocation`);
    assert.equal((await run(show!, env)).stdout.trim(), alloc.uuid);
  });

  it('5. one listing over all sites, sorted by name descending', async () => {
    const names = column((await run(steps[4]!.commands[0]!, env)).stdout, 1);
    const all = demo.sims.flatMap((s) => s.api.store.all().map((n) => n.name as string));
    assert.deepEqual(names, [...all].sort().reverse());
    assert.ok(names.includes('demo-a') && names.includes('east-node-0') && names.includes('west-node-0') && names.includes('edge-node-0'));
  });

  it('the README shows the walk-through npm start prints on its default ports', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const printed = walkThrough(['http://127.0.0.1:6386', 'http://127.0.0.1:6387', 'http://127.0.0.1:6388']);
    for (const [i, s] of printed.entries()) {
      assert.ok(readme.includes(`# ${i + 1}. ${s.title}\n`), `README has step ${i + 1}`);
      for (const c of s.commands) assert.ok(readme.includes(`\n${c}\n`), `README has \`${c}\``);
    }
    assert.ok(readme.includes('export OS_ENDPOINT=http://127.0.0.1:6385 OS_AUTH_TYPE=none OS_BAREMETAL_API_VERSION=latest'));
  });
});
