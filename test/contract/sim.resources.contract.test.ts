/** The resource contract against a simulator site. */
import { startSimSite } from '../../src/sim/index.js';
import { defineResourceContract } from './resource-contract.js';

defineResourceContract('simulator', async () => {
  const site = await startSimSite({ name: 'rc-sim', conductorGroups: ['grp1', ''], tickMs: 5 });
  return { url: site.url, kind: 'sim', group: 'grp1', cleanup: () => site.close() };
});
