/**
 * A production start (a config file given) never loads the simulator: the
 * modules reachable by static imports from the command-line entry points
 * include no src/sim module and not the demo, which cli.ts imports only
 * dynamically on the path without a config file.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Relative module specifiers of static imports and re-exports (`import(…)` calls are not static). */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /^\s*(?:import|export)\s(?:[^'"]*?\sfrom\s)?['"](\.[^'"]+)['"]/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1]!);
  return out;
}

function toSource(from: string, spec: string): string {
  const p = resolve(dirname(from), spec).replace(/\.js$/, '.ts');
  assert.ok(existsSync(p), `${relative(SRC, from)} imports ${spec}, which is not a source file`);
  return p;
}

function reachable(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...entries];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const spec of staticImports(f)) todo.push(toSource(f, spec));
  }
  return seen;
}

test('the production entry points do not reach the simulator or the demo by static imports', () => {
  const graph = reachable([join(SRC, 'main.ts'), join(SRC, 'cli.ts'), join(SRC, 'reconcile-cli.ts')]);
  assert.ok(graph.size > 20, `the walk found the server's modules (${graph.size})`);
  assert.ok(graph.has(join(SRC, 'start.ts')), 'the walk reaches start.ts');
  const bad = [...graph].map((f) => relative(SRC, f)).filter((f) => f.startsWith('sim/') || f === 'demo.ts');
  assert.deepEqual(bad, []);
});

test('the demo (and through it the simulator) is imported dynamically, on the path without a config file', () => {
  const cli = readFileSync(join(SRC, 'cli.ts'), 'utf8');
  const at = cli.indexOf("await import('./demo.js')");
  assert.ok(at > 0, 'cli.ts imports the demo dynamically');
  assert.ok(cli.lastIndexOf('if (!configFile)', at) > 0, 'only when no config file is given');
  assert.ok(reachable([join(SRC, 'demo.ts')]).has(join(SRC, 'sim', 'index.ts')), 'the demo does load the simulator (the walk would see it)');
});
