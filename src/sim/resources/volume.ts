/**
 * Volume (ironic/api/controllers/v1/volume{,_connector,_target}.py, 1.32):
 * `/v1/volume` (links), `/v1/volume/connectors`, `/v1/volume/targets`, and
 * the same under `/v1/nodes/{node}/volume` (read-only). A connector's
 * (type, connector_id) and a target's (node, boot_index) are unique; a
 * node must be powered off for its volume objects to be updated or deleted.
 */

import { selfAndBookmark } from '../../ironic/links.js';
import { isUuidLike } from '../../ironic/idents.js';
import { argStringList, argUuid, argUuidOrName } from '../args.js';
import { Fault, RoutingError } from '../errors.js';
import {
  applyPatch,
  checkArgs,
  checkFieldsValid,
  checkPatchPaths,
  checkSortColumn,
  collectionBody,
  collectionChecks,
  created,
  markerRecord,
  nextParams,
  objectToDict,
  ok,
  patchedSchemaDict,
  patchValues,
  readBody,
  readListQuery,
  readPatch,
  routeCollection,
  sanitize,
  updateChanged,
  validateFields,
  type Ctx,
  type ListSpec,
  type ObjRec,
  type Reply,
  type Schema,
  type Table,
} from '../kit.js';
import type { NodeRec } from '../node-model.js';
import type { World } from '../world.js';

export interface ConnectorRec extends ObjRec {
  node_id: number;
  type: string;
  connector_id: string;
  extra: Record<string, unknown>;
}

export interface TargetRec extends ObjRec {
  node_id: number;
  volume_type: string;
  properties: Record<string, unknown>;
  boot_index: number;
  volume_id: string;
  extra: Record<string, unknown>;
}

type VolRec = ConnectorRec | TargetRec;

interface Kind {
  what: 'connectors' | 'targets';
  noun: string;
  lower: string;
  arg: string;
  body: string;
  table: (w: World) => Table<VolRec>;
  schema: Schema;
  spec: ListSpec;
  columns: string[];
  dicts: string[];
  patchAllowed: string[];
  /** The DB's uniqueness check: the conflicting text, or undefined. */
  conflict: (w: World, rec: Record<string, unknown>, nodeId: number, self?: VolRec) => string | undefined;
}

const CONNECTORS: Kind = {
  what: 'connectors',
  noun: 'Volume connector',
  lower: 'volume connector',
  arg: 'connector_uuid',
  body: 'connector',
  table: (w) => w.connectors as unknown as Table<VolRec>,
  schema: {
    type: 'object',
    properties: {
      connector_id: { type: 'string' },
      extra: { type: ['object', 'null'] },
      node_uuid: { type: 'string' },
      type: { type: 'string' },
      uuid: { type: ['string', 'null'] },
    },
    required: ['connector_id', 'node_uuid', 'type'],
    additionalProperties: false,
  },
  spec: {
    resource: 'volume/connectors',
    defaultFields: ['uuid', 'node_uuid', 'type', 'connector_id'],
    invalidSortKeys: ['extra'],
    columns: new Set(['id', 'uuid', 'node_id', 'type', 'connector_id', 'created_at', 'updated_at']),
    noun: 'Volume connector',
  },
  columns: ['connector_id', 'extra', 'type'],
  dicts: ['extra'],
  patchAllowed: ['connector_id', 'extra', 'node_uuid', 'type'],
  conflict: (w, r, _nodeId, self) =>
    w.connectors.find((c) => c !== self && c.type === r.type && c.connector_id === r.connector_id)
      ? `A volume connector with type ${String(r.type)} and connector ID ${String(r.connector_id)} already exists.`
      : undefined,
};

