/**
 * The version documents: GET / and GET /v1 (ironic/api/controllers/root.py,
 * v1/__init__.py), built by the proxy itself from the sites' common
 * microversion range; no site is asked per request.
 *
 * How Ironic 21.4 answers them:
 *  - GET / (RootController.index(*args)): no policy — `/` is one of the
 *    acl_public_routes (ironic/api/config.py: `/`, `/v1`, `/v1/lookup`,
 *    `/v1/heartbeat/<ident>`), readable without a token. The microversion header is NOT
 *    checked here. Any query parameter is a 500 ("index() got an unexpected
 *    keyword argument"): the handler binds none.
 *  - GET /v1 (Controller.index): no policy, public route; the microversion
 *    header IS checked (406 outside min…max) and echoed. Only GET: any other
 *    method is a 405. chassis, nodes, ports and drivers are always in the
 *    document; the others from their version on: portgroups 23, volume 32,
 *    conductors 49, allocations 52, events 54 (a POST-only collection, yet
 *    advertised), deploy_templates 55, shards 82; lookup and heartbeat 22,
 *    which the proxy leaves out (agent.ts).
 *  - Every path that does not start with `v1` is routed as if it did
 *    (RootController._lookup): `/ports` is `/v1/ports`; a trailing `.json`
 *    is stripped (JsonExtensionMiddleware); a trailing slash is ignored. The
 *    proxy normalises these before routing (src/http/normalize-url.ts), so
 *    they are served, not refused.
 *
 * No object, no redaction.
 */
import type { ApiEntry } from '../types.js';
import type { FieldRedaction, RefusedForm } from './shapes.js';

export const ROOT_ENTRIES: readonly ApiEntry[] = [
  {
    method: 'GET',
    path: '/',
    query: [],
    authz: { check: 'public' },
    engine: 'root.versions',
    doc: 'The API versions document (one version: v1, the range common to all sites); answered by the proxy.',
  },
  {
    method: 'GET',
    path: '/v1',
    query: [],
    since: 1,
    authz: { check: 'public' },
    engine: 'root.v1',
    doc: 'The v1 document: links to the collections the proxy serves at the requested version; answered by the proxy.',
  },
];

export const ROOT_REDACTIONS: readonly FieldRedaction[] = [];

/** Checked against a real Ironic 21.4. */
export const PECAN_FORMS_REFUSED: readonly RefusedForm[] = [
  {
    method: 'POST',
    example: 'POST / (also PUT, PATCH, DELETE)',
    why: 'RootController.index is exposed for every method: Ironic answers the versions document (200) to any method; the proxy only to GET (405).',
  },
  {
    method: 'GET',
    example: 'GET /index, GET /v1/index',
    why: 'pecan routes the segment `index` to the index handler: the versions / v1 document again.',
  },
];
