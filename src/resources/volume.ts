/** The volume API (not federated yet: registers nothing). */
import type { ResourcePlugin } from './plugin.js';

export const volumePlugin: ResourcePlugin = {
  name: 'volume',
  advertises: [],
  register() {},
};
