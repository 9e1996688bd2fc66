/**
 * What every simulated controller shares, after Ironic's own helpers
 * (ironic/api/controllers/v1/{utils,collection}.py, ironic/common/args.py):
 * the request context, argument checks, JSON bodies, a JSON-schema subset
 * with python-jsonschema's messages, object tables with SQLite ordering and
 * keyset paging, the collection routes every resource controller shares,
 * `fields`/`detail` handling, rendering with links, `next` links and
 * JSON-patch application.
 */

import { randomUUID } from 'node:crypto';

import { isUuidLike } from '../ironic/idents.js';
import { selfAndBookmark } from '../ironic/links.js';
import { buildUrl, ironicNextLink, pyBool } from '../ironic/next-link.js';
import { argBoolean, argInteger, argString, argStringList, argUuid, isValidLogicalName, rejectUnexpected, type Query } from './args.js';
import { Fault, notAcceptable, RoutingError } from './errors.js';
import { nowIso, type RenderContext } from './node-model.js';
import { applyOp, opRepr, PatchApplyError, patchSchemaError, type PatchOp } from './patch.js';
import { pyRepr, pyStr } from './pyrepr.js';
import { keyIdComparator, keysetPage, type Row } from './store.js';

/** One request as a controller sees it. */
export interface Ctx {
  method: string;
  minor: number;
  base: string;
  query: Query;
  rawBody: string;
  /** Headers added to the answer (Location…). */
  headers: Record<string, string>;
  render: RenderContext;
}

export interface Reply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export function ok(obj: unknown, status = 200): { status: number; body: string } {
  return { status, body: JSON.stringify(obj) };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The request body as Python's json reads it (one leading byte-order mark skipped); undefined when empty. */
export function parseJsonBody(ctx: Ctx): unknown {
  if (!ctx.rawBody) return undefined;
  try {
    return JSON.parse(ctx.rawBody.replace(/^\ufeff/, '')) as unknown;
  } catch {
    throw new Fault(500, 'Expecting value: line 1 column 1 (char 0)');
  }
}

/** args.validate's keyword check: query keys (and body keys) must be parameters of the handler. */
export function checkArgs(ctx: Ctx, params: readonly string[], bodyKeys: Iterable<string> = []): void {
  rejectUnexpected([...ctx.query.keys(), ...bodyKeys], new Set(params));
}

/**
 * A POST's body as the handler's one argument: args.validate's keyword check,
 * the JSON, then args.schema. `raw` is what was sent — `{}` when nothing was,
 * as Ironic's method.body reads an empty body (a schema then names its first
 * required property), or null — and `body` a copy to normalise in place.
 */
export function readBody(ctx: Ctx, name: string, schema: Schema): { raw: unknown; body: Record<string, unknown> } {
  checkArgs(ctx, [name]);
  const raw = parseJsonBody(ctx) ?? {};
  validateSchema(name, raw, schema);
  return { raw, body: { ...((raw ?? {}) as Record<string, unknown>) } };
}

/** The 201 of a creation: the new object and its Location. */
export function created(ctx: Ctx, resource: string, uuid: string, doc: Record<string, unknown>): Reply {
  return { status: 201, body: JSON.stringify(doc), headers: { Location: buildUrl(ctx.base, resource, uuid) } };
}

// ---------------------------------------------------------------- schemas

/** The JSON-schema subset Ironic's API schemas use. */
export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean;
  maxLength?: number;
  minLength?: number;
  items?: Schema;
  enum?: unknown[];
  minimum?: number;
  /** A custom check of a valid-typed value (returns a jsonschema-style message). */
  check?: (v: unknown) => string | undefined;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeOk(v: unknown, types: string[]): boolean {
  const t = jsonType(v);
  return types.includes(t) || (t === 'integer' && types.includes('number'));
}

interface SchemaError {
  depth: number;
  message: string;
}

function schemaErrors(v: unknown, s: Schema, depth: number, out: SchemaError[]): void {
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (!typeOk(v, types)) {
      out.push({ depth, message: `${pyRepr(v)} is not of type ${types.map(pyStr).join(', ')}` });
      return;
    }
  }
  if (s.enum && !s.enum.some((e) => e === v)) out.push({ depth, message: `${pyRepr(v)} is not one of ${pyRepr(s.enum)}` });
  if (typeof v === 'string') {
    const len = [...v].length;
    if (s.maxLength !== undefined && len > s.maxLength) out.push({ depth, message: `${pyRepr(v)} is too long` });
    if (s.minLength !== undefined && len < s.minLength) out.push({ depth, message: `${pyRepr(v)} is too short` });
  }
  if (typeof v === 'number' && s.minimum !== undefined && v < s.minimum) {
    out.push({ depth, message: `${pyRepr(v)} is less than the minimum of ${s.minimum}` });
  }
  if (Array.isArray(v) && s.items) for (const item of v) schemaErrors(item, s.items, depth + 1, out);
  if (isPlainObject(v)) {
    if (s.properties) {
      for (const [k, sub] of Object.entries(s.properties)) if (k in v) schemaErrors(v[k], sub, depth + 1, out);
    }
    for (const r of s.required ?? []) if (!(r in v)) out.push({ depth, message: `${pyStr(r)} is a required property` });
    if (s.additionalProperties === false && s.properties) {
      const extra = Object.keys(v).filter((k) => !(k in s.properties!));
      if (extra.length) {
        out.push({
          depth,
          message: `Additional properties are not allowed (${extra.map(pyStr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`,
        });
      }
    }
  }
  if (s.check) {
    const m = s.check(v);
    if (m) out.push({ depth, message: m });
  }
}

