/** The chassis API (not federated yet: registers nothing). */
import type { ResourcePlugin } from './plugin.js';

export const chassisPlugin: ResourcePlugin = {
  name: 'chassis',
  advertises: [],
  register() {},
};
