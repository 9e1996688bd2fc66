/**
 * The node contract against a real Ironic 21.4 site (Debian's python3-ironic,
 * started by test/support/real-ironic.ts): the reference the simulator is held
 * to. One site serving the default group and "grp1"; the suite runs once per
 * group. Skipped when the harness or Ironic itself is not available.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

import { defineNodeContract, type ContractTarget } from './node-contract.js';

interface RealSite {
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
    { label: 'real Ironic 21.4, group "grp1"', groups: ['grp1'] },
    { label: 'real Ironic 21.4, default group', groups: [''] },
  ];
  let started: Promise<RealSites> | undefined;
  let finished = 0;
  const start = (): Promise<RealSites> => {
    started ??= (async () => {
      const mod = (await import(new URL('../support/real-ironic.js', import.meta.url).href)) as RealIronicModule;
      return mod.startRealSites([{ name: 'contract-real', conductorGroups: ['', 'grp1'] }]);
    })();
    return started;
  };
  for (const run of runs) {
    defineNodeContract(run.label, async (): Promise<ContractTarget> => {
      const real = await start();
      return {
        url: real.sites[0]!.url,
        groups: run.groups,
        cleanup: async () => {
          if (++finished === runs.length) await real.stop();
        },
      };
    });
  }
}
