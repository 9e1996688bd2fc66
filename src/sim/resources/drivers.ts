/**
 * Drivers (ironic/api/controllers/v1/driver.py): the site's enabled hardware
 * types with the conductors that load them, `?type=`/`?detail=`/`?fields=`,
 * and `/v1/drivers/{name}/properties`.
 */

import { selfAndBookmark } from '../../ironic/links.js';
import { argBoolean, argString, argStringList } from '../args.js';
import { Fault, notAcceptable, RoutingError } from '../errors.js';
import { checkArgs, checkFieldsValid, ok, sanitize, type Ctx, type Reply } from '../kit.js';
import { DRIVERS } from '../seed.js';
import type { World } from '../world.js';
import { ENABLED_INTERFACES } from '../interfaces.js';

/** drivers.base.ALL_INTERFACES (sorted: Ironic iterates a set). */
const ALL_INTERFACES = ['bios', 'boot', 'console', 'deploy', 'inspect', 'management', 'network', 'power', 'raid', 'rescue', 'storage', 'vendor'];

/**
 * What `GET /v1/drivers/fake-hardware/properties` answers on 21.4 (the union
 * of the fake interfaces' properties: none of them declares any).
 */
const PROPERTIES: Record<string, Record<string, string>> = {};

function render(w: World, ctx: Ctx, name: string, detail: boolean, fields?: readonly string[]): Record<string, unknown> {
  const d: Record<string, unknown> = {
    name,
    hosts: w.cfg.groups.map((g) => w.conductorHost(g)),
    links: selfAndBookmark(ctx.base, 'drivers', name),
  };
  if (ctx.minor >= 14) d.properties = selfAndBookmark(ctx.base, 'drivers', `${name}/properties`);
  if (ctx.minor >= 30) {
    d.type = 'dynamic';
    if (detail) {
      const profile = DRIVERS[name] as unknown as Record<string, string> | undefined;
      const given = w.cfg.driverInterfaces?.[name];
      for (const i of ALL_INTERFACES) {
        const own = given?.[i];
        const enabled = own ? own.enabled : ENABLED_INTERFACES[i];
        d[`default_${i}_interface`] = own ? own.default : enabled ? (profile?.[`${i}_interface`] ?? enabled[0]!) : null;
        d[`enabled_${i}_interfaces`] = enabled ? [...enabled] : [];
      }
    }
  }
  // hide_fields_in_newer_versions
  const gates: Array<[string, number]> = [['storage', 33], ['rescue', 38], ['bios', 40]];
  for (const [i, v] of gates) {
    if (ctx.minor < v) {
      delete d[`default_${i}_interface`];
      delete d[`enabled_${i}_interfaces`];
    }
  }
  if (fields !== undefined) {
    const out = sanitize(d, fields);
    checkFieldsValid(fields, Object.keys(out));
    return out;
  }
  return d;
}

export function routeDrivers(w: World, ctx: Ctx, rest: string[]): Reply {
  if (ctx.method !== 'GET') throw new RoutingError(405);
  if (rest.length === 0) {
    checkArgs(ctx, ['type', 'detail', 'fields']);
    const type = argString('type', ctx.query.get('type'));
    const detail = argBoolean('detail', ctx.query.get('detail'));
    const fields = argStringList('fields', ctx.query.get('fields'));
    if (fields && fields.length && detail) throw new Fault(400, 'Can not specify ?detail=True and fields in the same request.');
    if (detail !== undefined && ctx.minor < 30) throw notAcceptable();
    if (type !== undefined && ctx.minor < 30) throw notAcceptable();
    if (fields !== undefined && ctx.minor < 77) throw notAcceptable();
    if (type !== undefined && type !== 'classic' && type !== 'dynamic') {
      throw new Fault(400, '"type" filter must be one of "classic" or "dynamic", if specified.');
    }
    const names = type === 'classic' ? [] : w.cfg.drivers;
    return ok({ drivers: names.map((n) => render(w, ctx, n, detail === true, fields)) });
  }
  const name = rest[0]!;
  if (rest.length === 2 && rest[1] === 'properties') {
    checkArgs(ctx, ['driver_name']);
    if (!w.cfg.drivers.includes(name)) {
      throw new Fault(404, `No valid host was found. Reason: No conductor service registered which supports driver ${name} for conductor group "".`);
    }
    return ok(w.cfg.driverProperties?.[name] ?? PROPERTIES[name] ?? {});
  }
  if (rest.length > 1) throw new RoutingError(404);
  checkArgs(ctx, ['driver_name', 'fields']);
  const fields = argStringList('fields', ctx.query.get('fields'));
  if (fields !== undefined && ctx.minor < 77) throw notAcceptable();
  if (!w.cfg.drivers.includes(name)) throw new Fault(404, `Could not find the following driver(s) or hardware type(s): ${name}.`);
  return ok(render(w, ctx, name, true, fields));
}
