/**
 * The production log destination (standard output, batched): every line a
 * process logged reaches standard output whole and in order — those still
 * waiting in the batch when the process flushes and exits as the proxy does
 * (log.flush, then exit), and those left when a process exits without
 * flushing (pino's exit hook) — and lines with non-ASCII text keep their bytes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const LOG_MODULE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/log.ts');

/** Runs a child that logs `count` lines then ends as `ending` says; its standard output, as lines. */
async function childLines(count: number, ending: 'flush-then-exit' | 'exit'): Promise<string[]> {
  const script = `
    const { createLogger } = await import(${JSON.stringify(LOG_MODULE)});
    const log = createLogger({ level: 'info' });
    for (let i = 0; i < ${count}; i++) log.info({ i, path: '/v1/nodes/nœud-' + i }, 'request');
    ${ending === 'exit' ? 'process.exit(0);' : 'log.flush(() => process.exit(0));'}
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, err);
  return Buffer.concat(out).toString('utf8').split('\n').filter(Boolean);
}

describe('batched standard output', () => {
  for (const ending of ['flush-then-exit', 'exit'] as const) {
    test(`every line arrives, whole and in order (${ending})`, async () => {
      // More than one batch (8 KiB holds ~60 of these lines) and a partial last one.
      const lines = await childLines(1001, ending);
      assert.equal(lines.length, 1001);
      lines.forEach((line, i) => {
        const doc = JSON.parse(line) as { i: number; path: string; msg: string };
        assert.equal(doc.i, i);
        assert.equal(doc.path, `/v1/nodes/nœud-${i}`);
        assert.equal(doc.msg, 'request');
      });
    });
  }
});
