/** The agent API (not federated yet: registers nothing). */
import type { ResourcePlugin } from './plugin.js';

export const agentPlugin: ResourcePlugin = {
  name: 'agent',
  advertises: [],
  register() {},
};
