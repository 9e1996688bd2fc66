/**
 * Request bodies as each Ironic handler takes them, declared per entry of the
 * API table (`ApiEntry.body`) and checked by the router before anything is
 * sent to a site: a body that Ironic would refuse is refused by the proxy
 * with Ironic's 400 text, and one Ironic would fail on (500: `null` where a
 * document is expected, nesting that exhausts Python's recursion) with a
 * clear 400 of the proxy's own. Ironic reads bodies in two ways:
 *
 * - `document` (`@method.body(name)` + `@args.validate(name=…)`): the whole
 *   body is one JSON value, read whatever the content type, `{}` when empty,
 *   checked against a schema or a type ("Schema error for node: [] is not
 *   of type 'object'").
 * - `arguments` (no `method.body`): pecan binds the keys of a JSON object
 *   body (content type application/json) to the handler's keyword
 *   arguments, which `args.validate` checks in the handler's order:
 *   "Unexpected arguments: x", "Missing mandatory parameter: target",
 *   "Expected string for target: 1"… Any other body is not read at all.
 *
 * Checks Ironic makes inside the handler, after its policy check (a power
 * target outside the enum, a trait both in the path and the body), are
 * `handler` checks: the router runs them after the authorisation, so a
 * caller Ironic would refuse still gets the 403 first.
 */
import { badRequest, conflict } from '../errors.js';
import { schemaError, type JsonSchema } from '../ironic/json-schema.js';
import { pyRepr, pyStr } from '../ironic/py-repr.js';
import { isUuidLike } from '../ironic/idents.js';

/** What a check knows besides the body: the path arguments and the request's microversion (minor). */
export interface BodyContext {
  params: Readonly<Record<string, string>>;
  minor: number;
}

/** What a handler check may read besides: the node the request is about, at its site (when known). */
export interface HandlerContext extends BodyContext {
  readNode?: () => Promise<Record<string, unknown>>;
}

/** One keyword argument's check (ironic/common/args.py): returns normally, or throws Ironic's 400. */
export type ArgCheck = (name: string, value: unknown) => void;

export type BodySpec =
  | {
      kind: 'document';
      /** The handler argument the body becomes (it names the value in Ironic's texts). */
      name: string;
      /** `args.schema(…)`. */
      schema?: JsonSchema;
      /** `args.types(…)`. */
      types?: readonly PyType[];
      /** Further checks of the validator (args.dict_valid…) on an object document: Ironic's text, or undefined. */
      check?: (doc: Record<string, unknown>) => string | undefined;
      /**
       * The properties the handler's schema requires, in its order. Checked
       * here on an empty body only, which Ironic reads as `{}`: refused with
       * the first of them, as Ironic does (a body with content is checked by
       * `schema`/`check`, the rest by the site).
       */
      required?: readonly string[];
      /** Checks of the handler itself, after the policy. */
      handler?: (doc: unknown, ctx: HandlerContext) => void | Promise<void>;
      /** One line for the README. */
      doc?: string;
    }
  | {
      kind: 'arguments';
      /** The handler's keyword arguments that may come in the body, in its order; `required` ones have no default. */
      args: ReadonlyArray<{ name: string; check?: ArgCheck; required?: boolean }>;
      handler?: (args: Readonly<Record<string, unknown>>, ctx: HandlerContext) => void | Promise<void>;
      /** The handler check reads the node's state: it runs where the node's site is known (forwarding). */
      readsNode?: boolean;
      doc?: string;
    }
  /** Vendor passthru: any JSON value is the driver's data. */
  | { kind: 'any'; doc?: string };

/**
 * How deep a client body may nest. Python's json reads deeper documents,
 * but Ironic stores them and then fails on them (a node whose `extra` nests
 * 510 levels answers every later PATCH with a 500 "maximum recursion depth
 * exceeded"); Ironic's own documents nest a few levels.
 */
export const MAX_BODY_DEPTH = 64;

type PyType = 'NoneType' | 'dict' | 'list' | 'str';

