/** The shards API (not federated yet: registers nothing). */
import type { ResourcePlugin } from './plugin.js';

export const shardsPlugin: ResourcePlugin = {
  name: 'shards',
  advertises: [],
  register() {},
};
