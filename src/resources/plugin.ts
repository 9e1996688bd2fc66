/**
 * One resource family: the engines it gives the API table (src/api/table/),
 * named `<family>.<verb>`. A family's routes, policies and gates are the
 * table's; its module holds only how the family maps onto sites.
 */
import type { Engine } from '../api/engine.js';
import type { ProxyServices } from '../services.js';

export interface ResourceModule {
  /** For the docs and logs, e.g. "ports". */
  name: string;
  engines(services: ProxyServices): Record<string, Engine>;
}