const TARGETS: Kind = {
  what: 'targets',
  noun: 'Volume target',
  lower: 'volume target',
  arg: 'target_uuid',
  body: 'target',
  table: (w) => w.targets as unknown as Table<VolRec>,
  schema: {
    type: 'object',
    properties: {
      boot_index: { type: 'integer' },
      extra: { type: ['object', 'null'] },
      node_uuid: { type: 'string' },
      properties: { type: ['object', 'null'] },
      volume_id: { type: 'string' },
      volume_type: { type: 'string' },
      uuid: { type: ['string', 'null'] },
    },
    required: ['boot_index', 'node_uuid', 'volume_id', 'volume_type'],
    additionalProperties: false,
  },
  spec: {
    resource: 'volume/targets',
    defaultFields: ['uuid', 'node_uuid', 'volume_type', 'boot_index', 'volume_id'],
    invalidSortKeys: ['extra', 'properties'],
    columns: new Set(['id', 'uuid', 'node_id', 'volume_type', 'boot_index', 'volume_id', 'created_at', 'updated_at']),
    noun: 'Volume target',
  },
  columns: ['boot_index', 'extra', 'properties', 'volume_id', 'volume_type'],
  dicts: ['extra', 'properties'],
  patchAllowed: ['boot_index', 'extra', 'node_uuid', 'properties', 'volume_id', 'volume_type'],
  conflict: (w, r, nodeId, self) =>
    w.targets.find((t) => t !== self && t.node_id === nodeId && t.boot_index === r.boot_index)
      ? `A volume target with boot index '${String(r.boot_index)}' for the same node already exists.`
      : undefined,
};

function render(w: World, k: Kind, ctx: Ctx, r: VolRec, fields?: readonly string[]): Record<string, unknown> {
  const d = objectToDict(r, ctx, k.spec.resource, k.columns, { dicts: k.dicts });
  d.node_uuid = w.store.getById(r.node_id)?.uuid ?? null;
  checkFieldsValid(fields, Object.keys(d));
  return sanitize(d, fields);
}

/** `/v1/volume…` or, with a parent node, `/v1/nodes/{node}/volume…`. */
export function routeVolume(w: World, ctx: Ctx, rest: string[], parentNode?: NodeRec): Reply {
  if (ctx.minor < 32) throw new RoutingError(404);
  if (rest.length === 0) {
    if (ctx.method !== 'GET') throw new RoutingError(405);
    const resource = parentNode ? 'nodes' : 'volume';
    const args = parentNode ? `${parentNode.uuid}/volume/` : '';
    return ok({
      links: selfAndBookmark(ctx.base, resource, args),
      connectors: selfAndBookmark(ctx.base, resource, `${args}connectors`),
      targets: selfAndBookmark(ctx.base, resource, `${args}targets`),
    });
  }
  const k = rest[0] === 'connectors' ? CONNECTORS : rest[0] === 'targets' ? TARGETS : undefined;
  if (!k) throw new RoutingError(404);
  return routeCollection(ctx, rest.slice(1), {
    list: () => list(w, k, ctx, parentNode),
    create: () => create(w, k, ctx, parentNode),
    show: (ident) => {
      checkArgs(ctx, [k.arg, 'fields']);
      argUuid(k.arg, ident);
      const fields = argStringList('fields', ctx.query.get('fields'));
      if (parentNode) throw new Fault(403, 'Operation not permitted.');
      return ok(render(w, k, ctx, getOne(w, k, ident), fields));
    },
    update: (ident) => patch(w, k, ctx, ident, parentNode),
    remove: (ident) => {
      checkArgs(ctx, [k.arg]);
      argUuid(k.arg, ident);
      const r = getOne(w, k, ident);
      if (parentNode) throw new Fault(403, 'Operation not permitted.');
      const n = w.store.getById(r.node_id)!;
      w.checkTopic(n.driver, n.conductor_group);
      powerOff(n, `${k.lower} deletion`);
      k.table(w).remove(r);
      return { status: 204 };
    },
  });
}

function getOne(w: World, k: Kind, uuid: string): VolRec {
  const r = k.table(w).get(uuid);
  if (!r) throw new Fault(404, `${k.noun} ${uuid} could not be found.`);
  return r;
}

function powerOff(n: NodeRec, action: string): void {
  if (n.power_state !== 'power off') {
    throw new Fault(400, `The requested action "${action}" can not be performed on node "${n.uuid}" while it is in state "${n.power_state === null || n.power_state === undefined ? 'None' : String(n.power_state)}".`);
  }
}

