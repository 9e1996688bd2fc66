/**
 * Allocations (ironic/api/controllers/v1/allocation.py, 1.52). The
 * node-scoped forms /v1/nodes/{node_ident}/allocation are in nodes.ts.
 *
 * Below 1.52, whatever the path below /v1/allocations: GET → 404, any other
 * method → 405, both "The API version does not allow allocations", from the
 * controller's _route, before any policy. PATCH also needs 1.57: below it,
 * 405 "The API version does not allow updating allocations", before any
 * policy.
 *
 * From 1.52: `args.validate` (allocation_ident a UUID or logical name — for
 * PATCH any string, a bad name then being a 400 from the lookup —, node a
 * UUID or name, marker a UUID, limit an integer, fields a list → 400); a
 * POST body is schema-checked first (400); any other query parameter → 400
 * "Unexpected arguments". No /detail collection (GET
 * /v1/allocations/detail is the allocation named "detail": 404).
 *
 * ── GET /v1/allocations — in Ironic's order ──────────────────────────────
 *   1. check_list_policy('allocation', owner=<query owner>):
 *      baremetal:allocation:list_all (caller's credentials) → allowed: the
 *      `owner` parameter, if any, is the filter. Denied: a caller without a
 *      project_id → 403 (allocation:list_all); an `owner` naming another
 *      project than the caller's → 403 (allocation:list_all); else
 *      baremetal:allocation:list (403) and the listing is forced to
 *      owner = the caller's project (allocations it OWNS; there is no lessee
 *      for allocations).
 *   2. `owner` in fields, or the `owner` parameter, below 1.60 → 406.
 *   3. limit ≤ 0, sort_dir, sort_key extra/candidate_nodes/traits → 400;
 *      marker → 404 (not policy-checked).
 *   4. the `node` filter, if given: looked up by UUID or name — missing →
 *      400 "Node <ident> could not be found." (not a 404) — and
 *      baremetal:node:get with the node's owner/lessee as target, NOT
 *      concealed yet answered 404 "Resource could not be found." when
 *      denied. So, unlike ports, allocations' node filter IS policy-checked.
 *   5. every allocation of the page must pass baremetal:allocation:get with
 *      target allocation.owner, else the whole listing is 403 (with the
 *      forced owner filter this only bites custom policies).
 *   Filters: node, resource_class, state, owner, all combined (AND); no
 *   combination is refused. Default fields: all.
 *
 * ── GET/PATCH/DELETE /v1/allocations/{allocation_ident} ──────────────────
 *   check_allocation_policy_and_retrieve(rule, ident):
 *   1. the allocation by UUID or name: none → 404 "Allocation <ident> could
 *      not be found." (before any policy); an invalid name → 400;
 *   2. baremetal:allocation:get with target allocation.owner (the key always
 *      set, None for an unowned allocation) → denied: the same 404, for
 *      every caller (concealed);
 *   3. the rule (allocation:get / :update / :delete) → 403.
 *   Then GET: fields `owner` below 1.60 → 406. PATCH: allowed paths name,
 *   extra (owner from 1.60, else 406) → 400, name validity → 400.
 *
 * ── POST /v1/allocations: 'allocation-create' (see types.ts) ─────────────
 *   body schema (400) → allocation:create, and allocation:create_pre_rbac
 *   while [oslo_policy]enforce_new_defaults is false and the body has no
 *   owner; on a denial the create_restricted path (403s) → body `owner`
 *   below 1.60 → 406 → invalid name → 400 → owner forced to the caller's
 *   project (new defaults, not system-scoped, no owner in the body; another
 *   owner needs create_restricted, else 403) → `node` (backfill: below 1.58
 *   → 400; missing or not visible → 400 "Node <ident> could not be found.")
 *   → resource_class required unless backfilling (400) → candidate_nodes
 *   looked up within the caller's project (owner or lessee) unless
 *   create_restricted passes (not found → 400).
 *   Note: with the default enforce_new_defaults = false, a project member
 *   whose body names an owner passes allocation:create and skips the pre-RBAC
 *   rule: the owner is NOT compared with its project. Ironic 21.4 does so;
 *   so must the proxy.
 */