/**
 * args.schema: `Schema error for <name>: <message>` of jsonschema's best
 * match — the shallowest error, the first of equals.
 */
export function validateSchema(name: string, v: unknown, s: Schema): void {
  if (v === undefined || v === null) return;
  const errors: SchemaError[] = [];
  schemaErrors(v, s, 0, errors);
  if (!errors.length) return;
  let best = errors[0]!;
  for (const e of errors) if (e.depth < best.depth) best = e;
  throw new Fault(400, `Schema error for ${name}: ${best.message}`);
}

/** args.mac_address: the address lower-cased, or the 400. */
export function argMac(name: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(v.toLowerCase())) {
    throw new Fault(400, `Expected valid MAC address for ${name}: ${String(v)}`);
  }
  return v.toLowerCase();
}

/** args.dict_valid with the usual field validators, applied in place to a validated body. */
export function validateFields(body: Record<string, unknown>, spec: Record<string, 'uuid' | 'boolean' | 'mac' | 'uuid_or_name'>): void {
  for (const [k, kind] of Object.entries(spec)) {
    if (!(k in body)) continue;
    const v = body[k];
    if (kind === 'uuid') argUuid(k, v);
    else if (kind === 'boolean') body[k] = argBoolean(k, v) ?? null;
    else if (kind === 'mac') body[k] = argMac(k, v) ?? null;
    else if (v !== null && v !== undefined && (typeof v !== 'string' || (!isValidLogicalName(v) && !isUuidLike(v)))) {
      throw new Fault(400, `Expected UUID or name for ${k}: ${String(v)}`);
    }
  }
}

// ------------------------------------------------------------------ tables

/** A simulated object: a table row with a UUID and timestamps. */
export interface ObjRec extends Row {
  uuid: string;
  created_at: string;
  updated_at: string | null;
}

/**
 * One table of objects in id order, with the lookups Ironic's DB API offers
 * and the same ordering and keyset paging as the node table.
 */
export class Table<T extends ObjRec> {
  private rows: T[] = [];
  private byUuid = new Map<string, T>();
  private sorted = new Map<string, T[]>();
  private nextId = 1;

  constructor(readonly nameKey?: string) {}

  insert(fields: Omit<T, 'id' | 'created_at' | 'updated_at' | 'uuid'> & { uuid?: string | null }): T {
    const rec = { ...fields, id: this.nextId++, uuid: fields.uuid || randomUUID(), created_at: nowIso(), updated_at: null } as unknown as T;
    this.rows.push(rec);
    this.byUuid.set(rec.uuid, rec);
    this.sorted.clear();
    return rec;
  }

  remove(rec: T): void {
    this.rows = this.rows.filter((r) => r !== rec);
    this.byUuid.delete(rec.uuid);
    this.sorted.clear();
  }

  /** Call after changing a row: stamps updated_at and drops the sort caches. */
  touch(rec: T): void {
    rec.updated_at = nowIso();
    this.sorted.clear();
  }

  get(uuid: string): T | undefined {
    return this.byUuid.get(uuid);
  }

