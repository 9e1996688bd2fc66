/**
 * Deploy templates (ironic/api/controllers/v1/deploy_template.py, 1.55):
 * global objects, the same UUID at every site, writes replicated
 * (docs/federation/global-objects.md).
 *
 * Below 1.55, whatever the path below /v1/deploy_templates: GET → 404, any
 * other method → 405, both "The API version does not allow deploy
 * templates", from the controller's _route — before any policy and before
 * the body is read.
 *
 * From 1.55: `args.validate` (template_ident a UUID or logical name, marker
 * a NAME — any logical name; it is then looked up by UUID, so a non-UUID
 * marker is a 404 —, limit an integer, detail a boolean, fields a list →
 * 400); a POST body is schema-checked first (400); any other query
 * parameter → 400 "Unexpected arguments". There is no /detail collection:
 * GET /v1/deploy_templates/detail is the template named "detail" (404).
 *
 * ── Every form: check_policy(rule), FIRST ────────────────────────────────
 *   The caller's own credentials are the target (templates have no owner):
 *   baremetal:deploy_template:get (GET list and one), :create, :update,
 *   :delete. Defaults: get for system readers and the service role; create,
 *   update and delete for system admins. A project-scoped caller is refused
 *   403. The policy comes before the lookup: a missing template is 403 for a
 *   caller who may not act, 404 "Deploy template <ident> could not be
 *   found." for one who may. Then fields/sort_key naming a field newer than
 *   the version → 406, detail below 1.43 → 400, fields with detail=true →
 *   400, sort_key extra/steps → 400, marker → 404. Default list fields:
 *   uuid, name (+ links). PATCH: allowed paths (400), then the lookup, then
 *   step and template schema (400).
 */
import { PATCH_BODY, createBody } from '../body.js';
import type { ApiEntry } from '../types.js';
import { PECAN_WHY, type FieldRedaction, type RefusedForm } from './shapes.js';

const TEMPLATE = { kind: 'deploy_template', param: 'template_ident' } as const;

/** Ironic's answer to every non-GET form below 1.55 (GET: the plain 404 with the same message). */
const BELOW_55_WRITE = { status: 405, afterAuthz: false } as const;

export const DEPLOY_TEMPLATE_ENTRIES: readonly ApiEntry[] = [
  {
    method: 'GET',
    path: '/v1/deploy_templates',
    query: ['marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'detail'],
    since: 55,
    authz: { check: 'policy', rules: ['baremetal:deploy_template:get'] },
    engine: 'deploy_template.list',
    doc: 'List deploy templates (global objects: read from one site).',
  },
  {
    method: 'GET',
    path: '/v1/deploy_templates/{template_ident}',
    object: TEMPLATE,
    query: ['fields'],
    since: 55,
    authz: { check: 'policy', rules: ['baremetal:deploy_template:get'] },
    engine: 'deploy_template.show',
    doc: 'Show a deploy template by UUID or name (step args with secrets masked).',
  },
  {
    method: 'POST',
    path: '/v1/deploy_templates',
    query: [],
    since: 55,
    belowSince: { ...BELOW_55_WRITE },
    authz: { check: 'policy', rules: ['baremetal:deploy_template:create'] },
    engine: 'deploy_template.create',
    body: createBody('template'),
    doc: 'Create a deploy template at every site (one UUID), all or none.',
  },
  {
    method: 'PATCH',
    path: '/v1/deploy_templates/{template_ident}',
    object: TEMPLATE,
    query: [],
    since: 55,
    belowSince: { ...BELOW_55_WRITE },
    authz: { check: 'policy', rules: ['baremetal:deploy_template:update'] },
    engine: 'deploy_template.update',
    body: PATCH_BODY,
    doc: 'Update a deploy template at every site.',
  },
  {
    method: 'DELETE',
    path: '/v1/deploy_templates/{template_ident}',
    object: TEMPLATE,
    query: [],
    since: 55,
    belowSince: { ...BELOW_55_WRITE },
    authz: { check: 'policy', rules: ['baremetal:deploy_template:delete'] },
    engine: 'deploy_template.delete',
    doc: 'Delete a deploy template at every site.',
  },
];

/**
 * Every template body (show, each of a listing, the bodies create and
 * update answer): the `args` of each step have secret-looking keys masked
 * (checked against Ironic 21.4: a `password` arg shows as "******").
 */
export const DEPLOY_TEMPLATE_REDACTIONS: readonly FieldRedaction[] = [
  { field: 'steps[].args', when: 'always', action: 'mask-secrets' },
];

/** Checked against a real Ironic 21.4. */
export const PECAN_FORMS_REFUSED: readonly RefusedForm[] = [
  {
    method: 'GET',
    example: 'GET /v1/deploy_templates/<template_ident>/name',
    why: `${PECAN_WHY.fieldsSegment} (same as ?fields=name).`,
  },
  {
    method: 'PATCH',
    example: 'PATCH /v1/deploy_templates?template_ident=<ident>',
    why: `${PECAN_WHY.queryArg}: template_ident is the patch handler's argument.`,
  },
  {
    method: 'DELETE',
    example: 'DELETE /v1/deploy_templates?template_ident=<ident> (or in a JSON object body)',
    why: `${PECAN_WHY.queryArg}: template_ident is the delete handler's argument.`,
  },
];
