/** The runbooks API (not federated yet: registers nothing). */
import type { ResourcePlugin } from './plugin.js';

export const runbooksPlugin: ResourcePlugin = {
  name: 'runbooks',
  advertises: [],
  register() {},
};