function list(w: World, k: Kind, ctx: Ctx, parentNode: NodeRec | undefined): Reply {
  checkArgs(ctx, ['node', 'marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'detail', 'project']);
  const node = argUuidOrName('node', ctx.query.get('node'));
  const a = readListQuery(ctx.query, false);
  let fields = a.fields;
  if (fields === undefined && !a.detail) fields = [...k.spec.defaultFields];
  if (fields && a.detail) throw new Fault(400, "Can't fetch a subset of fields with 'detail' set");
  const { limit, sortDir } = collectionChecks({ ...k.spec, invalidSortKeys: [] }, w.cfg.maxLimit, a);
  const marker = markerRecord(k.spec, k.table(w), a.marker);
  if (k.spec.invalidSortKeys.includes(a.sortKey)) throw new Fault(400, `The sort_key value ${a.sortKey} is an invalid field for sorting`);
  const nodeIdent = parentNode?.uuid ?? node;
  let filter: ((r: VolRec) => boolean) | undefined;
  if (nodeIdent) {
    const n = w.getNode(ctx, nodeIdent);
    filter = (r) => r.node_id === n.id;
  }
  checkSortColumn(k.spec, a.sortKey);
  const recs = k.table(w).page({ sortKey: a.sortKey, sortDir, limit, marker, filter });
  const items = recs.map((r) => render(w, k, ctx, r, fields));
  return collectionBody(ctx, k.what, items, limit, k.spec.resource, nextParams(a.sortKey, sortDir, a.detail, 'None'), fields, recs.at(-1)?.uuid);
}

function create(w: World, k: Kind, ctx: Ctx, parentNode: NodeRec | undefined): Reply {
  const { body } = readBody(ctx, k.body, k.schema);
  validateFields(body, { node_uuid: 'uuid', uuid: 'uuid' });
  const n = w.store.getByUuid(String(body.node_uuid));
  if (!n) throw new Fault(400, `Invalid input for field/attribute node_uuid. Value: '${String(body.node_uuid)}'. `);
  if (parentNode) throw new Fault(403, 'Operation not permitted.');
  const table = k.table(w);
  const uuid = (body.uuid as string | null | undefined) || undefined;
  const conflict = k.conflict(w, body, n.id);
  if (conflict) throw new Fault(409, conflict);
  if (uuid && table.get(uuid)) throw new Fault(409, `A ${k.lower} with UUID ${uuid} already exists.`);
  const fields: Record<string, unknown> = { uuid, node_id: n.id };
  for (const c of k.columns) fields[c] = body[c] ?? (k.dicts.includes(c) ? {} : null);
  const r = table.insert(fields as never);
  return created(ctx, k.spec.resource, r.uuid, render(w, k, ctx, r));
}

function patch(w: World, k: Kind, ctx: Ctx, ident: string, parentNode: NodeRec | undefined): Reply {
  checkArgs(ctx, [k.arg, 'patch']);
  argUuid(k.arg, ident);
  const ops = readPatch(ctx, undefined);
  const r = getOne(w, k, ident);
  if (parentNode) throw new Fault(403, 'Operation not permitted.');
  checkPatchPaths(ops, k.patchAllowed);
  for (const v of patchValues(ops, '/node_uuid')) {
    if (typeof v !== 'string' || !isUuidLike(v)) throw new Fault(400, `Expected a UUID for node_uuid, but received ${String(v)}.`);
  }
  let n = w.store.getById(r.node_id)!;
  const doc: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(r)) if (key !== 'node_id') doc[key] = v;
  doc.node_uuid = n.uuid;
  const d = applyPatch(doc, ops);
  if (d.node_uuid !== n.uuid) {
    const other = typeof d.node_uuid === 'string' ? w.store.getByUuid(d.node_uuid) : undefined;
    if (!other) throw new Fault(400, `Node ${String(d.node_uuid)} could not be found.`);
    n = other;
  }
  const valid = patchedSchemaDict(d, k.schema);
  validateFields(valid, { node_uuid: 'uuid', uuid: 'uuid' });
  w.checkTopic(n.driver, n.conductor_group);
  powerOff(n, `${k.lower} update`);
  const conflict = k.conflict(w, valid, n.id, r);
  if (conflict) throw new Fault(409, conflict);
  let changed = updateChanged(r, valid, k.schema, k.dicts);
  if (r.node_id !== n.id) {
    r.node_id = n.id;
    changed = true;
  }
  if (changed) k.table(w).touch(r);
  return ok(render(w, k, ctx, r));
}

/** A node's volume objects go with it. */
export function dropNodeVolume(w: World, n: NodeRec): void {
  for (const c of w.connectors.filter((x) => x.node_id === n.id)) w.connectors.remove(c);
  for (const t of w.targets.filter((x) => x.node_id === n.id)) w.targets.remove(t);
}
