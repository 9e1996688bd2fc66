/**
 * The node contract against simulator sites: one serving a named conductor
 * group (plus the default one), one serving only the default group.
 */
import { startSimSite } from '../../src/sim/index.js';
import { defineNodeContract } from './node-contract.js';

defineNodeContract('simulator, group "grp1"', async () => {
  const site = await startSimSite({ name: 'contract-a', conductorGroups: ['grp1', ''], tickMs: 5 });
  return { url: site.url, groups: ['grp1'], cleanup: () => site.close() };
});

defineNodeContract('simulator, default group', async () => {
  const site = await startSimSite({ name: 'contract-b', tickMs: 5 });
  return { url: site.url, groups: [''], cleanup: () => site.close() };
});
