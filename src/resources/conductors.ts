/** The conductors API (not federated yet: registers nothing). */
import type { ResourcePlugin } from './plugin.js';

export const conductorsPlugin: ResourcePlugin = {
  name: 'conductors',
  advertises: [],
  register() {},
};