import { ALLOCATION_CREATE_BODY, PATCH_BODY } from '../body.js';
import type { ApiEntry } from '../types.js';
import { PECAN_WHY, type FieldRedaction, type RefusedForm } from './shapes.js';

const ALLOCATION = { kind: 'allocation', param: 'allocation_ident' } as const;

/** Ironic's answer to every non-GET form below 1.52 (GET: the plain 404 with the same message). */
const BELOW_52_WRITE = { status: 405, afterAuthz: false } as const;

/** AllocationsController.get_all keyword arguments, in the handler's order. */
export const ALLOCATION_LIST_QUERY = ['node', 'resource_class', 'state', 'marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'owner'] as const;

export const ALLOCATION_ENTRIES: readonly ApiEntry[] = [
  {
    method: 'GET',
    path: '/v1/allocations',
    query: ALLOCATION_LIST_QUERY,
    since: 52,
    authz: {
      check: 'list',
      kind: 'allocation',
      ownerParam: 'owner',
      nodeParam: 'node',
      itemRule: 'baremetal:allocation:get',
    },
    engine: 'allocation.list',
    doc: 'List allocations (list_all, else list restricted to allocations the project owns); merged over all sites.',
  },
  {
    method: 'GET',
    path: '/v1/allocations/{allocation_ident}',
    object: ALLOCATION,
    query: ['fields'],
    since: 52,
    authz: { check: 'allocation', rules: ['baremetal:allocation:get'] },
    engine: 'allocation.show',
    doc: 'Show an allocation by UUID or name (an allocation the caller may not get is a 404).',
  },
  {
    method: 'POST',
    path: '/v1/allocations',
    query: [],
    since: 52,
    belowSince: { ...BELOW_52_WRITE },
    authz: {
      check: 'allocation-create',
      rules: ['baremetal:allocation:create'],
      preRbac: 'baremetal:allocation:create_pre_rbac',
      restricted: 'baremetal:allocation:create_restricted',
    },
    engine: 'allocation.create',
    body: ALLOCATION_CREATE_BODY,
    doc: "Create an allocation (owner rules per 'allocation-create'); sent to the site its candidates or backfilled node live at.",
  },
  {
    method: 'PATCH',
    path: '/v1/allocations/{allocation_ident}',
    object: ALLOCATION,
    query: [],
    since: 57,
    belowSince: { status: 405, afterAuthz: false },
    authz: { check: 'allocation', rules: ['baremetal:allocation:update'] },
    engine: 'allocation.update',
    body: PATCH_BODY,
    doc: "Update an allocation's name or extra (owner from 1.60) at its site.",
  },
  {
    method: 'DELETE',
    path: '/v1/allocations/{allocation_ident}',
    object: ALLOCATION,
    query: [],
    since: 52,
    belowSince: { ...BELOW_52_WRITE },
    authz: { check: 'allocation', rules: ['baremetal:allocation:delete'] },
    engine: 'allocation.delete',
    doc: 'Delete an allocation at its site.',
  },
];

/** Allocations carry no secret: only `owner` is hidden below 1.60 (allocation_sanitize). */
export const ALLOCATION_REDACTIONS: readonly FieldRedaction[] = [{ field: 'owner', when: 'below', minor: 60, action: 'remove' }];

/** Checked against a real Ironic 21.4. */
export const PECAN_FORMS_REFUSED: readonly RefusedForm[] = [
  {
    method: 'GET',
    example: 'GET /v1/allocations/<allocation_ident>/name',
    why: `${PECAN_WHY.fieldsSegment} (same as ?fields=name).`,
  },
  {
    method: 'PATCH',
    example: 'PATCH /v1/allocations?allocation_ident=<ident>',
    why: `${PECAN_WHY.queryArg}: allocation_ident is the patch handler's argument.`,
  },
  {
    method: 'DELETE',
    example: 'DELETE /v1/allocations?allocation_ident=<ident>',
    why: `${PECAN_WHY.queryArg}: allocation_ident is the delete handler's argument.`,
  },
  {
    method: 'DELETE',
    example: 'DELETE /v1/allocations with the JSON body {"allocation_ident": "<ident>"}',
    why: `${PECAN_WHY.queryArg}.`,
  },
];
