/**
 * The resource contract against a real Ironic 21.4 (Debian's python3-ironic):
 * the reference the simulator is held to. Never skipped: without
 * python3-ironic it fails (the test command installs it).
 */
import { describe, it } from 'node:test';

import { startRealSites } from '../support/real-ironic.js';
import { assertRealIronicAvailable } from './real-harness.js';
import { defineResourceContract, type ResourceTarget } from './resource-contract.js';

describe('real Ironic harness', () => {
  it('python3-ironic is installed', () => {
    assertRealIronicAvailable();
  });
});

defineResourceContract('real Ironic 21.4', async (): Promise<ResourceTarget> => {
  assertRealIronicAvailable();
  const real = await startRealSites([{ name: 'rc-real', conductorGroups: ['grp1', ''] }]);
  const site = real.site('rc-real');
  return { url: site.url, kind: 'real', group: 'grp1', cleanup: () => real.stop() };
});