  byId(id: number | null | undefined): T | undefined {
    if (id === null || id === undefined) return undefined;
    return this.rows.find((r) => r.id === id);
  }

  find(pred: (r: T) => boolean): T | undefined {
    return this.rows.find(pred);
  }

  filter(pred: (r: T) => boolean): T[] {
    return this.rows.filter(pred);
  }

  /** By UUID, or by name when the table has names (get_rpc_<thing>). */
  byIdent(ident: string): T | undefined {
    if (isUuidLike(ident)) return this.get(ident);
    if (this.nameKey) return this.rows.find((r) => r[this.nameKey!] === ident);
    return undefined;
  }

  all(): readonly T[] {
    return this.rows;
  }

  get size(): number {
    return this.rows.length;
  }

  page(q: { sortKey: string; sortDir: 'asc' | 'desc'; limit: number; marker?: T; filter?: (r: T) => boolean }): T[] {
    let order: T[] = this.rows;
    if (q.sortKey !== 'id') {
      let s = this.sorted.get(q.sortKey);
      if (!s) {
        s = this.rows.slice().sort(keyIdComparator<T>(q.sortKey));
        this.sorted.set(q.sortKey, s);
      }
      order = s;
    }
    return keysetPage(order, q);
  }
}

// ------------------------------------------------------------- collections

/**
 * What pecan's RestController does below a collection, shared by the
 * controllers as Ironic's share the base class: `GET|POST /`, `GET /detail`
 * where there is one, `GET|PATCH|DELETE /{ident}`; another method is a 405,
 * a deeper path a 404 unless the controller has sub-controllers. The
 * handlers keep their own order of checks, which differs from controller to
 * controller (and which clients see in the error texts).
 */
export interface CollectionRoutes {
  /** `GET /` (detailPath false) and, with `detail`, `GET /detail` (true). */
  list(detailPath: boolean): Reply;
  create(): Reply;
  /** The controller has a `detail` listing (ports, portgroups, chassis, nodes). */
  detail?: boolean;
  /** The controller's `_lookup`: a check of the ident before any route below it. */
  lookup?(ident: string): void;
  /** The sub-controllers of one item: `rest` is what follows the ident (never empty). Default: 404. */
  below?(ident: string, rest: string[]): Reply;
  show(ident: string): Reply;
  update(ident: string): Reply;
  remove(ident: string): Reply;
}

export function routeCollection(ctx: Ctx, rest: readonly string[], r: CollectionRoutes): Reply {
  const m = ctx.method;
  if (rest.length === 0) {
    if (m === 'GET') return r.list(false);
    if (m === 'POST') return r.create();
    throw new RoutingError(405);
  }
  if (r.detail && rest.length === 1 && rest[0] === 'detail' && m === 'GET') return r.list(true);
  const ident = rest[0]!;
  r.lookup?.(ident);
  if (rest.length > 1) {
    if (r.below) return r.below(ident, rest.slice(1));
    throw new RoutingError(404);
  }
  if (m === 'GET') return r.show(ident);
  if (m === 'PATCH') return r.update(ident);
  if (m === 'DELETE') return r.remove(ident);
  throw new RoutingError(405);
}

export interface ListSpec {
  /** Collection key and link resource, e.g. `ports`. */
  resource: string;
  /** Default `fields` of a listing without fields or detail (_DEFAULT_RETURN_FIELDS). */
  defaultFields: readonly string[];
  /** sort keys refused with "is an invalid field for sorting". */
  invalidSortKeys: readonly string[];
  /** Sortable columns (anything else: the DB layer's `"key"` 400). */
  columns: ReadonlySet<string>;
  /** Noun of the marker's NotFound, e.g. `Port`. */
  noun: string;
  /** The `detail` query parameter is accepted (since 1.43 in Ironic). */
  detailParam?: boolean;
}

export interface ListArgs {
  marker?: string;
  limit: number;
  sortKey: string;
  sortDir: 'asc' | 'desc';
  /** Fields to keep; undefined = all (detail). */
  fields?: string[];
  /** The caller's `fields` (undefined when not given). */
  askedFields?: string[];
  detail?: boolean;
}

/** api_utils.validate_limit. */
export function validateLimit(limit: number | undefined, maxLimit: number): number {
  if (limit === undefined) return maxLimit;
  if (limit <= 0) throw new Fault(400, 'Limit must be positive');
  return Math.min(maxLimit, limit);
}

