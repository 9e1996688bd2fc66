/**
 * Conductors (ironic/api/controllers/v1/conductor.py, 1.49): one conductor
 * per conductor group of the site, named `<site>` or `<site>-<group>`,
 * paged by hostname.
 */

import { pyBool } from '../../ironic/next-link.js';
import { isValidLogicalName } from '../args.js';
import { Fault, notAcceptable, RoutingError } from '../errors.js';
import { checkAllowFields, checkArgs, checkFieldsValid, collectionBody, collectionChecks, objectToDict, ok, readListQuery, returnFields, sanitize, type Ctx, type ObjRec, type Reply } from '../kit.js';
import { nowIso } from '../node-model.js';
import { keysetPage } from '../store.js';
import type { World } from '../world.js';

interface ConductorRec extends ObjRec {
  hostname: string;
  conductor_group: string;
  drivers: string[];
}

const started = new WeakMap<World, string>();

function conductors(w: World): ConductorRec[] {
  let at = started.get(w);
  if (!at) {
    at = nowIso();
    started.set(w, at);
  }
  return w.cfg.groups.map((g, i) => ({ id: i + 1, uuid: '', hostname: w.conductorHost(g), conductor_group: g, drivers: [...w.cfg.drivers], created_at: at!, updated_at: at! }));
}

function render(ctx: Ctx, c: ConductorRec, fields?: readonly string[]): Record<string, unknown> {
  const d = objectToDict(c, ctx, 'conductors', ['hostname', 'conductor_group', 'drivers'], { uuid: false, linkArgs: c.hostname, lists: ['drivers'] });
  d.alive = true;
  checkFieldsValid(fields, Object.keys(d));
  return sanitize(d, fields);
}

function checkName(name: string, v: unknown): void {
  if (v !== undefined && (typeof v !== 'string' || !isValidLogicalName(v))) throw new Fault(400, `Expected name for ${name}: ${String(v)}`);
}

export function routeConductors(w: World, ctx: Ctx, rest: string[]): Reply {
  if (ctx.method !== 'GET') throw new RoutingError(405);
  if (ctx.minor < 49) throw new Fault(404, 'Resource could not be found.');
  const all = conductors(w);
  const fieldGate = (f: readonly string[] | undefined): void => {
    if (f && f.includes('conductor_group') && ctx.minor < 46) throw notAcceptable();
  };
  if (rest.length === 0) {
    checkArgs(ctx, ['marker', 'limit', 'sort_key', 'sort_dir', 'fields', 'detail']);
    const markerRaw = ctx.query.get('marker');
    checkName('marker', markerRaw);
    const a = readListQuery(new Map([...ctx.query].filter(([k]) => k !== 'marker')), false);
    checkAllowFields(a.fields, ctx.minor);
    fieldGate(a.fields);
    const fields = returnFields(a.fields, a.detail, ['hostname', 'conductor_group', 'alive'], ctx.minor);
    const { limit, sortDir } = collectionChecks(
      { resource: 'conductors', defaultFields: [], invalidSortKeys: ['alive', 'drivers'], columns: new Set(), noun: 'Conductor' },
      w.cfg.maxLimit,
      a,
    );
    let marker: ConductorRec | undefined;
    if (markerRaw !== undefined) {
      marker = all.find((c) => c.hostname === markerRaw);
      if (!marker) throw new Fault(404, `Conductor ${markerRaw as string} could not be found.`);
    }
    if (!['id', 'hostname', 'conductor_group', 'created_at', 'updated_at'].includes(a.sortKey)) {
      throw new Fault(400, `The sort_key value "${a.sortKey}" is an invalid field for sorting`);
    }
    const order = [...all].sort((x, y) => (a.sortKey === 'id' ? x.id - y.id : String(x[a.sortKey]).localeCompare(String(y[a.sortKey])) || x.id - y.id));
    const page = keysetPage(order, { sortKey: a.sortKey, sortDir, limit, marker });
    const params: Array<readonly [string, string | undefined]> = [
      ['sort_key', a.sortKey],
      ['sort_dir', sortDir],
      ['detail', a.detail === undefined ? undefined : pyBool(a.detail)],
    ];
    return collectionBody(ctx, 'conductors', page.map((c) => render(ctx, c, fields)), limit, 'conductors', params, fields, page.at(-1)?.hostname);
  }
  if (rest.length > 1) throw new RoutingError(404);
  checkArgs(ctx, ['hostname', 'fields']);
  checkName('hostname', rest[0]);
  const fields = ctx.query.get('fields') === undefined ? undefined : String(ctx.query.get('fields')).split(',').map((s) => s.trim()).filter((s) => s);
  checkAllowFields(fields, ctx.minor);
  fieldGate(fields);
  const c = all.find((x) => x.hostname === rest[0]);
  if (!c) throw new Fault(404, `Conductor ${rest[0]!} could not be found.`);
  return ok(render(ctx, c, fields));
}
