/** The ports API (not federated yet: registers nothing). */
import type { ResourcePlugin } from './plugin.js';

export const portsPlugin: ResourcePlugin = {
  name: 'ports',
  advertises: [],
  register() {},
};
