/**
 * The node contract against a real Ironic 21.4 site (Debian's python3-ironic,
 * started by test/support/real-ironic.ts): the reference the simulator is held
 * to. Two single-process sites, one serving "grp1" and one the default group;
 * the suite runs once against each. Skipped when the harness or Ironic itself
 * is not available.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

import { defineNodeContract, type ContractTarget } from './node-contract.js';

interface RealSite {
  name: string;
  url: string;
}
interface RealSites {
  sites: RealSite[];
  stop(): Promise<void>;
}
interface RealIronicModule {
  startRealSites(specs: Array<{ name: string; conductorGroups: string[] }>): Promise<RealSites>;
}

const harness = new URL('../support/real-ironic.ts', import.meta.url);
const available = existsSync(fileURLToPath(harness)) && existsSync('/usr/lib/python3/dist-packages/ironic');

if (!available) {
  describe('node contract: real Ironic 21.4', () => {
    it('needs test/support/real-ironic.ts and python3-ironic', (t) => {
      t.skip('real Ironic harness not available');
    });
  });
} else {
  const runs = [
    { label: 'real Ironic 21.4, group "grp1"', site: 'contract-grp1', groups: ['grp1'] },
    { label: 'real Ironic 21.4, default group', site: 'contract-default', groups: [''] },
  ];
  let started: Promise<RealSites> | undefined;
  let finished = 0;
  const start = (): Promise<RealSites> => {
    started ??= (async () => {
      const mod = (await import(new URL('../support/real-ironic.js', import.meta.url).href)) as RealIronicModule;
      return mod.startRealSites(runs.map((r) => ({ name: r.site, conductorGroups: r.groups })));
    })();
    return started;
  };
  for (const run of runs) {
    defineNodeContract(run.label, async (): Promise<ContractTarget> => {
      const real = await start();
      return {
        url: real.sites.find((s) => s.name === run.site)!.url,
        groups: run.groups,
        cleanup: async () => {
          if (++finished === runs.length) await real.stop();
        },
      };
    });
  }
}