const PY_TYPE_TEST: Record<PyType, (v: unknown) => boolean> = {
  NoneType: (v) => v === null,
  dict: (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
  list: (v) => Array.isArray(v),
  str: (v) => typeof v === 'string',
};

/** `args.types(…)`: "Expected types <class 'dict'> for target_raid_config: []". */
function typesError(name: string, types: readonly PyType[], value: unknown): string | undefined {
  if (types.some((t) => PY_TYPE_TEST[t](value))) return undefined;
  return `Expected types ${types.map((t) => `<class '${t}'>`).join(', ')} for ${name}: ${pyStr(value)}`;
}

/** The keyword-argument checks of ironic/common/args.py; `null` passes each of them, as there. */
export const arg = {
  string: ((name, value) => {
    if (value !== null && typeof value !== 'string') throw badRequest(`Expected string for ${name}: ${pyStr(value)}`);
  }) as ArgCheck,
  /** oslo strutils.bool_from_string(strict=True). */
  boolean: ((name, value) => {
    if (value === null || typeof value === 'boolean') return;
    const text = pyStr(value).trim().toLowerCase();
    if (!BOOLEAN_WORDS.includes(text)) {
      throw badRequest(`Invalid ${name}: Unrecognized value '${pyStr(value)}', acceptable values are: ${BOOLEAN_WORDS.map((w) => `'${w}'`).join(', ')}`);
    }
  }) as ArgCheck,
  /** Python's int(value). */
  integer: ((name, value) => {
    if (value === null || typeof value === 'boolean' || typeof value === 'number') return;
    if (typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value)) return;
    throw badRequest(`Expected an integer for ${name}: ${pyStr(value)}`);
  }) as ArgCheck,
  types:
    (...types: PyType[]): ArgCheck =>
    (name, value) => {
      const why = typesError(name, types, value);
      if (why) throw badRequest(why);
    },
};

const BOOLEAN_WORDS = ['0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'];

/** Python's int() of a value arg.integer accepted. */
export function pyInt(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return Math.trunc(Number(value));
}

/** What the router hands the handler checks: the body as read, for `handler` to look at again. */
export interface CheckedBody {
  /** The parsed document or arguments; undefined when the body was not read (arguments from a non-JSON content type). */
  value: unknown;
}

const isJsonType = (contentType: string | undefined): boolean => {
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return mime === 'application/json' || mime === 'application/javascript';
};

/**
 * The decorator-level checks (before Ironic's policy): the body against the
 * entry's spec. `parsed` is the body read as JSON (undefined: no body).
 */
export function checkBody(spec: BodySpec, parsed: unknown, hasBody: boolean, contentType: string | undefined, ctx: BodyContext): CheckedBody {
  if (hasBody) checkDepth(parsed);
  switch (spec.kind) {
    case 'any':
      return { value: parsed };
    case 'document': {
      // method.body: an empty body is {}. Ironic's schema check lets `null` through (and then fails on it, 500):
      // the proxy refuses it after the policy, where Ironic fails.
      const doc = hasBody ? parsed : {};
      // An empty body reaches no site when Ironic refuses its `{}`: the proxy could not read it, so it cannot route it.
      if (!hasBody && spec.required && spec.required.length > 0) throw badRequest(schemaError(spec.name, { type: 'object', required: spec.required }, doc)!);
      if (doc === null && !spec.types) return { value: doc };
      const why = spec.schema ? schemaError(spec.name, spec.schema, doc) : spec.types ? typesError(spec.name, spec.types, doc) : undefined;
      if (why) throw badRequest(why);
      const more = spec.check && isDict(doc) ? spec.check(doc) : undefined;
      if (more) throw badRequest(more);
      return { value: doc };
    }
    case 'arguments': {
      // pecan binds the keys of a JSON object body only; anything else is not read.
      const given = hasBody && isJsonType(contentType) && isDict(parsed) ? parsed : {};
      const known = new Set(spec.args.map((a) => a.name));
      const unexpected = Object.keys(given).filter((k) => !known.has(k));
      if (unexpected.length > 0) throw badRequest(`Unexpected arguments: ${unexpected.join(', ')}`);
      for (const a of spec.args) {
        if (Object.hasOwn(given, a.name)) a.check?.(a.name, given[a.name]);
        else if (a.required) throw badRequest(`Missing mandatory parameter: ${a.name}`);
      }
      return { value: given };
    }
  }
}

