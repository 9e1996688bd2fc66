/**
 * The real-Ironic tests need Debian's python3-ironic, which the test command
 * (scripts/test.mjs) installs before it runs them: its absence is a failure
 * of the environment, reported as such, never a reason to skip.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

import { DEFAULT_PYTHON } from '../support/real-ironic.js';

/** Fails, saying what is missing and how to get it, unless a real Ironic 21.4 can be started. */
export function assertRealIronicAvailable(): void {
  const hint = 'install it with scripts/install-system-deps.sh (`npm test` does so before running the tests)';
  assert.ok(existsSync(DEFAULT_PYTHON), `${DEFAULT_PYTHON} is missing: the real-Ironic tests need it; ${hint}`);
  const probe = spawnSync(DEFAULT_PYTHON, ['-c', 'import ironic, ironic.cmd.singleprocess, ironic.cmd.conductor'], { encoding: 'utf8' });
  assert.equal(
    probe.status,
    0,
    `python3-ironic is not importable by ${DEFAULT_PYTHON} (${(probe.stderr || String(probe.error ?? '')).trim().split('\n').pop()}): the real-Ironic tests need it; ${hint}`,
  );
}
