/**
 * One Ironic's answer to a node-bound request whose node (or portgroup) no
 * site has, made by the proxy: a listing filtered by it, a create naming it.
 *
 * Before, such a request was sent as is to a "default site" for its Ironic
 * to write the error. It is not sent anywhere now: the proxy calls sites
 * with its own credentials, and a site that does not hold the object has no
 * business with the request. So the proxy runs the handler's own checks that
 * come before its lookup of the node (the ones that need no object), in the
 * handler's order (ironic/api/controllers/v1/port.py, portgroup.py,
 * volume_connector.py, volume_target.py at 21.4), then answers the handler's
 * "not found".
 *
 * This is reached only once every site has answered that it does not have
 * the node (the locator's lookup): a site that could not be asked makes the
 * lookup a 503 naming it, never this "not found".
 */
import type { FastifyRequest } from 'fastify';
import { badRequest, nodeNotFound, ProxyError } from '../errors.js';
import { arg, isMac } from '../api/body.js';
import { fieldNewerThan } from '../api/query-checks.js';
import { isUuidLike, parseListParam, parseStrictBool } from '../ironic/idents.js';
import { schemaError, type JsonSchema } from '../ironic/json-schema.js';
import type { CollectionDef } from './collection-list.js';

const notAcceptable = (): ProxyError => new ProxyError('NOT_ACCEPTABLE_FAULT', 'Request not acceptable.');
const notPermitted = (): ProxyError => new ProxyError('FORBIDDEN', 'Operation not permitted.');

/** The node-bound families, as the API table names their engines. */
export type NodeBoundFamily = 'port' | 'portgroup' | 'volume_connector' | 'volume_target';

/** What a listing pinned to a node or portgroup that is nowhere is scoped by. */
export interface NowhereScope {
  /** The filter that names it (`portgroup`, `node_uuid`, `node`). */
  filter: string;
  ident: string;
}

/** `args.boolean` of a query value the router already validated (undefined: not given). */
function queryBool(query: URLSearchParams, name: string): boolean | undefined {
  const v = query.get(name);
  return v === null ? undefined : parseStrictBool(v);
}

/** `args.string_list`: undefined when not given, else the (possibly empty) list — Python's `None` versus `[]`. */
function queryList(query: URLSearchParams, name: string): string[] | undefined {
  const v = query.get(name);
  return v === null ? undefined : parseListParam(v);
}

const pyBool = (b: boolean): string => (b ? 'True' : 'False');

/** api_utils.get_request_return_fields (ports, portgroups): detail from 1.43, not with fields. */
function checkReturnFields(fields: string[] | undefined, detail: boolean | undefined, minor: number): void {
  if (detail !== undefined && minor < 43) throw badRequest(`Invalid query parameter ?detail=${pyBool(detail)} received.`);
  if (fields !== undefined && detail) throw badRequest('Can not specify ?detail=True and fields in the same request.');
}

/**
 * A listing of `family` filtered by a node or portgroup no site has: the
 * handler's checks between its policy and its lookup, then Ironic's 404 for
 * what the filter names. `marker` is checked where Ironic reads it (before
 * the node): one that is nowhere is its own 404; the lookup behind it is the
 * locator's, so a site that cannot be asked is a 503 there too.
 */
export async function refuseNowhereListing(req: FastifyRequest, query: URLSearchParams, family: NodeBoundFamily, def: CollectionDef, detailPath: boolean, scope: NowhereScope): Promise<never> {
  const minor = req.ironic.version.minor;
  const sortKey = query.get('sort_key') ?? 'id';
  const fields = queryList(query, 'fields');
  const detail = queryBool(query, 'detail');
  // The version of `fields` and the names of fields no version has were refused by the router (query-checks.ts).
  if (family === 'port') {
    // PortsController.get_all / .detail, after check_port_list_policy.
    if (fieldNewerThan('port', sortKey, minor)) throw notAcceptable();
    if (query.get('portgroup') && minor < 24) throw notAcceptable();
    // check_allow_filter_by_shard: `?shard=` is [] — not None.
    if (query.has('shard') && minor < 82) throw new ProxyError('NOT_ACCEPTABLE_FAULT', 'Request not acceptable. The minimal required API version should be 1.82');
    if (!detailPath) checkReturnFields(fields, detail, minor);
    const node = query.get('node');
    if (!query.get('node_uuid') && node && minor < 5 && !isUuidLike(node)) throw notAcceptable();
  } else if (family === 'portgroup') {
    // PortgroupsController.get_all / .detail (below 1.23 the table answered 404).
    if (fieldNewerThan('portgroup', sortKey, minor)) throw notAcceptable();
    if (!detailPath) checkReturnFields(fields, detail, minor);
  } else if (fields && fields.length > 0 && detail) {
    // Volume connectors/targets: `if fields and detail` (an empty list is falsy).
    throw badRequest("Can't fetch a subset of fields with 'detail' set");
  }
  // _get_<family>_collection: limit and sort_dir (the router), the marker, the sort blacklist, the filters.
  const marker = query.get('marker');
  if (marker) await def.locator.lookup(marker, { requestId: req.ironic.globalRequestId });
  if (def.sortBlacklist.has(sortKey)) throw badRequest(`The sort_key value ${sortKey} is an invalid field for sorting`);
  if (family === 'port') {
    const exclusive = [query.get('node_uuid') || query.get('node'), query.get('portgroup'), (queryList(query, 'shard') ?? []).length > 0];
    if (exclusive.filter(Boolean).length > 1) throw notPermitted();
  }
  if (scope.filter === 'portgroup') throw new ProxyError('PORTGROUP_NOT_FOUND', `Portgroup ${scope.ident} could not be found.`);
  throw nodeNotFound(scope.ident);
}