type PendingCheck = (readNode?: HandlerContext['readNode']) => void | Promise<void>;

const pending = new WeakMap<object, PendingCheck>();

/** Notes the handler-level checks of a request, to be run once its policy passed (afterPolicy). */
export function deferHandlerChecks(req: object, spec: BodySpec, checked: CheckedBody, ctx: BodyContext): void {
  pending.set(req, (readNode) => checkBodyInHandler(spec, checked, { ...ctx, readNode }));
}

/** Whether the handler checks need the node's site (then they run when the request is forwarded). */
export const handlerReadsNode = (spec: BodySpec): boolean => spec.kind === 'arguments' && spec.readsNode === true;

/**
 * Runs the request's handler-level body checks, once: the router calls it
 * after the policy it checks itself; engines that check the policy
 * themselves (creates, a node PATCH) call it after theirs; and every
 * forwarding of the client's body calls it (with the node's site), so that
 * none can skip it.
 */
export async function afterPolicy(req: object, readNode?: HandlerContext['readNode']): Promise<void> {
  const run = pending.get(req);
  if (!run) return;
  pending.delete(req);
  await run(readNode);
}

/** The handler-level checks (after Ironic's policy). */
async function checkBodyInHandler(spec: BodySpec, checked: CheckedBody, ctx: HandlerContext): Promise<void> {
  if (spec.kind === 'document') {
    if (checked.value === null && spec.schema) throw badRequest(schemaError(spec.name, spec.schema, null)!);
    await spec.handler?.(checked.value, ctx);
  } else if (spec.kind === 'arguments') await spec.handler?.(checked.value as Record<string, unknown>, ctx);
}

const isDict = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Refuses a document nested deeper than MAX_BODY_DEPTH (walked without recursion). */
function checkDepth(value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (depth > MAX_BODY_DEPTH) {
      throw badRequest(`The request body nests objects and arrays more than ${MAX_BODY_DEPTH} levels deep, which is not accepted.`);
    }
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
}

// --- The shapes Ironic's handlers take -------------------------------------------------------

/** `args.patch`: a JSON patch (ironic/common/args.py). */
export const PATCH_SCHEMA: JsonSchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      path: { type: 'string', pattern: '^(/[\\w-]+)+$' },
      op: { type: 'string', enum: ['add', 'replace', 'remove'] },
      value: {},
    },
    additionalProperties: false,
    required: ['op', 'path'],
  },
};

/** PATCH of any object: `@method.body('patch')` + `args.patch`. */
export const PATCH_BODY: BodySpec = { kind: 'document', name: 'patch', schema: PATCH_SCHEMA, doc: 'a JSON patch: [{op: add|replace|remove, path, value?}]' };

/**
 * A create: the document must be an object (the site checks the rest of its
 * fields, unless `schema` says more). `required`: what the handler's schema
 * requires, in its order — an empty body is refused with the first (see
 * BodySpec); a create whose schema requires nothing takes an empty body as `{}`.
 */
export const createBody = (
  name: string,
  check?: (doc: Record<string, unknown>) => string | undefined,
  opts: { required?: readonly string[]; schema?: JsonSchema; doc?: string } = {},
): BodySpec => ({
  kind: 'document',
  name,
  schema: opts.schema ?? { type: 'object' },
  check,
  required: opts.required,
  doc: opts.doc ?? 'an object',
});

/** `args.uuid` of the named fields of a create (a string that is not a UUID; other types are the site's schema error). */
export const uuidFields =
  (...names: string[]) =>
  (doc: Record<string, unknown>): string | undefined => {
    for (const name of names) {
      const v = doc[name];
      if (typeof v === 'string' && !isUuidLike(v)) return `Expected UUID for ${name}: ${v}`;
    }
    return undefined;
  };

/**
 * A node create: `conductor_group` (NODE_SCHEMA: string or null) decides the
 * site, so a value of another type is refused here with Ironic's schema
 * text — it cannot be routed. NODE_SCHEMA's best match names a missing
 * `driver` first (`required` comes before `additionalProperties`, at the
 * top); an unknown field, or a wrong type of a field before
 * `conductor_group`, would be named by Ironic instead (the same 400). Then
 * the UUIDs (args.dict_valid, after the schema).
 */
