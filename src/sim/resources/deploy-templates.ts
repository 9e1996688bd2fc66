/**
 * Deploy templates (ironic/api/controllers/v1/deploy_template.py, 1.55) and
 * runbooks (upstream's runbook.py, 1.92 — not in 21.4: the same shape, a
 * `public` flag and an `owner`). Names are traits, unique on the site.
 */

import { isUuidLike } from '../../ironic/idents.js';
import { argStringList, argUuidOrName, isValidLogicalName } from '../args.js';
import { Fault, RoutingError } from '../errors.js';
import {
  applyPatch,
  checkArgs,
  checkFieldsValid,
  checkSortColumn,
  collectionBody,
  collectionChecks,
  created,
  isPlainObject,
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
import { STANDARD_TRAITS } from '../os-traits.js';
import { pyRepr } from '../pyrepr.js';
import type { Table } from '../kit.js';
import type { World } from '../world.js';

export interface TemplateStep {
  interface: string;
  step: string;
  args: Record<string, unknown>;
  priority: number;
}

export interface TemplateRec extends ObjRec {
  name: string;
  description?: string | null;
  extra: Record<string, unknown>;
  steps: TemplateStep[];
  public?: boolean;
  owner?: string | null;
}

/** TRAITS_SCHEMA: a standard trait or CUSTOM_…, as jsonschema words its failure. */
export function traitCheck(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length < 1 || v.length > 255) return undefined;
  if (/^CUSTOM_[A-Z0-9_]+$/.test(v) || STANDARD_TRAITS.has(v)) return undefined;
  return `${pyRepr(v)} is not valid under any of the given schemas. Possible root cause: ${pyRepr(v)} does not match '^CUSTOM_[A-Z0-9_]+$'`;
}

export const TRAIT_SCHEMA: Schema = { type: 'string', minLength: 1, maxLength: 255, check: traitCheck };

const STEP_SCHEMA: Schema = {
  type: 'object',
  properties: {
    args: { type: 'object' },
    interface: { type: 'string', enum: ['power', 'management', 'deploy', 'bios', 'raid'] },
    priority: {
      check: (v) =>
        (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'string' && /^[0-9]+$/.test(v))
          ? undefined
          : `${pyRepr(v)} is not valid under any of the given schemas`,
    },
    step: { type: 'string', minLength: 1 },
  },
  required: ['interface', 'step', 'args', 'priority'],
  additionalProperties: false,
};

function schemaFor(runbook: boolean): Schema {
  const properties: Record<string, Schema> = {
    description: { type: ['string', 'null'], maxLength: 255 },
    extra: { type: ['object', 'null'] },
    name: TRAIT_SCHEMA,
    steps: {
      type: 'array',
      items: STEP_SCHEMA,
      check: (v) => (Array.isArray(v) && v.length < 1 ? '[] is too short' : undefined),
    },
    uuid: { type: ['string', 'null'] },
  };
  if (runbook) {
    properties.owner = { type: ['string', 'null'], maxLength: 255 };
    properties.public = { type: ['boolean', 'null'] };
  }
  return { type: 'object', properties, required: ['steps', 'name'], additionalProperties: false };
}

interface Kind {
  resource: 'deploy_templates' | 'runbooks';
  noun: string;
  lower: string;
  since: number;
  table: (w: World) => Table<TemplateRec>;
  schema: Schema;
  spec: ListSpec;
  patchAllowed: string[];
}

const TEMPLATES: Kind = {
  resource: 'deploy_templates',
  noun: 'Deploy template',
  lower: 'deploy template',
  since: 55,
  table: (w) => w.templates,
  schema: schemaFor(false),
  spec: { resource: 'deploy_templates', defaultFields: ['uuid', 'name'], invalidSortKeys: ['extra', 'steps'], columns: new Set(['id', 'uuid', 'name', 'created_at', 'updated_at']), noun: 'Deploy template' },
  patchAllowed: ['extra', 'name', 'steps', 'description'],
};

const RUNBOOKS: Kind = {
  resource: 'runbooks',
  noun: 'Runbook',
  lower: 'runbook',
  since: 92,
  table: (w) => w.runbooks,
  schema: schemaFor(true),
  spec: { resource: 'runbooks', defaultFields: ['uuid', 'name'], invalidSortKeys: ['extra', 'steps'], columns: new Set(['id', 'uuid', 'name', 'owner', 'public', 'created_at', 'updated_at']), noun: 'Runbook' },
  patchAllowed: ['extra', 'name', 'steps', 'description', 'owner', 'public'],
};

/** mask_dict_password on step args. */
function maskArgs(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) out[k] = /pass|secret|token|key/i.test(k) ? '******' : v;
  return out;
}

function render(k: Kind, ctx: Ctx, t: TemplateRec, fields?: readonly string[]): Record<string, unknown> {
  const cols = k === RUNBOOKS ? ['name', 'extra', 'public', 'owner'] : ['name', 'extra'];
  const d = objectToDict(t, ctx, k.resource, cols, { dicts: ['extra'] });
  d.steps = t.steps.map((s) => ({ interface: s.interface, step: s.step, args: s.args, priority: s.priority }));
  checkFieldsValid(fields, Object.keys(d));
  const out = sanitize(d, fields);
  if (Array.isArray(out.steps)) out.steps = (out.steps as TemplateStep[]).map((s) => (Object.keys(s.args).length ? { ...s, args: maskArgs(s.args) } : s));
  return out;
}

function gate(k: Kind, ctx: Ctx): void {
  if (ctx.minor < k.since) {
    const msg = `The API version does not allow ${k.resource === 'runbooks' ? 'runbooks' : 'deploy templates'}`;
    throw new RoutingError(ctx.method === 'GET' ? 404 : 405, msg);
  }
}

