/**
 * Shards (ironic/api/controllers/v1/shard.py, 1.82): the shard names of the
 * nodes, with how many nodes each has.
 *
 * Order: below 1.82 → 404 "The API version does not allow shards" (any
 * other method → 405), from the controller's _route, before any policy →
 * check_policy('baremetal:shards:get') — note the plural `shards` in the
 * rule name —, the caller's own credentials as target (default: system
 * readers and the service role; project-scoped callers → 403).
 * The handler takes no argument: ANY query parameter is a 500 ("get_all()
 * got an unexpected keyword argument"). GET /v1/shards/{anything} is always
 * a 404 (get_one aborts): no entry. Nodes without a shard are counted under
 * the name "None" (a string).
 */
import type { ApiEntry } from '../types.js';
import type { FieldRedaction, RefusedForm } from './shapes.js';

export const SHARD_ENTRIES: readonly ApiEntry[] = [
  {
    method: 'GET',
    path: '/v1/shards',
    query: [],
    since: 82,
    authz: { check: 'policy', rules: ['baremetal:shards:get'] },
    engine: 'shard.list',
    doc: 'Shard names and node counts, summed by name over all sites.',
  },
];

export const SHARD_REDACTIONS: readonly FieldRedaction[] = [];

/** Nothing: the only form Ironic accepts is the entry. */
export const PECAN_FORMS_REFUSED: readonly RefusedForm[] = [];