export const NODE_CREATE_CHECK = (doc: Record<string, unknown>): string | undefined => {
  const group = doc.conductor_group;
  if (group !== undefined && group !== null && typeof group !== 'string') {
    if (!Object.hasOwn(doc, 'driver')) return "Schema error for node: 'driver' is a required property";
    return `Schema error for node: ${pyRepr(group)} is not of type 'string', 'null'`;
  }
  return uuidFields('chassis_uuid', 'instance_uuid', 'uuid')(doc);
};

/**
 * ALLOCATION_SCHEMA (ironic/api/controllers/v1/allocation.py), checked whole
 * by the proxy: the engine routes by `node`, `candidate_nodes` and
 * `resource_class`, so their types must be known. The traits' items are the
 * site's (deeper than any other error, they never decide the best match
 * the proxy reports).
 */
export const ALLOCATION_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    candidate_nodes: { type: ['array', 'null'], items: { type: 'string' } },
    extra: { type: ['object', 'null'] },
    name: { type: ['string', 'null'] },
    node: { type: ['string', 'null'] },
    owner: { type: ['string', 'null'] },
    resource_class: { type: ['string', 'null'], maxLength: 80 },
    traits: { type: ['array', 'null'] },
    uuid: { type: ['string', 'null'] },
  },
  additionalProperties: false,
};

/** An allocation create: ALLOCATION_VALIDATOR (the schema, then `args.dict_valid(uuid=args.uuid)`); it requires nothing. */
export const ALLOCATION_CREATE_BODY: BodySpec = createBody('allocation', uuidFields('uuid'), {
  schema: ALLOCATION_SCHEMA,
  doc: '{resource_class?, candidate_nodes?: [string], node?, name?, uuid?, traits?, extra?, owner?}',
});

/** The external events Ironic takes (event.py EVENT_VALIDATORS): all network events. */
export const EVENT_KINDS = ['network.bind_port', 'network.unbind_port', 'network.delete_port'] as const;

/** event.py EVENTS_SCHEMA (`additionalProperties: True` of an item is no constraint). */
const EVENTS_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    events: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', properties: { event: { type: 'string', enum: EVENT_KINDS } }, required: ['event'] },
    },
  },
  required: ['events'],
  additionalProperties: false,
};

/** event.py NETWORK_EVENT_VALIDATOR's schema. */
const NETWORK_EVENT_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    event: { type: 'string' },
    port_id: { type: 'string' },
    mac_address: { type: 'string' },
    status: { type: 'string' },
    device_id: { type: ['string', 'null'] },
    'binding:host_id': { type: ['string', 'null'] },
    'binding:vnic_type': { type: ['string', 'null'] },
  },
  required: ['event', 'port_id', 'mac_address', 'status'],
  additionalProperties: false,
};

/** oslo netutils.is_valid_mac: re.match of the lower-cased value, whose `$` also matches before a final newline. */
export const isMac = (value: string): boolean => /^[0-9a-f]{2}(:[0-9a-f]{2}){5}\n?$/.test(value.toLowerCase());

/** NETWORK_EVENT_VALIDATOR's args.dict_valid, in its order. */
const NETWORK_EVENT_FIELDS: ReadonlyArray<[string, (v: string) => boolean, string]> = [
  ['port_id', isUuidLike, 'UUID'],
  ['mac_address', isMac, 'valid MAC address'],
  ['device_id', isUuidLike, 'UUID'],
  ['binding:host_id', isUuidLike, 'UUID'],
];

/**
 * `events_valid`, after EVENTS_SCHEMA passed: each event in order against
 * its validator (the schema, then the fields). Ironic's text, or undefined.
 */
function eventsCheck(doc: Record<string, unknown>): string | undefined {
  for (const event of doc.events as unknown[]) {
    const why = schemaError('evts', NETWORK_EVENT_SCHEMA, event);
    if (why) return why;
    const e = event as Record<string, unknown>;
    for (const [field, valid, what] of NETWORK_EVENT_FIELDS) {
      const v = e[field];
      if (typeof v === 'string' && !valid(v)) return `Expected ${what} for ${field}: ${v}`;
    }
  }
  return undefined;
}