/** Each family's create schema and `args.dict_valid` at Ironic 21.4 (its handler's argument name first). */
interface CreateValidator {
  name: string;
  schema: JsonSchema;
  /** dict_valid, in its order: mac_address, uuid or boolean. */
  fields: ReadonlyArray<readonly [string, 'mac' | 'uuid' | 'boolean']>;
}

const S = (...types: Array<'string' | 'object' | 'boolean' | 'null' | 'integer'>): JsonSchema => ({ type: types.length === 1 ? types[0] : types });

const CREATE: Record<NodeBoundFamily, CreateValidator> = {
  port: {
    name: 'port',
    schema: {
      type: 'object',
      properties: {
        address: S('string'),
        extra: S('object', 'null'),
        is_smartnic: S('string', 'boolean', 'null'),
        local_link_connection: S('null', 'object'),
        node_uuid: S('string'),
        physical_network: { type: ['string', 'null'], maxLength: 64 },
        portgroup_uuid: S('string', 'null'),
        pxe_enabled: S('string', 'boolean', 'null'),
        uuid: S('string', 'null'),
      },
      required: ['address', 'node_uuid'],
      additionalProperties: false,
    },
    // local_link_connection's own validator (LOCAL_LINK_VALIDATOR) is not replicated, as in the simulator.
    fields: [
      ['address', 'mac'],
      ['node_uuid', 'uuid'],
      ['is_smartnic', 'boolean'],
      ['portgroup_uuid', 'uuid'],
      ['pxe_enabled', 'boolean'],
      ['uuid', 'uuid'],
    ],
  },
  portgroup: {
    name: 'portgroup',
    schema: {
      type: 'object',
      properties: {
        address: S('string', 'null'),
        extra: S('object', 'null'),
        mode: S('string', 'null'),
        name: S('string', 'null'),
        node_uuid: S('string'),
        properties: S('object', 'null'),
        standalone_ports_supported: S('string', 'boolean', 'null'),
        uuid: S('string', 'null'),
      },
      required: ['node_uuid'],
      additionalProperties: false,
    },
    fields: [
      ['address', 'mac'],
      ['node_uuid', 'uuid'],
      ['standalone_ports_supported', 'boolean'],
      ['uuid', 'uuid'],
    ],
  },
  volume_connector: {
    name: 'connector',
    schema: {
      type: 'object',
      properties: { connector_id: S('string'), extra: S('object', 'null'), node_uuid: S('string'), type: S('string'), uuid: S('string', 'null') },
      required: ['connector_id', 'node_uuid', 'type'],
      additionalProperties: false,
    },
    fields: [
      ['node_uuid', 'uuid'],
      ['uuid', 'uuid'],
    ],
  },
  volume_target: {
    name: 'target',
    schema: {
      type: 'object',
      properties: {
        boot_index: S('integer'),
        extra: S('object', 'null'),
        node_uuid: S('string'),
        properties: S('object', 'null'),
        volume_id: S('string'),
        volume_type: S('string'),
        uuid: S('string', 'null'),
      },
      required: ['boot_index', 'node_uuid', 'volume_id', 'volume_type'],
      additionalProperties: false,
    },
    fields: [
      ['node_uuid', 'uuid'],
      ['uuid', 'uuid'],
    ],
  },
};

/**
 * The create's whole `args.validate` (schema, then dict_valid), which Ironic
 * runs before its policy. The router checks only part of it (what every
 * site version agrees on); the rest is the site's — but a create whose node
 * is nowhere has no site, so the proxy checks the rest, as Ironic 21.4 does.
 */
export function checkCreateBody(family: NodeBoundFamily, body: Record<string, unknown>): void {
  const v = CREATE[family];
  const why = schemaError(v.name, v.schema, body);
  if (why) throw badRequest(why);
  for (const [field, kind] of v.fields) {
    if (!Object.hasOwn(body, field)) continue;
    const value = body[field];
    if (value === null) continue;
    if (kind === 'boolean') arg.boolean(field, value);
    else if (kind === 'uuid' && !isUuidLike(String(value))) throw badRequest(`Expected UUID for ${field}: ${String(value)}`);
    else if (kind === 'mac' && !isMac(String(value))) throw badRequest(`Expected valid MAC address for ${field}: ${String(value)}`);
  }
}

/**
 * The create's answer once its policy passed: ports and portgroups raise
 * NodeNotFound as a 400, volume objects InvalidInput (its message ends
 * with the empty `msg` after a space).
 */
export function nodeOfCreateMissing(family: NodeBoundFamily, nodeUuid: unknown): ProxyError {
  if (family === 'volume_connector' || family === 'volume_target') {
    return badRequest(`Invalid input for field/attribute node_uuid. Value: '${String(nodeUuid)}'. `);
  }
  return new ProxyError('NODE_NOT_FOUND_BAD_REQUEST', `Node ${String(nodeUuid)} could not be found.`);
}
