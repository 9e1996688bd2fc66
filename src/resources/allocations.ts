/** The allocations API (not federated yet: registers nothing). */
import type { ResourcePlugin } from './plugin.js';

export const allocationsPlugin: ResourcePlugin = {
  name: 'allocations',
  advertises: [],
  register() {},
};