/**
 * POST /v1/events (`@method.body('evts')`, EVENTS_SCHEMA + events_valid):
 * checked whole by the proxy, which must read every event to deliver it.
 * An empty body is `{}`: "'events' is a required property".
 */
export const EVENTS_BODY: BodySpec = {
  kind: 'document',
  name: 'evts',
  schema: EVENTS_SCHEMA,
  check: eventsCheck,
  doc: '{events: [network.bind_port|unbind_port|delete_port events: event, port_id, mac_address, status, device_id?, binding:host_id?, binding:vnic_type?]}',
};

/** The events of a body EVENTS_BODY accepts, or undefined (the same checks: the engine reads what the router let through). */
export function eventsOf(body: unknown): Record<string, unknown>[] | undefined {
  if (!isDict(body) || schemaError('evts', EVENTS_SCHEMA, body) || eventsCheck(body)) return undefined;
  return body.events as Record<string, unknown>[];
}

/**
 * A port create (PORT_SCHEMA): an address and its node are required — the
 * node as `node_uuid` (21.4) or, from 1.94, `node_ident`; then the UUIDs.
 */
export const PORT_CREATE_CHECK = (doc: Record<string, unknown>): string | undefined => {
  if (!Object.hasOwn(doc, 'address')) return "Schema error for port: 'address' is a required property";
  if (!Object.hasOwn(doc, 'node_uuid') && !Object.hasOwn(doc, 'node_ident')) return "Schema error for port: 'node_uuid' is a required property";
  return uuidFields('node_uuid', 'portgroup_uuid', 'uuid')(doc);
};

/** Vendor passthru: the driver's data, any JSON. */
export const ANY_BODY: BodySpec = { kind: 'any', doc: 'any JSON' };

/** Entries that take no body at all (DELETE, PUT …/inject_nmi with no arguments): a JSON object's keys are refused. */
export const NO_ARGUMENTS: BodySpec = { kind: 'arguments', args: [] };

/** Ironic's provision targets (VERBS of ironic/common/states.py, plus `rebuild`, and upstream's `unhold` and `service`). */
export const PROVISION_TARGETS = [
  'active',
  'deploy',
  'rebuild',
  'deleted',
  'undeploy',
  'manage',
  'provide',
  'inspect',
  'abort',
  'clean',
  'adopt',
  'rescue',
  'unrescue',
  'unhold',
  'service',
] as const;

export const PROVISION_BODY: BodySpec = {
  kind: 'arguments',
  args: [
    { name: 'target', check: arg.string, required: true },
    { name: 'configdrive', check: arg.types('NoneType', 'dict', 'str') },
    { name: 'clean_steps', check: arg.types('NoneType', 'list') },
    { name: 'deploy_steps', check: arg.types('NoneType', 'list') },
    { name: 'rescue_password', check: arg.string },
    { name: 'disable_ramdisk', check: arg.boolean },
    // Upstream Ironic (1.87, 1.92); a 21.4 site refuses them itself ("Unexpected arguments").
    { name: 'service_steps', check: arg.types('NoneType', 'list') },
    { name: 'runbook', check: arg.string },
  ],
  // A target outside the verbs is Ironic's "can not be performed … in state" (or the node's lock, 409): its text
  // needs the node, read at its site; the request itself never reaches it.
  readsNode: true,
  handler: async (args, ctx) => {
    const target = args.target;
    if (typeof target !== 'string' || (PROVISION_TARGETS as readonly string[]).includes(target)) return;
    const node = ctx.readNode ? await ctx.readNode() : {};
    if (typeof node.reservation === 'string' && node.reservation) {
      throw conflict(`Node ${pyStr(node.uuid)} is locked by host ${node.reservation}, please retry after the current operation is completed.`);
    }
    throw badRequest(`The requested action "${target}" can not be performed on node "${pyStr(node.uuid ?? ctx.params.node_ident)}" while it is in state "${pyStr(node.provision_state)}".`);
  },
  doc: '{target (one of the verbs), configdrive, clean_steps, deploy_steps, service_steps, rescue_password, disable_ramdisk, runbook}',
};

