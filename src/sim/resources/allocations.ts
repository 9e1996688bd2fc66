/**
 * Allocations (ironic/api/controllers/v1/allocation.py, 1.52; backfill 1.58,
 * update 1.57, owner 1.60) and the conductor's allocation process
 * (ironic/conductor/allocations.py): an allocation is created `allocating`,
 * then a conductor picks an available, unassociated, powered, not-in-
 * maintenance node of the resource class (among the candidates, with every
 * trait) and the allocation becomes `active` (the node's instance_uuid is
 * the allocation's uuid) or `error` with last_error. `/v1/nodes/{node}/
 * allocation` shows or deletes the node's allocation.
 */

import { isUuidLike } from '../../ironic/idents.js';
import { argString, argStringList, argUuidOrName, isValidLogicalName } from '../args.js';
import { Fault, notAcceptable, RoutingError } from '../errors.js';
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
} from '../kit.js';
import { nowIso, type NodeRec } from '../node-model.js';
import { UPDATE_ALLOWED_STATES } from '../states.js';
import type { World } from '../world.js';
import { TRAIT_SCHEMA } from './deploy-templates.js';

export interface AllocationRec extends ObjRec {
  name: string | null;
  node_id: number | null;
  state: 'allocating' | 'active' | 'error';
  last_error: string | null;
  resource_class: string | null;
  traits: string[];
  candidate_nodes: string[];
  extra: Record<string, unknown>;
  owner: string | null;
  conductor_affinity: number | null;
}

const SCHEMA: Schema = {
  type: 'object',
  properties: {
    candidate_nodes: { type: ['array', 'null'], items: { type: 'string' } },
    extra: { type: ['object', 'null'] },
    name: { type: ['string', 'null'] },
    node: { type: ['string', 'null'] },
    owner: { type: ['string', 'null'] },
    resource_class: { type: ['string', 'null'], maxLength: 80 },
    traits: { type: ['array', 'null'], items: TRAIT_SCHEMA },
    uuid: { type: ['string', 'null'] },
  },
  additionalProperties: false,
};

const SPEC: ListSpec = {
  resource: 'allocations',
  defaultFields: [],
  invalidSortKeys: ['extra', 'candidate_nodes', 'traits'],
  columns: new Set(['id', 'uuid', 'name', 'node_id', 'state', 'last_error', 'resource_class', 'owner', 'conductor_affinity', 'created_at', 'updated_at']),
  noun: 'Allocation',
};

function gate(ctx: Ctx): void {
  if (ctx.minor < 52) throw new RoutingError(ctx.method === 'GET' ? 404 : 405, 'The API version does not allow allocations');
}

function checkAllowed(fields: Iterable<string> | undefined, minor: number): void {
  if (fields === undefined) return;
  if (new Set(fields).has('owner') && minor < 60) throw notAcceptable();
}

export function renderAllocation(w: World, ctx: Ctx, a: AllocationRec, fields?: readonly string[]): Record<string, unknown> {
  const d = objectToDict(a, ctx, 'allocations', ['candidate_nodes', 'extra', 'last_error', 'name', 'owner', 'resource_class', 'state', 'traits'], {
    dicts: ['extra'],
    lists: ['candidate_nodes', 'traits'],
  });
  d.node_uuid = w.store.getById(a.node_id)?.uuid ?? null;
  checkFieldsValid(fields, Object.keys(d));
  if (ctx.minor < 60) delete d.owner;
  return sanitize(d, fields);
}

/** api_utils.get_rpc_allocation(_with_suffix). */
function getAllocation(w: World, ident: string): AllocationRec {
  if (!isUuidLike(ident) && !isValidLogicalName(ident)) throw new Fault(400, `Expected a logical name or UUID but received ${ident}.`);
  const a = w.allocations.byIdent(ident);
  if (!a) throw new Fault(404, `Allocation ${ident} could not be found.`);
  return a;
}

