/**
 * A short run of the fault-injection soak (bench/soak.ts, `npm run soak`):
 * mixed load through the proxy over simulated sites while faults play; it
 * exits 0 only when no answer was wrong, every request that needed only
 * healthy sites succeeded, and the proxy's memory and descriptors stayed
 * flat. About 40 s; a longer site timeout than the default run, so that a
 * busy test machine does not turn a slow healthy answer into a timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

test('fault soak: no wrong answer, healthy sites unaffected, resources flat', { timeout: 240_000 }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'soak.ts'), '--seconds', '30', '--seed', '7', '--workers', '4', '--site-timeout', '3'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, out);
  assert.match(out, /soak: PASS/);
  assert.match(out, /wrong answers: 0; failed healthy requests: 0; resources: flat/);
});