export const POWER_TARGETS = ['power on', 'power off', 'rebooting', 'soft power off', 'soft rebooting'] as const;

export const POWER_BODY: BodySpec = {
  kind: 'arguments',
  args: [
    { name: 'target', check: arg.string, required: true },
    { name: 'timeout', check: arg.integer },
  ],
  readsNode: true,
  handler: async (args, ctx) => {
    // Ironic's order: the timeout, then the target (its text names the node as asked and its power state).
    const timeout = pyInt(args.timeout);
    if (timeout !== null && timeout < 1) throw badRequest('timeout has to be positive integer');
    const target = args.target;
    if (typeof target !== 'string' || (POWER_TARGETS as readonly string[]).includes(target)) return;
    const node = ctx.readNode ? await ctx.readNode() : {};
    throw badRequest(`The requested action "${target}" can not be performed on node "${ctx.params.node_ident}" while it is in state "${pyStr(node.power_state)}".`);
  },
  doc: '{target (power on|power off|rebooting|soft power off|soft rebooting), timeout (positive integer)}',
};

/** A trait (ironic/api/controllers/v1/utils.py TRAITS_SCHEMA; the standard-trait names are the site's to check). */
const TRAIT_SCHEMA: JsonSchema = { type: 'string', minLength: 1, maxLength: 255 };

export const TRAITS_BODY: BodySpec = {
  kind: 'document',
  name: 'body',
  schema: { type: 'object', properties: { traits: { type: 'array', items: TRAIT_SCHEMA } }, additionalProperties: false },
  handler: (doc, ctx) => {
    const trait = ctx.params.trait;
    if (trait !== undefined) {
      const why = schemaError('trait', TRAIT_SCHEMA, trait);
      if (why) throw badRequest(why);
    }
    const traits = isDict(doc) ? doc.traits : undefined;
    if ((trait && traits !== undefined && traits !== null) || !(trait || (traits !== undefined && traits !== null))) {
      throw badRequest(
        'A single node trait may be added via PUT /v1/nodes/<node identifier>/traits/<trait> with no body, or all node traits may be replaced via PUT /v1/nodes/<node identifier>/traits with the list of traits specified in the request body.',
      );
    }
    if (trait && isDict(doc) && Object.keys(doc).length > 0) throw badRequest('No body should be provided when adding a trait');
  },
  doc: '{traits: [string]} for the list; no body for one trait in the path',
};

export const VIF_BODY: BodySpec = {
  kind: 'document',
  name: 'vif',
  schema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
  doc: '{id: string, …}',
};

export const MAINTENANCE_BODY: BodySpec = { kind: 'arguments', args: [{ name: 'reason', check: arg.string }], doc: '{reason?: string}' };

export const BOOT_DEVICE_BODY: BodySpec = {
  kind: 'arguments',
  args: [
    { name: 'boot_device', check: arg.string, required: true },
    { name: 'persistent', check: arg.boolean },
  ],
  doc: '{boot_device: string, persistent?: boolean}',
};

export const INDICATOR_BODY: BodySpec = { kind: 'arguments', args: [{ name: 'state', check: arg.string, required: true }], doc: '{state: string}' };

export const CONSOLE_BODY: BodySpec = { kind: 'arguments', args: [{ name: 'enabled', check: arg.boolean, required: true }], doc: '{enabled: boolean}' };

export const BOOT_MODE_BODY: BodySpec = { kind: 'arguments', args: [{ name: 'target', check: arg.string, required: true }], doc: '{target: string}' };

export const SECURE_BOOT_BODY: BodySpec = { kind: 'arguments', args: [{ name: 'target', check: arg.boolean, required: true }], doc: '{target: boolean}' };

export const RAID_BODY: BodySpec = { kind: 'document', name: 'target_raid_config', types: ['dict'], doc: 'an object' };

/** A body that is not a JSON object is not read; in an object, no key is an argument. */
export const describeBody = (spec: BodySpec | undefined): string => (spec && 'doc' in spec && spec.doc) || '';

/** For tests and the README: the repr Ironic shows of a value. */
export { pyRepr };
