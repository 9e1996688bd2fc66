/**
 * Chassis (ironic/api/controllers/v1/chassis.py): `/v1/chassis`, and
 * `/v1/chassis/{uuid}/nodes[/detail]` — the node listing filtered by the
 * chassis. A chassis holding nodes cannot be deleted.
 */

import { selfAndBookmark } from '../../ironic/links.js';
import { argStringList, argUuid } from '../args.js';
import { Fault, RoutingError } from '../errors.js';
import {
  applyPatch,
  checkAllowFields,
  checkArgs,
  checkFieldsValid,
  checkSortColumn,
  collectionBody,
  collectionChecks,
  created,
  markerRecord,
  nextParams,
  objectToDict,
  ok,
  patchedSchemaDict,
  readBody,
  readListQuery,
  readPatch,
  returnFields,
  routeCollection,
  sanitize,
  updateChanged,
  validateFields,
  type Ctx,
  type ListSpec,
  type ObjRec,
  type Reply,
  type Schema,
} from '../kit.js';
import type { World } from '../world.js';

export interface ChassisRec extends ObjRec {
  description: string | null;
  extra: Record<string, unknown>;
}

const SCHEMA: Schema = {
  type: 'object',
  properties: {
    uuid: { type: ['string', 'null'] },
    extra: { type: ['object', 'null'] },
    description: { type: ['string', 'null'], maxLength: 255 },
  },
  additionalProperties: false,
};

const SPEC: ListSpec = {
  resource: 'chassis',
  defaultFields: ['uuid', 'description'],
  invalidSortKeys: ['extra'],
  columns: new Set(['id', 'uuid', 'description', 'created_at', 'updated_at']),
  noun: 'Chassis',
};

export function renderChassis(ctx: Ctx, c: ChassisRec, fields?: readonly string[]): Record<string, unknown> {
  const d = objectToDict(c, ctx, 'chassis', ['description', 'extra'], { dicts: ['extra'] });
  // chassis.py builds the links list with a trailing comma: a list inside a tuple
  d.nodes = [selfAndBookmark(ctx.base, 'chassis', `${c.uuid}/nodes`)];
  checkFieldsValid(fields, Object.keys(d));
  return sanitize(d, fields);
}

function getChassis(w: World, uuid: string): ChassisRec {
  const c = w.chassis.get(uuid);
  if (!c) throw new Fault(404, `Chassis ${uuid} could not be found.`);
  return c;
}

/** The node listing under a chassis (the nodes controller's get_all/detail with chassis_uuid given). */
export type ChassisNodesLister = (ctx: Ctx, chassisUuid: string, detail: boolean) => Reply;

export function routeChassis(w: World, ctx: Ctx, rest: string[], listNodes: ChassisNodesLister): Reply {
  return routeCollection(ctx, rest, {
    list: (detailPath) => listChassis(w, ctx, detailPath),
    create: () => createChassis(w, ctx),
    detail: true,
    below: (ident, more) => {
      if (more[0] !== 'nodes' || more.length > 2) throw new RoutingError(404);
      if (ctx.method !== 'GET') throw new RoutingError(405);
      if (more.length === 2 && more[1] !== 'detail') throw new RoutingError(404);
      argUuid('chassis_uuid', ident);
      return listNodes(ctx, ident, more.length === 2);
    },
    show: (ident) => {
      checkArgs(ctx, ['chassis_uuid', 'fields']);
      argUuid('chassis_uuid', ident);
      const fields = argStringList('fields', ctx.query.get('fields'));
      checkAllowFields(fields, ctx.minor);
      return ok(renderChassis(ctx, getChassis(w, ident), fields));
    },
    update: (ident) => patchChassis(w, ctx, ident),
    remove: (ident) => {
      checkArgs(ctx, ['chassis_uuid']);
      argUuid('chassis_uuid', ident);
      const c = getChassis(w, ident);
      if (w.store.all().some((n) => n.chassis_id === c.id)) {
        throw new Fault(400, `Cannot complete the requested action because chassis ${c.uuid} contains nodes.`);
      }
      w.chassis.remove(c);
      return { status: 204 };
    },
  });
}

function listChassis(w: World, ctx: Ctx, detailPath: boolean): Reply {
  checkArgs(ctx, detailPath ? ['marker', 'limit', 'sort_key', 'sort_dir'] : ['marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'detail']);
  const a = readListQuery(ctx.query, detailPath);
  let fields: string[] | undefined;
  if (!detailPath) {
    checkAllowFields(a.fields, ctx.minor);
    fields = returnFields(a.fields, a.detail, SPEC.defaultFields, ctx.minor);
  }
  const { limit, sortDir } = collectionChecks(SPEC, w.cfg.maxLimit, a);
  const marker = markerRecord(SPEC, w.chassis, a.marker);
  checkSortColumn(SPEC, a.sortKey);
  const recs = w.chassis.page({ sortKey: a.sortKey, sortDir, limit, marker });
  const items = recs.map((c) => renderChassis(ctx, c, fields));
  return collectionBody(ctx, 'chassis', items, limit, detailPath ? 'chassis/detail' : 'chassis', nextParams(a.sortKey, sortDir, a.detail), fields, recs.at(-1)?.uuid);
}

function createChassis(w: World, ctx: Ctx): Reply {
  const { body } = readBody(ctx, 'chassis', SCHEMA);
  validateFields(body, { uuid: 'uuid' });
  const uuid = (body.uuid as string | null | undefined) || undefined;
  if (uuid && w.chassis.get(uuid)) throw new Fault(409, `A chassis with UUID ${uuid} already exists.`);
  const c = w.chassis.insert({
    uuid,
    description: (body.description as string | null | undefined) ?? null,
    extra: (body.extra as Record<string, unknown> | null) ?? {},
  });
  return created(ctx, 'chassis', c.uuid, renderChassis(ctx, c));
}

function patchChassis(w: World, ctx: Ctx, ident: string): Reply {
  checkArgs(ctx, ['chassis_uuid', 'patch']);
  const patch = readPatch(ctx, Object.keys(SCHEMA.properties!));
  const c = getChassis(w, ident);
  const d = applyPatch({ ...c }, patch);
  const valid = patchedSchemaDict(d, SCHEMA);
  validateFields(valid, { uuid: 'uuid' });
  if (valid.uuid !== c.uuid) throw new Fault(400, 'Cannot overwrite UUID for an existing Chassis.');
  if (updateChanged(c, valid, SCHEMA, ['extra'])) w.chassis.touch(c);
  return ok(renderChassis(ctx, c));
}
