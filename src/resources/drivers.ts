/** The drivers API (not federated yet: registers nothing). */
import type { ResourcePlugin } from './plugin.js';

export const driversPlugin: ResourcePlugin = {
  name: 'drivers',
  advertises: [],
  register() {},
};