export function routeAllocations(w: World, ctx: Ctx, rest: string[]): Reply {
  gate(ctx);
  return routeCollection(ctx, rest, {
    list: () => listAllocations(w, ctx),
    create: () => createAllocation(w, ctx),
    show: (ident) => {
      checkArgs(ctx, ['allocation_ident', 'fields']);
      argUuidOrName('allocation_ident', ident);
      const fields = argStringList('fields', ctx.query.get('fields'));
      const a = getAllocation(w, ident);
      checkAllowed(fields, ctx.minor);
      return ok(renderAllocation(w, ctx, a, fields));
    },
    update: (ident) => patchAllocation(w, ctx, ident),
    remove: (ident) => {
      checkArgs(ctx, ['allocation_ident']);
      argUuidOrName('allocation_ident', ident);
      destroyAllocation(w, getAllocation(w, ident));
      return { status: 204 };
    },
  });
}

function listAllocations(w: World, ctx: Ctx): Reply {
  checkArgs(ctx, ['node', 'resource_class', 'state', 'marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'owner']);
  const q = ctx.query;
  const node = argUuidOrName('node', q.get('node'));
  const resourceClass = argString('resource_class', q.get('resource_class'));
  const state = argString('state', q.get('state'));
  const a = readListQuery(new Map([...q].filter(([k]) => k !== 'detail')), false);
  const owner = argString('owner', q.get('owner'));
  checkAllowed(a.fields, ctx.minor);
  if (owner !== undefined && ctx.minor < 60) throw notAcceptable();
  const { limit, sortDir } = collectionChecks(SPEC, w.cfg.maxLimit, a);
  const marker = markerRecord(SPEC, w.allocations, a.marker);
  let nodeId: number | undefined;
  if (node) {
    try {
      nodeId = w.getNode(ctx, node).id;
    } catch (e) {
      if (e instanceof Fault && e.status === 404) throw new Fault(400, e.message);
      throw e;
    }
  }
  checkSortColumn(SPEC, a.sortKey);
  const preds: Array<(x: AllocationRec) => boolean> = [];
  if (nodeId !== undefined) preds.push((x) => x.node_id === nodeId);
  if (resourceClass !== undefined) preds.push((x) => x.resource_class === resourceClass);
  if (state !== undefined) preds.push((x) => x.state === state);
  if (owner !== undefined) preds.push((x) => x.owner === owner);
  const recs = w.allocations.page({ sortKey: a.sortKey, sortDir, limit, marker, filter: preds.length ? (x) => preds.every((p) => p(x)) : undefined });
  const items = recs.map((x) => renderAllocation(w, ctx, x, a.fields));
  return collectionBody(ctx, 'allocations', items, limit, 'allocations', [['sort_key', a.sortKey], ['sort_dir', sortDir]], a.fields, recs.at(-1)?.uuid);
}

function createAllocation(w: World, ctx: Ctx): Reply {
  const { body } = readBody(ctx, 'allocation', SCHEMA);
  validateFields(body, { uuid: 'uuid' });
  checkAllowed(Object.keys(body).filter((k) => body[k] !== undefined), ctx.minor);
  if (body.name && !isValidLogicalName(String(body.name))) throw new Fault(400, `Cannot create allocation with invalid name '${String(body.name)}'`);
  let node: NodeRec | undefined;
  if (body.node) {
    if (ctx.minor < 58) throw new Fault(400, 'Cannot set node when creating an allocation in this API version');
    try {
      node = w.getNode(ctx, String(body.node));
    } catch (e) {
      if (e instanceof Fault && e.status === 404) throw new Fault(400, e.message);
      throw e;
    }
  }
  if (!body.resource_class) {
    if (node) body.resource_class = node.resource_class;
    else throw new Fault(400, 'The resource_class field is mandatory when not backfilling');
  }
  let candidates: string[] = [];
  if (Array.isArray(body.candidate_nodes) && body.candidate_nodes.length) {
    // dbapi.check_node_list: every candidate must exist (uuids or names)
    const missing: string[] = [];
    for (const c of body.candidate_nodes as string[]) {
      const n = isUuidLike(c) ? w.store.getByUuid(c) : w.store.getByName(c);
      if (n) candidates.push(n.uuid);
      else missing.push(c);
    }
    if (missing.length) throw new Fault(400, `Nodes cannot be found: ${missing.join(', ')}`);
  } else candidates = [];
  let uuid = (body.uuid as string | null | undefined) || undefined;
  if (!uuid && node && node.instance_uuid) uuid = node.instance_uuid;
  if (uuid && w.allocations.get(uuid)) throw new Fault(409, `An allocation with UUID ${uuid} already exists.`);
  if (body.name && w.allocations.find((x) => x.name === body.name)) throw new Fault(409, `An allocation with name ${String(body.name)} already exists.`);
  if (node) w.checkTopic(node.driver, node.conductor_group);
  const a = w.allocations.insert({
    uuid,
    name: (body.name as string | null | undefined) ?? null,
    node_id: null,
    state: 'allocating',
    last_error: null,
    resource_class: body.resource_class as string | null,
    traits: ((body.traits as string[] | null | undefined) ?? []).slice(),
    candidate_nodes: candidates,
    extra: (body.extra as Record<string, unknown> | null) ?? {},
    owner: (body.owner as string | null | undefined) ?? null,
    conductor_affinity: 1,
  });
  if (node) {
    // backfill: synchronous, errors are the client's
    backfill(w, a, node);
  } else {
    w.later(() => allocate(w, a));
  }
  return created(ctx, 'allocations', a.uuid, renderAllocation(w, ctx, a));
}

function fail(w: World, a: AllocationRec, error: string): void {
  a.node_id = null;
  a.state = 'error';
  a.last_error = `Failed to process allocation ${a.uuid}: ${error}.`;
  w.allocations.touch(a);
}

function reserve(w: World, a: AllocationRec, n: NodeRec): void {
  a.node_id = n.id;
  a.state = 'active';
  w.allocations.touch(a);
  const before = { name: n.name, instance_uuid: n.instance_uuid };
  n.instance_uuid = a.uuid;
  n.allocation_id = a.id;
  n.updated_at = nowIso();
  w.nodesChanged(n, before);
}

const hasTraits = (n: NodeRec, traits: readonly string[]): boolean => traits.every((t) => (n.traits as string[]).includes(t));

/** allocations.do_allocate (nodes tried in id order: the sim does not shuffle). */
function allocate(w: World, a: AllocationRec): void {
  if (!w.allocations.get(a.uuid) || a.state !== 'allocating') return;
  let nodes = w.store.all().filter(
    (n) =>
      n.resource_class === a.resource_class &&
      n.provision_state === 'available' &&
      n.instance_uuid === null &&
      n.power_state !== null &&
      !n.maintenance &&
      (!a.candidate_nodes.length || a.candidate_nodes.includes(n.uuid)) &&
      (!a.owner || n.owner === a.owner || n.lessee === a.owner),
  );
  if (!nodes.length) {
    fail(w, a, a.candidate_nodes.length
      ? `none of the requested nodes are available and match the resource class ${a.resource_class}`
      : `no available nodes match the resource class ${a.resource_class}`);
    return;
  }
  if (a.traits.length) {
    nodes = nodes.filter((n) => hasTraits(n, a.traits));
    if (!nodes.length) {
      fail(w, a, `no suitable nodes have the requested traits ${a.traits.join(', ')}`);
      return;
    }
  }
  if (a.name) {
    const i = nodes.findIndex((n) => n.name === a.name);
    if (i > 0) nodes.unshift(...nodes.splice(i, 1));
  }
  const n = nodes.find((x) => !x.reservation);
  if (!n) {
    fail(w, a, `could not reserve any of ${nodes.length} suitable nodes`);
    return;
  }
  reserve(w, a, n);
}

/** allocations.backfill_allocation. */
function backfill(w: World, a: AllocationRec, n: NodeRec): void {
  const errors: string[] = [];
  if (n.provision_state !== 'active') errors.push(`Node must be in the "active" state, but the current state is "${n.provision_state}"`);
  if (a.resource_class && n.resource_class !== a.resource_class) {
    errors.push(`Resource class ${String(n.resource_class)} does not match the requested resource class ${a.resource_class}`);
  }
  if (a.traits.length && !hasTraits(n, a.traits)) errors.push(`List of traits ${JSON.stringify(n.traits)} does not match the requested traits ${JSON.stringify(a.traits)}`);
  if (a.candidate_nodes.length && !a.candidate_nodes.includes(n.uuid)) errors.push(`Candidate nodes must be empty or contain the target node, but got ${JSON.stringify(a.candidate_nodes)}`);
  if (errors.length) {
    const error = `Cannot backfill an allocation for node ${n.uuid}: ${errors.join('; ')}`;
    fail(w, a, error);
    throw new Fault(500, `Failed to process allocation ${a.uuid}: ${error}.`);
  }
  if (n.allocation_id !== null && n.allocation_id !== a.id) {
    fail(w, a, `Node ${n.uuid} is associated with instance ${String(n.instance_uuid)}.`);
    throw new Fault(409, `Node ${n.uuid} is associated with instance ${String(n.instance_uuid)}.`);
  }
  a.node_id = n.id;
  a.state = 'active';
  w.allocations.touch(a);
  const before = { name: n.name, instance_uuid: n.instance_uuid };
  n.allocation_id = a.id;
  if (n.instance_uuid === null) n.instance_uuid = a.uuid;
  n.updated_at = nowIso();
  w.nodesChanged(n, before);
}

/** conductor destroy_allocation: the node is freed (verify_node_for_deallocation first). */
export function destroyAllocation(w: World, a: AllocationRec): void {
  const n = w.store.getById(a.node_id);
  if (n) {
    if (!n.maintenance) {
      if (n.target_provision_state && !UPDATE_ALLOWED_STATES.has(n.provision_state)) {
        throw new Fault(
          409,
          `Cannot remove allocation ${a.uuid} for node ${n.uuid}, because the node is in state ${n.provision_state} where updates are not allowed (and maintenance mode is off)`,
        );
      }
      if (n.provision_state === 'active') {
        throw new Fault(409, `Cannot remove allocation ${a.uuid} for node ${n.uuid}, because the node is active (and maintenance mode is off)`);
      }
    }
    const before = { name: n.name, instance_uuid: n.instance_uuid };
    n.allocation_id = null;
    if (n.instance_uuid === a.uuid) n.instance_uuid = null;
    n.updated_at = nowIso();
    w.nodesChanged(n, before);
  }
  w.allocations.remove(a);
}

function patchAllocation(w: World, ctx: Ctx, ident: string): Reply {
  checkArgs(ctx, ['allocation_ident', 'patch']);
  const patch = readPatch(ctx, undefined);
  if (ctx.minor < 57) throw new RoutingError(405, 'The API version does not allow updating allocations');
  const a = getAllocation(w, ident);
  checkPatchPaths(patch, ['name', 'extra']);
  for (const name of patchValues(patch, '/name')) {
    if (name && !isValidLogicalName(String(name))) throw new Fault(400, `Cannot update allocation with invalid name '${String(name)}'`);
  }
  const d = applyPatch({ ...a }, patch);
  const valid = patchedSchemaDict(d, SCHEMA);
  if (valid.name && valid.name !== a.name && w.allocations.find((x) => x.name === valid.name)) {
    throw new Fault(409, `An allocation with name ${String(valid.name)} already exists.`);
  }
  const schemaNoIds: Schema = { properties: { name: {}, extra: {} } };
  if (updateChanged(a, valid, schemaNoIds, ['extra'])) w.allocations.touch(a);
  return ok(renderAllocation(w, ctx, a));
}

/** `/v1/nodes/{node}/allocation` (GET, DELETE). */
export function routeNodeAllocation(w: World, ctx: Ctx, ident: string, rest: string[]): Reply {
  if (ctx.minor < 52) throw new RoutingError(404, 'The API version does not allow allocations');
  if (rest.length) throw new RoutingError(404);
  const n = w.getNode(ctx, ident);
  const a = w.allocations.find((x) => x.node_id === n.id);
  if (ctx.method === 'GET') {
    checkArgs(ctx, ['fields']);
    const fields = argStringList('fields', ctx.query.get('fields'));
    if (!a) throw new Fault(404, `Allocation for node ${ident} was not found`);
    return ok(renderAllocation(w, ctx, a, fields));
  }
  if (ctx.method === 'DELETE') {
    if (!a) throw new Fault(404, `Allocation for node ${ident} was not found`);
    destroyAllocation(w, a);
    return { status: 204 };
  }
  throw new RoutingError(405);
}

/** A node's allocation goes with it (conductor destroy_node). */
export function dropNodeAllocation(w: World, n: NodeRec): void {
  const a = w.allocations.find((x) => x.node_id === n.id);
  if (a) w.allocations.remove(a);
}
