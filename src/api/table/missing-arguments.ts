/**
 * Collection forms that exist at Ironic only as pecan's binding of a query
 * parameter (or JSON body key) to a handler argument: `PATCH /v1/nodes?node_ident=X`
 * acts on node X, `DELETE /v1/ports?port_uuid=U` deletes port U. The proxy
 * refuses the argument (a query parameter no entry takes is a 400), and
 * answers the bare form as Ironic does — 400 "Missing mandatory parameter" —
 * without asking a site. The entries also make `Allow` on these paths the
 * one pecan builds.
 */
import { ANY_BODY } from '../body.js';
import type { ApiEntry, HttpMethod } from '../types.js';

function missing(path: string, argument: string, since?: number, methods: HttpMethod[] = ['PATCH', 'DELETE']): ApiEntry[] {
  return methods.map((method) => ({
    method,
    path,
    query: [],
    ...(since !== undefined ? { since, belowSince: { status: 405, afterAuthz: false } } : {}),
    authz: { check: 'public' },
    engine: 'proxy.missing-argument',
    body: ANY_BODY,
    missingArgument: argument,
    doc: `Ironic acts on the object named by ?${argument}= (refused); without it: 400 Missing mandatory parameter.`,
  }));
}

export const MISSING_ARGUMENT_ENTRIES: readonly ApiEntry[] = [
  ...missing('/v1/nodes', 'node_ident'),
  ...missing('/v1/ports', 'port_uuid'),
  ...missing('/v1/portgroups', 'portgroup_ident', 23),
  ...missing('/v1/volume/connectors', 'connector_uuid', 32),
  ...missing('/v1/volume/targets', 'target_uuid', 32),
  ...missing('/v1/chassis', 'chassis_uuid'),
  ...missing('/v1/deploy_templates', 'template_ident', 55),
  ...missing('/v1/allocations', 'allocation_ident', 52),
];
