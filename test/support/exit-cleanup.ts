/**
 * Test services (Ironic sites, Keystone) run in their own process groups
 * and temp dirs; whatever is still registered here when the test process
 * exits or is signalled is killed and removed, so nothing outlives a test run.
 * One registry for every harness, so one handler covers them all.
 */
import * as fs from 'node:fs';

/** Process-group ids of running services. */
export const liveGroups = new Set<number>();
/** Temp dirs to remove. */
export const liveDirs = new Set<string>();
let handlersInstalled = false;

function killAllSync(): void {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  liveGroups.clear();
  for (const d of liveDirs) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  liveDirs.clear();
}

export function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllSync();
      process.removeListener(sig, onSignal);
      // Keep the default behaviour (terminate) unless someone else handles it.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}