/** api_utils.validate_sort_dir. */
export function validateSortDir(dir: string): 'asc' | 'desc' {
  if (dir !== 'asc' && dir !== 'desc') {
    throw new Fault(400, `Invalid sort direction: ${dir}. Acceptable values are 'asc' or 'desc'`);
  }
  return dir;
}

/** check_allow_specify_fields: fields need 1.8. */
export function checkAllowFields(fields: string[] | undefined, minor: number): void {
  if (fields !== undefined && minor < 8) throw notAcceptable();
}

/** get_request_return_fields. */
export function returnFields(fields: string[] | undefined, detail: boolean | undefined, defaults: readonly string[], minor: number): string[] | undefined {
  if (detail !== undefined && minor < 43) throw new Fault(400, `Invalid query parameter ?detail=${pyBool(detail)} received.`);
  if (fields !== undefined && detail) throw new Fault(400, 'Can not specify ?detail=True and fields in the same request.');
  if (fields === undefined && !detail) return [...defaults];
  return fields;
}

/** The common query parameters of a `get_all` (marker, limit, sort_key, sort_dir, fields, detail), in args.validate's order of checks. */
export function readListQuery(q: Query, detailPath: boolean): { marker?: string; limit?: number; sortKey: string; sortDir: string; fields?: string[]; detail?: boolean } {
  return {
    marker: argUuid('marker', q.get('marker')),
    limit: argInteger('limit', q.get('limit')),
    sortKey: argString('sort_key', q.get('sort_key')) ?? 'id',
    sortDir: argString('sort_dir', q.get('sort_dir')) ?? 'asc',
    fields: detailPath ? undefined : argStringList('fields', q.get('fields')),
    detail: detailPath ? undefined : argBoolean('detail', q.get('detail')),
  };
}

/** The checks of `_get_<things>_collection` before the query: limit, sort dir, invalid sort keys. */
export function collectionChecks(spec: ListSpec, maxLimit: number, a: { limit?: number; sortKey: string; sortDir: string }): { limit: number; sortDir: 'asc' | 'desc' } {
  const limit = validateLimit(a.limit, maxLimit);
  const sortDir = validateSortDir(a.sortDir);
  if (spec.invalidSortKeys.includes(a.sortKey)) {
    throw new Fault(400, `The sort_key value ${a.sortKey} is an invalid field for sorting`);
  }
  return { limit, sortDir };
}

/** The marker of a listing (by UUID), or the NotFound in the spec's noun. */
export function markerRecord<T extends ObjRec>(spec: ListSpec, table: Table<T>, marker: string | undefined): T | undefined {
  if (!marker) return undefined;
  const rec = table.get(marker);
  if (!rec) throw new Fault(404, `${spec.noun} ${marker} could not be found.`);
  return rec;
}

/**
 * The handler's own arguments that `next` links repeat: sort_key, sort_dir
 * and detail — absent when not given, or spelled `None` by handlers that pass
 * their default on (the volume controllers).
 */
export function nextParams(sortKey: string, sortDir: string, detail: boolean | undefined, unset?: 'None'): Array<readonly [string, string | undefined]> {
  return [
    ['sort_key', sortKey],
    ['sort_dir', sortDir],
    ['detail', detail === undefined ? unset : pyBool(detail)],
  ];
}

/** The DB layer's sort key check (after the marker is read). */
export function checkSortColumn(spec: ListSpec, sortKey: string): void {
  if (sortKey !== 'id' && !spec.columns.has(sortKey)) {
    throw new Fault(400, `The sort_key value "${sortKey}" is an invalid field for sorting`);
  }
}

/** api_utils.check_for_invalid_fields. */
export function checkFieldsValid(fields: readonly string[] | undefined, objectFields: Iterable<string>): void {
  if (!fields) return;
  const have = new Set(objectFields);
  const bad = fields.filter((f) => !have.has(f));
  if (bad.length) throw new Fault(400, `Field(s) "${bad.join(', ')}" are not valid`);
}

/** api_utils.sanitize_dict: keep the asked fields and links. */
export function sanitize(obj: Record<string, unknown>, fields: readonly string[] | undefined): Record<string, unknown> {
  if (fields === undefined) return obj;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (fields.includes(k) || k === 'links') out[k] = v;
  return out;
}

/**
 * object_to_dict: uuid, created_at, updated_at, then `fields` (None → `{}`
 * for dict columns, `[]` for list columns), then links.
 */
