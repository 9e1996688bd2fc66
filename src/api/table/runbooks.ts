/**
 * Runbooks (1.92): NOT in Ironic 21.4. Modelled on upstream Ironic's
 * ironic/api/controllers/v1/runbook.py and utils.py as introduced
 * (openstack/ironic 48f50248c, "Self-Service via Runbooks", 2024-05-29) and
 * unchanged in shape on master (7bc6aba7d, 2026-08-20). Global objects like
 * deploy templates: the same UUID at every site, writes replicated
 * (docs/federation/global-objects.md). The proxy serves them only at 1.92
 * and above, i.e. when every site supports them (the proxy's range is the
 * sites' common range); below that, Ironic's answer: GET → 404, any other
 * method → 405, "The API version does not allow runbooks".
 *
 * Unlike deploy templates, runbooks have an OWNER and a PUBLIC flag, and
 * their rules are checked with `runbook.owner` as target:
 *
 * ── GET /v1/runbooks: check_list_policy('runbook', project) ──────────────
 *   baremetal:runbook:list_all (caller's credentials) → every runbook;
 *   denied: no project_id → 403 (runbook:list_all); `project` given and not
 *   the caller's project → 403; else baremetal:runbook:list (403) and the
 *   listing is forced to runbooks the project OWNS or that are PUBLIC.
 *   Upstream quirk: `project` is validated as a BOOLEAN (args.boolean), so
 *   `?project=<id>` is a 400, `?project=true` reaches check_list_policy as
 *   True — never equal to a project id: a restricted caller gets 403, a
 *   list_all caller a filter on project True. Then fields/sort_key versions
 *   (406), detail below 1.43 (400), fields with detail (400), sort_key
 *   extra/steps (400), marker (404). Default fields: uuid, name.
 *
 * ── GET/PATCH/DELETE /v1/runbooks/{runbook_ident}: 'runbook' ─────────────
 *   check_runbook_policy_and_retrieve(rule, ident):
 *   1. the runbook by UUID or name: none → 404 "Runbook <ident> could not
 *      be found.", before any policy; an invalid name → 400;
 *   2. the rule with target runbook.owner → 403 — NOT concealed (there is
 *      no "get" visibility step, unlike allocations).
 *   GET: on that 403, a PUBLIC runbook is shown anyway (else the 403).
 *   PATCH: allowed paths → 400 first; the rules come from the patch:
 *   paths under /owner add baremetal:runbook:update:owner, under /public
 *   baremetal:runbook:update:public, anything else (or nothing matched)
 *   baremetal:runbook:update; the first is checked with the lookup, the
 *   others in turn (403 naming the first denied). An owner on a public
 *   runbook → 400.
 *
 * ── POST /v1/runbooks: check_policy('baremetal:runbook:create') ──────────
 *   body schema (400) → the rule with the caller's credentials → a caller
 *   that is not system-scoped: an `owner` other than its project → 400,
 *   public=true → 400, and the owner becomes its project.
 *
 * Not modelled: /v1/runbooks/{ident}/traits (1.112) has no entry (refused);
 * baremetal:runbook:use (running a runbook on a node) is a check of PUT
 * /v1/nodes/{node_ident}/states/provision, i.e. nodes.ts's business.
 */
import { PATCH_BODY, createBody } from '../body.js';
import type { ApiEntry } from '../types.js';
import { PECAN_WHY, type FieldRedaction, type RefusedForm } from './shapes.js';

const RUNBOOK = { kind: 'runbook', param: 'runbook_ident' } as const;

const BELOW_92_WRITE = { status: 405, afterAuthz: false } as const;

/**
 * Runbook rules of upstream Ironic (ironic/common/policy.py runbook_policies),
 * none of which Ironic 21.4 defines: a site answering 1.92 has them.
 */
export const UPSTREAM_RUNBOOK_RULES: readonly string[] = [
  'baremetal:runbook:get',
  'baremetal:runbook:list',
  'baremetal:runbook:list_all',
  'baremetal:runbook:create',
  'baremetal:runbook:delete',
  'baremetal:runbook:update',
  'baremetal:runbook:update:public',
  'baremetal:runbook:update:owner',
  'baremetal:runbook:use',
];

export const RUNBOOK_ENTRIES: readonly ApiEntry[] = [
  {
    method: 'GET',
    path: '/v1/runbooks',
    query: ['marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'detail', 'project'],
    since: 92,
    authz: { check: 'list', kind: 'runbook', ownerParam: 'project' },
    engine: 'runbook.list',
    doc: 'List runbooks (list_all, else own and public ones); global objects read from one site.',
  },
  {
    method: 'GET',
    path: '/v1/runbooks/{runbook_ident}',
    object: RUNBOOK,
    query: ['fields'],
    since: 92,
    authz: { check: 'runbook', rules: ['baremetal:runbook:get'], publicFallback: true },
    engine: 'runbook.show',
    doc: 'Show a runbook by UUID or name (owner rule, or public); step args with secrets masked.',
  },
  {
    method: 'POST',
    path: '/v1/runbooks',
    query: [],
    since: 92,
    belowSince: { ...BELOW_92_WRITE },
    authz: { check: 'policy', rules: ['baremetal:runbook:create'] },
    engine: 'runbook.create',
    body: createBody('runbook'),
    doc: 'Create a runbook at every site (project callers: own, not public), all or none.',
  },
  {
    method: 'PATCH',
    path: '/v1/runbooks/{runbook_ident}',
    object: RUNBOOK,
    query: [],
    since: 92,
    belowSince: { ...BELOW_92_WRITE },
    authz: {
      check: 'runbook',
      rules: ['baremetal:runbook:update'],
      patchRules: [
        { prefix: '/owner', rule: 'baremetal:runbook:update:owner' },
        { prefix: '/public', rule: 'baremetal:runbook:update:public' },
      ],
    },
    engine: 'runbook.update',
    body: PATCH_BODY,
    doc: 'Update a runbook at every site (owner/public paths have rules of their own).',
  },
  {
    method: 'DELETE',
    path: '/v1/runbooks/{runbook_ident}',
    object: RUNBOOK,
    query: [],
    since: 92,
    belowSince: { ...BELOW_92_WRITE },
    authz: { check: 'runbook', rules: ['baremetal:runbook:delete'] },
    engine: 'runbook.delete',
    doc: 'Delete a runbook at every site.',
  },
];

/** As deploy templates: each step's args have secret-looking keys masked. */
export const RUNBOOK_REDACTIONS: readonly FieldRedaction[] = [{ field: 'steps[].args', when: 'always', action: 'mask-secrets' }];

/** From upstream's code (not checked against a running Ironic: 21.4 has no runbooks). */
export const PECAN_FORMS_REFUSED: readonly RefusedForm[] = [
  {
    method: 'GET',
    example: 'GET /v1/runbooks/<runbook_ident>/name',
    why: `${PECAN_WHY.fieldsSegment} (same as ?fields=name).`,
  },
  {
    method: 'PATCH',
    example: 'PATCH /v1/runbooks?runbook_ident=<ident>',
    why: `${PECAN_WHY.queryArg}: runbook_ident is the patch handler's argument.`,
  },
  {
    method: 'DELETE',
    example: 'DELETE /v1/runbooks?runbook_ident=<ident>',
    why: `${PECAN_WHY.queryArg}: runbook_ident is the delete handler's argument.`,
  },
];
