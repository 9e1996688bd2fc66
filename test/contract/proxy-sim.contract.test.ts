/**
 * The node contract through the proxy, in front of three simulated sites:
 * the proxy must behave as one Ironic holding the nodes of all of them.
 */
import { startFleet } from '../support/sim-fleet.js';
import { Client, waitFor } from './http.js';
import { defineNodeContract } from './node-contract.js';

const SITES = [
  { name: 'p1', conductorGroups: ['', 'grp2'], tickMs: 5 },
  { name: 'p2', conductorGroups: ['grp1'], tickMs: 5 },
  { name: 'p3', conductorGroups: ['grp3'], tickMs: 5 },
];

defineNodeContract('proxy over three simulator sites', async () => {
  // a site that misses the proxy's version discovery at start-up is asked again a second later
  const fleet = await startFleet(SITES, { proxyIni: 'version_refresh_interval = 1' });
  try {
    // ready once every site has answered version discovery (until then /v1/ is a 503)
    const c = new Client(fleet.url);
    await waitFor('the proxy to know every site\'s versions', async () => {
      const r = await c.get('/v1/');
      return r.status === 200 && SITES.every((s) => fleet.proxy.services.registry.siteInfo(s.name) !== undefined) ? true : undefined;
    });
  } catch (err) {
    await fleet.close();
    throw err;
  }
  return {
    url: fleet.url,
    groups: ['grp1', '', 'grp3'],
    federated: true,
    // the proxy's site order is the order of the [group:SITE] sections startFleet writes
    siteGroups: SITES.map((s) => s.conductorGroups),
    cleanup: () => fleet.close(),
  };
});
