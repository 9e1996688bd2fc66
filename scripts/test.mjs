#!/usr/bin/env node
// The project's test command (`npm test`): typecheck, make sure the real
// OpenStack parts the integration tests drive are installed (Debian packages,
// through the project's own script), then run every test file with node's
// test runner. `npm test -- unit` runs only the unit tests (no system packages).
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const suites = process.argv.slice(2);
const wanted = suites.length > 0 ? suites : ['unit', 'contract', 'integration'];

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);

if (wanted.some((s) => s !== 'unit')) {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import ironic, ironicclient, openstack, keystone, gunicorn'], { stdio: 'ignore' });
  if (probe.status !== 0 || !existsSync('/usr/bin/baremetal') || !existsSync('/usr/bin/chromium') || !existsSync('/usr/bin/promtool') || !existsSync('/usr/bin/redis-server')) {
    console.log('Installing the system packages the integration tests need (scripts/install-system-deps.sh)...');
    run('sh', [join(root, 'scripts/install-system-deps.sh')]);
  }
}

const files = [];
for (const suite of wanted) {
  const dir = join(root, 'test', suite);
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).sort()) if (f.endsWith('.test.ts')) files.push(join('test', suite, f));
}
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files]);
