/**
 * The node contract against a real Ironic 21.4 site (Debian's python3-ironic,
 * started by test/support/real-ironic.ts): the reference the simulator is held
 * to. One site serving "grp1" and the default group (json-rpc: an API +
 * conductor process for "grp1" and a conductor process for ""); the suite
 * creates nodes in both. Without python3-ironic this fails (the test command
 * installs it), it is never skipped.
 */
import { describe, it } from 'node:test';

import { startRealSites } from '../support/real-ironic.js';
import { defineNodeContract, type ContractTarget } from './node-contract.js';
import { assertRealIronicAvailable } from './real-harness.js';

describe('real Ironic harness', () => {
  it('python3-ironic is installed', () => {
    assertRealIronicAvailable();
  });
});

defineNodeContract('real Ironic 21.4, groups "grp1" and ""', async (): Promise<ContractTarget> => {
  assertRealIronicAvailable();
  const real = await startRealSites([{ name: 'contract-real', conductorGroups: ['grp1', ''] }]);
  const site = real.site('contract-real');
  return { url: site.url, groups: site.conductorGroups, cleanup: () => real.stop() };
});
