/**
 * The node contract through the proxy, in front of three simulated sites:
 * the proxy must behave as one Ironic holding the nodes of all of them.
 */
import { startFleet } from '../support/sim-fleet.js';
import { defineNodeContract } from './node-contract.js';

defineNodeContract('proxy over three simulator sites', async () => {
  const fleet = await startFleet([
    { name: 'p1', conductorGroups: ['', 'grp2'], tickMs: 5 },
    { name: 'p2', conductorGroups: ['grp1'], tickMs: 5 },
    { name: 'p3', conductorGroups: ['grp3'], tickMs: 5 },
  ]);
  return { url: fleet.url, groups: ['grp1', '', 'grp3'], federated: true, cleanup: () => fleet.close() };
});
