/**
 * promtool (Debian's prometheus, installed by scripts/install-system-deps.sh)
 * accepts the alert rules shipped in deploy/prometheus/ — PromQL syntax,
 * durations, templates. That the metrics they name exist is
 * test/unit/monitoring-files.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const PROMTOOL = '/usr/bin/promtool';

test('promtool check rules accepts deploy/prometheus/ironic-proxy-alerts.yml', () => {
  assert.ok(existsSync(PROMTOOL), `${PROMTOOL} is missing: run scripts/install-system-deps.sh`);
  const root = new URL('../../', import.meta.url).pathname;
  const r = spawnSync(PROMTOOL, ['check', 'rules', 'deploy/prometheus/ironic-proxy-alerts.yml'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS: (\d+) rules found/);
  assert.ok(Number(/SUCCESS: (\d+) rules/.exec(r.stdout)![1]) >= 10);
});