export function objectToDict(
  rec: ObjRec,
  ctx: Ctx,
  resource: string,
  fields: readonly string[],
  opts: { dicts?: readonly string[]; lists?: readonly string[]; linkArgs?: string; uuid?: boolean } = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const all = [...(opts.uuid === false ? [] : ['uuid']), 'created_at', 'updated_at', ...fields];
  for (const f of all) {
    const v = rec[f];
    if (v === null || v === undefined) out[f] = opts.dicts?.includes(f) ? {} : opts.lists?.includes(f) ? [] : null;
    else out[f] = v;
  }
  out.links = selfAndBookmark(ctx.base, resource, opts.linkArgs ?? rec.uuid);
  return out;
}

/** collection.list_convert_with_links: the items, and a `next` link when the page is full. */
export function collectionBody(
  ctx: Ctx,
  itemName: string,
  items: Array<Record<string, unknown>>,
  limit: number,
  url: string,
  params: ReadonlyArray<readonly [string, string | undefined]>,
  fields: readonly string[] | undefined,
  /** The marker of the next page: the last record's key (read before the fields are cut). */
  lastKey: string | undefined,
): { status: number; body: string } {
  const doc: Record<string, unknown> = { [itemName]: items };
  if (items.length && items.length === limit) {
    const all: Array<readonly [string, string | undefined]> = [...params, ['fields', fields && fields.length ? fields.join(',') : undefined]];
    doc.next = ironicNextLink(ctx.base, url, all, limit, String(lastKey));
  }
  return ok(doc);
}

// ------------------------------------------------------------------ patches

/** args.patch + patch_validate_allowed_fields: the body as a patch, or the 400. */
export function readPatch(ctx: Ctx, allowed: readonly string[] | undefined): PatchOp[] {
  const body = parseJsonBody(ctx) ?? {};
  const err = patchSchemaError(body);
  if (err) throw new Fault(400, err);
  const patch = body as PatchOp[];
  if (allowed) checkPatchPaths(patch, allowed);
  return patch;
}

/** patch_validate_allowed_fields: every path's first part is one of `allowed`, or the 400. */
export function checkPatchPaths(patch: readonly PatchOp[], allowed: readonly string[]): void {
  for (const p of patch) {
    if (!allowed.includes(p.path.split('/')[1]!)) {
      throw new Fault(400, `Cannot patch ${p.path}. Only the following can be updated: ${allowed.join(', ')}`);
    }
  }
}

/** api_utils.get_patch_values. */
export function patchValues(patch: readonly PatchOp[], path: string): unknown[] {
  return patch.filter((p) => p.path === path && p.op !== 'remove').map((p) => p.value);
}

/** api_utils.apply_jsonpatch on a deep copy of `doc`. */
export function applyPatch(doc: Record<string, unknown>, patch: readonly PatchOp[]): Record<string, unknown> {
  const d = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
  for (const p of patch) {
    if (p.op === 'add' && p.path.split('/').length === 2 && !(p.path.slice(1) in d)) {
      throw new Fault(400, `Adding a new attribute (${p.path}) to the root of the resource is not allowed`);
    }
  }
  for (const p of patch) {
    try {
      applyOp(d, p);
    } catch (e) {
      if (e instanceof PatchApplyError) {
        throw new Fault(400, `Couldn't apply patch '${opRepr(p as unknown as Record<string, unknown>)}'. Reason: ${e.message}`);
      }
      throw e;
    }
  }
  return d;
}

/** patched_validate_with_schema: keep the schema's keys only, then validate as `patch`. */
export function patchedSchemaDict(d: Record<string, unknown>, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(schema.properties ?? {})) if (k in d) out[k] = d[k];
  validateSchema('patch', out, schema);
  return out;
}

/** patch_update_changed_fields for the schema's fields present on the record: returns whether anything changed. */
export function updateChanged(rec: ObjRec, from: Record<string, unknown>, schema: Schema, dicts: readonly string[] = []): boolean {
  let changed = false;
  for (const k of Object.keys(schema.properties ?? {})) {
    if (!(k in rec) || k === 'uuid') continue;
    let v = from[k] ?? null;
    if (v === null && dicts.includes(k)) v = {};
    if (JSON.stringify(rec[k]) !== JSON.stringify(v)) {
      (rec as Record<string, unknown>)[k] = v;
      changed = true;
    }
  }
  return changed;
}
