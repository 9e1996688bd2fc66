/** The deploy-templates API (not federated yet: registers nothing). */
import type { ResourcePlugin } from './plugin.js';

export const deployTemplatesPlugin: ResourcePlugin = {
  name: 'deploy-templates',
  advertises: [],
  register() {},
};
