/**
 * Drivers (hardware types; ironic/api/controllers/v1/driver.py): the
 * listing, one driver, its properties, its RAID logical disk properties and
 * its vendor passthru. A driver is known by name at every site that has a
 * conductor running it.
 *
 * Before any policy: the microversion header (406); `args.validate`
 * (driver_name, type, method strings, detail a boolean, fields a list →
 * 400); any query parameter the handler does not take → 400 "Unexpected
 * arguments" (e.g. ?fields on …/properties).
 *
 * ── Every form: check_policy(rule) with the caller's own credentials ─────
 *   Defaults are system-scope only: baremetal:driver:get,
 *   :get_properties, :get_raid_logical_disk_properties for system readers
 *   and the service role, :vendor_passthru for system admins. A
 *   project-scoped caller is refused 403.
 *   Order per form (checked against the code):
 *   - GET /v1/drivers: fields WITH detail → 400 "Can not specify
 *     ?detail=True and fields in the same request." BEFORE the policy; then
 *     the policy; detail or type below 1.30 → 406; fields below 1.77 → 406;
 *     type not classic/dynamic → 400 (`classic` lists nothing since Rocky).
 *   - GET /v1/drivers/{driver_name}: policy → fields below 1.77 → 406 → a
 *     driver no conductor runs → 404 "Could not find the following
 *     driver(s) or hardware type(s): <name>." (policy before lookup: 403
 *     first).
 *   - …/properties, …/vendor_passthru/methods, …/vendor_passthru: policy →
 *     the conductor's answer (unknown driver: 404).
 *   - …/raid/logical_disk_properties: policy → below 1.12 → 406 → unknown
 *     driver 404; a driver without RAID → 404.
 *   - vendor passthru calls: `method` is mandatory (400 "Missing mandatory
 *     parameter: method"); the request body (any JSON) is the data; Ironic
 *     answers what the driver's method returns, with the status it sets
 *     (200 sync, 202 async); a method the driver does not have, or an HTTP
 *     method it does not declare → 400. Every HTTP method below is routed
 *     to the same handler (checked against Ironic 21.4).
 */
import { ANY_BODY } from '../body.js';
import type { ApiEntry, HttpMethod } from '../types.js';
import { PECAN_WHY, type FieldRedaction, type RefusedForm } from './shapes.js';

const DRIVER = { kind: 'driver', param: 'driver_name' } as const;

const VENDOR_PASSTHRU_METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * Driver names Ironic never routes to GET /v1/drivers/{driver_name}: these
 * segments are its custom actions and sub-controllers (checked against
 * Ironic 21.4: /v1/drivers/properties and /v1/drivers/vendor_passthru are
 * 400 "Missing mandatory parameter: driver_name", /v1/drivers/raid a 405).
 * A request naming one of them as `driver_name` matches no entry.
 */
export const DRIVER_RESERVED_NAMES: readonly string[] = ['properties', 'raid', 'vendor_passthru'];

export const DRIVER_ENTRIES: readonly ApiEntry[] = [
  {
    method: 'GET',
    path: '/v1/drivers',
    query: ['type', 'detail', 'fields'],
    since: 1,
    authz: { check: 'policy', rules: ['baremetal:driver:get'] },
    engine: 'driver.list',
    doc: 'List drivers; each with the hosts of every site that runs it (merged by name).',
  },
  {
    method: 'GET',
    path: '/v1/drivers/{driver_name}',
    object: DRIVER,
    query: ['fields'],
    since: 1,
    authz: { check: 'policy', rules: ['baremetal:driver:get'] },
    engine: 'driver.show',
    doc: 'Show a driver (policy before lookup: 403 before 404); hosts merged over the sites.',
  },
  {
    method: 'GET',
    path: '/v1/drivers/{driver_name}/properties',
    object: DRIVER,
    query: [],
    since: 1,
    authz: { check: 'policy', rules: ['baremetal:driver:get_properties'] },
    engine: 'driver.properties',
    doc: "The driver_info properties the driver accepts; from a site that runs it.",
  },
  {
    method: 'GET',
    path: '/v1/drivers/{driver_name}/raid/logical_disk_properties',
    object: DRIVER,
    query: [],
    since: 12,
    belowSince: { status: 406, afterAuthz: true },
    authz: { check: 'policy', rules: ['baremetal:driver:get_raid_logical_disk_properties'] },
    engine: 'driver.raid-properties',
    doc: "The RAID logical disk properties of the driver; from a site that runs it.",
  },
  {
    method: 'GET',
    path: '/v1/drivers/{driver_name}/vendor_passthru/methods',
    object: DRIVER,
    query: [],
    since: 1,
    authz: { check: 'policy', rules: ['baremetal:driver:vendor_passthru'] },
    engine: 'driver.vendor-methods',
    doc: "The driver's vendor passthru methods; from a site that runs it.",
  },
  ...VENDOR_PASSTHRU_METHODS.map(
    (method): ApiEntry => ({
      method,
      path: '/v1/drivers/{driver_name}/vendor_passthru',
      object: DRIVER,
      query: ['method'],
      since: 1,
      authz: { check: 'policy', rules: ['baremetal:driver:vendor_passthru'] },
      engine: 'driver.vendor-call',
      body: ANY_BODY,
      doc: `Call a driver vendor passthru method (${method}, ?method=); at one site that runs the driver.`,
    }),
  ),
];

/**
 * Drivers carry no secret; driver bodies lose the interface fields newer
 * than the request's version (hide_fields_in_newer_versions).
 */
export const DRIVER_REDACTIONS: readonly FieldRedaction[] = [
  { field: 'default_storage_interface', when: 'below', minor: 33, action: 'remove' },
  { field: 'enabled_storage_interfaces', when: 'below', minor: 33, action: 'remove' },
  { field: 'default_rescue_interface', when: 'below', minor: 38, action: 'remove' },
  { field: 'enabled_rescue_interfaces', when: 'below', minor: 38, action: 'remove' },
  { field: 'default_bios_interface', when: 'below', minor: 40, action: 'remove' },
  { field: 'enabled_bios_interfaces', when: 'below', minor: 40, action: 'remove' },
];

/** Checked against a real Ironic 21.4. */
export const PECAN_FORMS_REFUSED: readonly RefusedForm[] = [
  {
    method: 'GET',
    example: 'GET /v1/drivers/<driver_name>/name',
    why: `${PECAN_WHY.fieldsSegment} (same as ?fields=name).`,
  },
  {
    method: 'GET',
    example: 'GET /v1/drivers/properties?driver_name=<name>',
    why: `${PECAN_WHY.queryArg}: the custom action \`properties\` takes driver_name.`,
  },
  {
    method: 'GET',
    example: 'GET /v1/drivers/raid/logical_disk_properties?driver_name=<name>',
    why: `${PECAN_WHY.queryArg}: the raid controller's action takes driver_name.`,
  },
  {
    method: 'GET',
    example: 'GET /v1/drivers/vendor_passthru/methods?driver_name=<name>',
    why: `${PECAN_WHY.queryArg}: the methods action takes driver_name.`,
  },
  {
    method: 'ANY',
    example: 'POST /v1/drivers/<driver_name>/vendor_passthru/<method> (any method)',
    why: 'pecan routes the extra segment to the passthru handler (_default) as its `method` argument.',
  },
  {
    method: 'ANY',
    example: 'GET /v1/drivers/vendor_passthru?driver_name=<name>&method=<m> (or both in a JSON body)',
    why: `${PECAN_WHY.queryArg}: driver_name and method are the passthru handler's arguments.`,
  },
];