function getOne(w: World, k: Kind, ident: string): TemplateRec {
  if (!isUuidLike(ident) && !isValidLogicalName(ident)) throw new Fault(400, `Expected a logical name or UUID but received ${ident}.`);
  const t = k.table(w).byIdent(ident);
  if (!t) throw new Fault(404, `${k.noun} ${ident} could not be found.`);
  return t;
}

function duplicateSteps(steps: TemplateStep[]): void {
  const seen = new Map<string, number>();
  for (const s of steps) {
    const key = `interface: ${s.interface}, step: ${s.step}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const dups = [...seen].filter(([, n]) => n > 1).map(([key]) => key);
  if (dups.length) {
    throw new Fault(
      400,
      `Deploy template invalid: Duplicate deploy steps. A deploy template cannot have multiple deploy steps with the same interface and step. Duplicates: ${dups.join('; ')}.`,
    );
  }
}

function normSteps(steps: unknown): TemplateStep[] {
  return (steps as Array<Record<string, unknown>>).map((s) => ({
    interface: String(s.interface),
    step: String(s.step),
    args: isPlainObject(s.args) ? s.args : {},
    priority: Number(s.priority),
  }));
}

export const routeDeployTemplates = (w: World, ctx: Ctx, rest: string[]): Reply => route(w, TEMPLATES, ctx, rest);
export const routeRunbooks = (w: World, ctx: Ctx, rest: string[]): Reply => route(w, RUNBOOKS, ctx, rest);

function route(w: World, k: Kind, ctx: Ctx, rest: string[]): Reply {
  gate(k, ctx);
  const table = k.table(w);
  return routeCollection(ctx, rest, {
    list: () => list(w, k, ctx),
    create: () => create(w, k, ctx),
    show: (ident) => {
      checkArgs(ctx, ['template_ident', 'fields']);
      const fields = argStringList('fields', ctx.query.get('fields'));
      return ok(render(k, ctx, getOne(w, k, ident), fields));
    },
    update: (ident) => {
      checkArgs(ctx, ['template_ident', 'patch']);
      argUuidOrName('template_ident', ident);
      const patch = readPatch(ctx, k.patchAllowed);
      const t = getOne(w, k, ident);
      const d = applyPatch({ ...t }, patch);
      for (const s of Array.isArray(d.steps) ? d.steps : []) patchedSchemaDict(isPlainObject(s) ? s : {}, STEP_SCHEMA);
      const valid = patchedSchemaDict(d, k.schema);
      duplicateSteps(normSteps(valid.steps));
      validateFields(valid, { uuid: 'uuid' });
      if (valid.name !== t.name && table.find((x) => x.name === valid.name)) throw new Fault(409, `A ${k.lower} with name ${String(valid.name)} already exists.`);
      valid.steps = normSteps(valid.steps);
      if (updateChanged(t, valid, k.schema, ['extra'])) table.touch(t);
      return ok(render(k, ctx, t));
    },
    remove: (ident) => {
      checkArgs(ctx, ['template_ident']);
      argUuidOrName('template_ident', ident);
      table.remove(getOne(w, k, ident));
      return { status: 204 };
    },
  });
}

function list(w: World, k: Kind, ctx: Ctx): Reply {
  checkArgs(ctx, ['marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'detail']);
  const q = ctx.query;
  // marker is args.name here
  const markerRaw = q.get('marker');
  if (markerRaw !== undefined && (typeof markerRaw !== 'string' || !isValidLogicalName(markerRaw))) {
    throw new Fault(400, `Expected name for marker: ${String(markerRaw)}`);
  }
  const a = readListQuery(new Map([...q].filter(([key]) => key !== 'marker')), false);
  const fields = returnFields(a.fields, a.detail, k.spec.defaultFields, ctx.minor);
  const { limit, sortDir } = collectionChecks(k.spec, w.cfg.maxLimit, a);
  const marker = markerRecord(k.spec, k.table(w), markerRaw as string | undefined);
  checkSortColumn(k.spec, a.sortKey);
  const recs = k.table(w).page({ sortKey: a.sortKey, sortDir, limit, marker });
  const items = recs.map((t) => render(k, ctx, t, fields));
  return collectionBody(ctx, k.resource, items, limit, k.resource, nextParams(a.sortKey, sortDir, a.detail), fields, recs.at(-1)?.uuid);
}

function create(w: World, k: Kind, ctx: Ctx): Reply {
  const { body } = readBody(ctx, k === RUNBOOKS ? 'runbook' : 'template', k.schema);
  const steps = normSteps(body.steps ?? []);
  duplicateSteps(steps);
  validateFields(body, { uuid: 'uuid' });
  const table = k.table(w);
  const uuid = (body.uuid as string | null | undefined) || undefined;
  if (table.find((x) => x.name === body.name)) throw new Fault(409, `A ${k.lower} with name ${String(body.name)} already exists.`);
  if (uuid && table.get(uuid)) throw new Fault(409, `A ${k.lower} with UUID ${uuid} already exists.`);
  const rec: Omit<TemplateRec, 'id' | 'created_at' | 'updated_at' | 'uuid'> & { uuid?: string } = {
    uuid,
    name: String(body.name),
    extra: (body.extra as Record<string, unknown> | null) ?? {},
    steps,
  };
  if (k === RUNBOOKS) {
    rec.public = Boolean(body.public ?? false);
    rec.owner = (body.owner as string | null | undefined) ?? null;
  }
  const t = table.insert(rec);
  return created(ctx, k.resource, t.uuid, render(k, ctx, t));
}
