/**
 * The node contract against a simulator site serving a named conductor group
 * and the default one (the suite creates nodes in both).
 */
import { startSimSite } from '../../src/sim/index.js';
import { defineNodeContract } from './node-contract.js';

defineNodeContract('simulator, groups "grp1" and ""', async () => {
  const site = await startSimSite({ name: 'contract-a', conductorGroups: ['grp1', ''], tickMs: 5 });
  return { url: site.url, groups: ['grp1', ''], cleanup: () => site.close() };
});
