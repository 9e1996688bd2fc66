/**
 * Conductors (ironic/api/controllers/v1/conductor.py, 1.49): every site's
 * conductors, known by host name.
 *
 * Order, in both handlers: `args.validate` (marker and hostname are logical
 * NAMES, limit an integer, detail a boolean, fields a list → 400; any other
 * query parameter → 400 "Unexpected arguments") → check_policy
 * ('baremetal:conductor:get'), the caller's own credentials as target
 * (default: system readers and the service role; project-scoped callers →
 * 403) → BELOW 1.49 a 404 "Resource could not be found." — AFTER the
 * policy: a caller without the rule gets 403 at any version → fields below
 * 1.8 or naming a field newer than the version → 406 → detail below 1.43 →
 * 400; fields with detail=true → 400 → sort_key alive/drivers → 400 → a
 * marker or host name that is no conductor → 404 "Conductor <host> could
 * not be found." (offline conductors are listed and shown too).
 * There is no /detail: GET /v1/conductors/detail is the conductor named
 * "detail" (404). Default list fields: hostname, conductor_group, alive.
 */
import type { ApiEntry } from '../types.js';
import { PECAN_WHY, type FieldRedaction, type RefusedForm } from './shapes.js';

const BELOW_49 = { status: 404, afterAuthz: true } as const;

export const CONDUCTOR_ENTRIES: readonly ApiEntry[] = [
  {
    method: 'GET',
    path: '/v1/conductors',
    query: ['marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'detail'],
    since: 49,
    belowSince: { ...BELOW_49 },
    authz: { check: 'policy', rules: ['baremetal:conductor:get'] },
    engine: 'conductor.list',
    doc: "List every site's conductors; merged over all sites.",
  },
  {
    method: 'GET',
    path: '/v1/conductors/{hostname}',
    object: { kind: 'conductor', param: 'hostname' },
    query: ['fields'],
    since: 49,
    belowSince: { ...BELOW_49 },
    authz: { check: 'policy', rules: ['baremetal:conductor:get'] },
    engine: 'conductor.show',
    doc: 'Show a conductor (policy before lookup); from the site that has it.',
  },
];

/** Conductors carry no secret and Ironic hides none of their fields. */
export const CONDUCTOR_REDACTIONS: readonly FieldRedaction[] = [];

/** Checked against a real Ironic 21.4. */
export const PECAN_FORMS_REFUSED: readonly RefusedForm[] = [
  {
    method: 'GET',
    example: 'GET /v1/conductors/<hostname>/hostname',
    why: `${PECAN_WHY.fieldsSegment} (same as ?fields=hostname).`,
  },
];
