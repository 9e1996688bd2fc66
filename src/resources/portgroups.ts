/** The portgroups API (not federated yet: registers nothing). */
import type { ResourcePlugin } from './plugin.js';

export const portgroupsPlugin: ResourcePlugin = {
  name: 'portgroups',
  advertises: [],
  register() {},
};
