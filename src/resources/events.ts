/** The events API (not federated yet: registers nothing). */
import type { ResourcePlugin } from './plugin.js';

export const eventsPlugin: ResourcePlugin = {
  name: 'events',
  advertises: [],
  register() {},
};
