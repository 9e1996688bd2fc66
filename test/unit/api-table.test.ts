/**
 * The whole API table (src/api/table/index.ts) against itself and, when
 * Debian's python3-ironic is installed, against Ironic 21.4's own code:
 * every policy rule it names exists in Ironic's policy list (runbooks:
 * upstream's list), one entry per (method, path), object arguments are path
 * arguments, engine keys are `<family>.<verb>`; for the families outside
 * nodes.ts (whose own test checks it), every query list is exactly the
 * handler's keyword arguments.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { ApiEntry, Authz } from '../../src/api/types.js';
import { API_TABLE, API_TABLE_FILES } from '../../src/api/table/index.js';
import * as agent from '../../src/api/table/agent.js';
import * as allocations from '../../src/api/table/allocations.js';
import * as chassis from '../../src/api/table/chassis.js';
import * as conductors from '../../src/api/table/conductors.js';
import * as deployTemplates from '../../src/api/table/deploy-templates.js';
import * as drivers from '../../src/api/table/drivers.js';
import * as events from '../../src/api/table/events.js';
import * as portgroups from '../../src/api/table/portgroups.js';
import * as ports from '../../src/api/table/ports.js';
import * as root from '../../src/api/table/root.js';
import * as runbooks from '../../src/api/table/runbooks.js';
import * as shards from '../../src/api/table/shards.js';
import * as volume from '../../src/api/table/volume.js';
import type { FieldRedaction, RefusedForm } from '../../src/api/table/shapes.js';

const PYTHON = '/usr/bin/python3';
/** The greatest microversion of Ironic 21.4: entries above it are upstream's. */
const IRONIC_21_4_MAX = 82;

const key = (e: ApiEntry): string => `${e.method} ${e.path}`;
const pathArgs = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);

/** Every policy rule an Authz names, in whatever field. */
function rulesOf(a: Authz): string[] {
  switch (a.check) {
    case 'public':
      return [];
    case 'list': {
      const rules = [`baremetal:${a.kind}:list_all`, `baremetal:${a.kind}:list`];
      if (a.parentNode || a.parentPortgroup || a.nodeParam) rules.push('baremetal:node:get');
      if (a.itemRule) rules.push(a.itemRule);
      return rules;
    }
    case 'policy':
      return [...a.rules, ...(a.selfOwned ? [a.selfOwned] : [])];
    case 'node':
      return [...a.rules, 'baremetal:node:get', ...(a.selfOwnedFallback ?? []), ...(a.allocationRules ?? [])];
    case 'node-object':
    case 'create-on-node':
      return [...a.rules, 'baremetal:node:get'];
    case 'allocation':
      return [...a.rules, 'baremetal:allocation:get'];
    case 'allocation-create':
      return [...a.rules, a.preRbac, a.restricted];
    case 'runbook':
      return [...a.rules, ...(a.patchRules ?? []).map((r) => r.rule)];
  }
}

/** The modules of this table's files beside nodes.ts: their refused forms and redactions. */
const MODULES: Record<string, { PECAN_FORMS_REFUSED: readonly RefusedForm[]; redactions: readonly FieldRedaction[] }> = {
  root: { PECAN_FORMS_REFUSED: root.PECAN_FORMS_REFUSED, redactions: root.ROOT_REDACTIONS },
  ports: { PECAN_FORMS_REFUSED: ports.PECAN_FORMS_REFUSED, redactions: ports.PORT_REDACTIONS },
  portgroups: { PECAN_FORMS_REFUSED: portgroups.PECAN_FORMS_REFUSED, redactions: portgroups.PORTGROUP_REDACTIONS },
  volume: {
    PECAN_FORMS_REFUSED: volume.PECAN_FORMS_REFUSED,
    redactions: [...volume.VOLUME_CONNECTOR_REDACTIONS, ...volume.VOLUME_TARGET_REDACTIONS],
  },
  chassis: { PECAN_FORMS_REFUSED: chassis.PECAN_FORMS_REFUSED, redactions: chassis.CHASSIS_REDACTIONS },
  'deploy-templates': { PECAN_FORMS_REFUSED: deployTemplates.PECAN_FORMS_REFUSED, redactions: deployTemplates.DEPLOY_TEMPLATE_REDACTIONS },
  runbooks: { PECAN_FORMS_REFUSED: runbooks.PECAN_FORMS_REFUSED, redactions: runbooks.RUNBOOK_REDACTIONS },
  allocations: { PECAN_FORMS_REFUSED: allocations.PECAN_FORMS_REFUSED, redactions: allocations.ALLOCATION_REDACTIONS },
  drivers: { PECAN_FORMS_REFUSED: drivers.PECAN_FORMS_REFUSED, redactions: drivers.DRIVER_REDACTIONS },
  conductors: { PECAN_FORMS_REFUSED: conductors.PECAN_FORMS_REFUSED, redactions: conductors.CONDUCTOR_REDACTIONS },
  shards: { PECAN_FORMS_REFUSED: shards.PECAN_FORMS_REFUSED, redactions: shards.SHARD_REDACTIONS },
  events: { PECAN_FORMS_REFUSED: events.PECAN_FORMS_REFUSED, redactions: events.EVENT_REDACTIONS },
  agent: { PECAN_FORMS_REFUSED: agent.PECAN_FORMS_REFUSED, redactions: agent.AGENT_REDACTIONS },
};

/**
 * The handler Ironic 21.4 runs for each entry outside nodes.ts
 * ("module:Class.method"; a bare module is under ironic.api.controllers.v1).
 */
const HANDLERS: Record<string, string> = {
  'GET /': 'ironic.api.controllers.root:RootController.index',
  'GET /v1': 'ironic.api.controllers.v1:Controller.index',
  'GET /v1/ports': 'port:PortsController.get_all',
  'GET /v1/ports/detail': 'port:PortsController.detail',
  'GET /v1/ports/{port_uuid}': 'port:PortsController.get_one',
  'POST /v1/ports': 'port:PortsController.post',
  'PATCH /v1/ports/{port_uuid}': 'port:PortsController.patch',
  'DELETE /v1/ports/{port_uuid}': 'port:PortsController.delete',
  'GET /v1/portgroups': 'portgroup:PortgroupsController.get_all',
  'GET /v1/portgroups/detail': 'portgroup:PortgroupsController.detail',
  'GET /v1/portgroups/{portgroup_ident}': 'portgroup:PortgroupsController.get_one',
  'POST /v1/portgroups': 'portgroup:PortgroupsController.post',
  'PATCH /v1/portgroups/{portgroup_ident}': 'portgroup:PortgroupsController.patch',
  'DELETE /v1/portgroups/{portgroup_ident}': 'portgroup:PortgroupsController.delete',
  'GET /v1/portgroups/{portgroup_ident}/ports': 'port:PortsController.get_all',
  'GET /v1/portgroups/{portgroup_ident}/ports/detail': 'port:PortsController.detail',
  'GET /v1/volume': 'volume:VolumeController.get',
  'GET /v1/volume/connectors': 'volume_connector:VolumeConnectorsController.get_all',
  'GET /v1/volume/connectors/{connector_uuid}': 'volume_connector:VolumeConnectorsController.get_one',
  'POST /v1/volume/connectors': 'volume_connector:VolumeConnectorsController.post',
  'PATCH /v1/volume/connectors/{connector_uuid}': 'volume_connector:VolumeConnectorsController.patch',
  'DELETE /v1/volume/connectors/{connector_uuid}': 'volume_connector:VolumeConnectorsController.delete',
  'GET /v1/volume/targets': 'volume_target:VolumeTargetsController.get_all',
  'GET /v1/volume/targets/{target_uuid}': 'volume_target:VolumeTargetsController.get_one',
  'POST /v1/volume/targets': 'volume_target:VolumeTargetsController.post',
  'PATCH /v1/volume/targets/{target_uuid}': 'volume_target:VolumeTargetsController.patch',
  'DELETE /v1/volume/targets/{target_uuid}': 'volume_target:VolumeTargetsController.delete',
  'GET /v1/chassis': 'chassis:ChassisController.get_all',
  'GET /v1/chassis/detail': 'chassis:ChassisController.detail',
  'GET /v1/chassis/{chassis_uuid}': 'chassis:ChassisController.get_one',
  'POST /v1/chassis': 'chassis:ChassisController.post',
  'PATCH /v1/chassis/{chassis_uuid}': 'chassis:ChassisController.patch',
  'DELETE /v1/chassis/{chassis_uuid}': 'chassis:ChassisController.delete',
  'GET /v1/chassis/{chassis_uuid}/nodes': 'node:NodesController.get_all',
  'GET /v1/chassis/{chassis_uuid}/nodes/detail': 'node:NodesController.detail',
  'GET /v1/deploy_templates': 'deploy_template:DeployTemplatesController.get_all',
  'GET /v1/deploy_templates/{template_ident}': 'deploy_template:DeployTemplatesController.get_one',
  'POST /v1/deploy_templates': 'deploy_template:DeployTemplatesController.post',
  'PATCH /v1/deploy_templates/{template_ident}': 'deploy_template:DeployTemplatesController.patch',
  'DELETE /v1/deploy_templates/{template_ident}': 'deploy_template:DeployTemplatesController.delete',
  'GET /v1/allocations': 'allocation:AllocationsController.get_all',
  'GET /v1/allocations/{allocation_ident}': 'allocation:AllocationsController.get_one',
  'POST /v1/allocations': 'allocation:AllocationsController.post',
  'PATCH /v1/allocations/{allocation_ident}': 'allocation:AllocationsController.patch',
  'DELETE /v1/allocations/{allocation_ident}': 'allocation:AllocationsController.delete',
  'GET /v1/drivers': 'driver:DriversController.get_all',
  'GET /v1/drivers/{driver_name}': 'driver:DriversController.get_one',
  'GET /v1/drivers/{driver_name}/properties': 'driver:DriversController.properties',
  'GET /v1/drivers/{driver_name}/raid/logical_disk_properties': 'driver:DriverRaidController.logical_disk_properties',
  'GET /v1/drivers/{driver_name}/vendor_passthru/methods': 'driver:DriverPassthruController.methods',
  'GET /v1/drivers/{driver_name}/vendor_passthru': 'driver:DriverPassthruController._default',
  'POST /v1/drivers/{driver_name}/vendor_passthru': 'driver:DriverPassthruController._default',
  'PUT /v1/drivers/{driver_name}/vendor_passthru': 'driver:DriverPassthruController._default',
  'PATCH /v1/drivers/{driver_name}/vendor_passthru': 'driver:DriverPassthruController._default',
  'DELETE /v1/drivers/{driver_name}/vendor_passthru': 'driver:DriverPassthruController._default',
  'GET /v1/conductors': 'conductor:ConductorsController.get_all',
  'GET /v1/conductors/{hostname}': 'conductor:ConductorsController.get_one',
  'GET /v1/shards': 'shard:ShardController.get_all',
  'POST /v1/events': 'event:EventsController.post',
  'GET /v1/lookup': 'ramdisk:LookupController.get_all',
  'POST /v1/heartbeat/{node_ident}': 'ramdisk:HeartbeatController.post',
};

/** Entries of forms Ironic 21.4 does not have (upstream's, newer than 1.82 or absent). */
const UPSTREAM_ONLY = new Set([...runbooks.RUNBOOK_ENTRIES.map(key), 'POST /v1/continue_inspection']);

/** Handler arguments of POST/PATCH filled from the request body by method.body: never query parameters. */
const BODY_ARGS = new Set(['port', 'portgroup', 'connector', 'target', 'chassis', 'template', 'allocation', 'evts', 'patch', 'data']);

interface IronicFacts {
  rules: string[];
  handlers: Record<string, { params: string[]; varkw: boolean }>;
}

const FACTS_SCRIPT = String.raw`
import importlib, inspect, json, sys
from ironic.common import policy
handlers = {}
for key, target in json.loads(sys.argv[1]).items():
    mod, attr = target.split(':')
    obj = importlib.import_module(mod if mod.startswith('ironic.') else 'ironic.api.controllers.v1.' + mod)
    for a in attr.split('.'):
        obj = getattr(obj, a)
    ps = inspect.signature(inspect.unwrap(obj)).parameters.values()
    handlers[key] = {
        'params': [p.name for p in ps if p.name != 'self' and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)],
        'varkw': any(p.kind == p.VAR_KEYWORD for p in ps),
    }
print(json.dumps({'rules': [r.name for r in policy.list_policies()], 'handlers': handlers}))
`;

/** Ironic's own answers, from Debian's python3-ironic; undefined when it is not importable. */
function ironicFacts(): IronicFacts | undefined {
  if (!existsSync(PYTHON)) return undefined;
  const r = spawnSync(PYTHON, ['-c', FACTS_SCRIPT, JSON.stringify(HANDLERS)], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return undefined;
  return JSON.parse(r.stdout) as IronicFacts;
}

const facts = ironicFacts();
const noIronic = facts ? false : 'python3-ironic is not importable with /usr/bin/python3';

describe('API table: the whole table', () => {
  test('API_TABLE is every file, nodes included', () => {
    const total = Object.values(API_TABLE_FILES).reduce((n, entries) => n + entries.length, 0);
    assert.equal(API_TABLE.length, total);
    assert.ok(API_TABLE_FILES.nodes.length > 0, 'nodes.ts has no entries');
    for (const [file, entries] of Object.entries(API_TABLE_FILES)) assert.ok(entries.length > 0, `${file}: no entry`);
  });

  test('one entry per (method, path)', () => {
    const seen = new Set<string>();
    for (const e of API_TABLE) {
      assert.ok(!seen.has(key(e)), `duplicate ${key(e)}`);
      seen.add(key(e));
    }
  });

  test('every object argument occurs in the path (or is a named query parameter)', () => {
    for (const e of API_TABLE) {
      if (!e.object) continue;
      if (e.object.fromQuery) {
        for (const q of e.object.fromQuery) assert.ok(e.query?.includes(q), `${key(e)}: ${q} is not in its query`);
      } else {
        assert.ok(pathArgs(e.path).includes(e.object.param), `${key(e)}: {${e.object.param}} is not in the path`);
      }
    }
  });

  test('every engine key is <family>.<verb>', () => {
    // [a-z-] for the verb, plus digits: the version document's engine is named `root.v1`.
    for (const e of API_TABLE) assert.match(e.engine, /^[a-z_]+\.[a-z0-9-]+$/, key(e));
    assert.deepEqual(
      API_TABLE.filter((e) => !/^[a-z_]+\.[a-z-]+$/.test(e.engine)).map((e) => e.engine),
      ['root.v1'],
    );
  });

  test('paths are absolute, arguments unique, query lists without repeats and without path arguments', () => {
    for (const e of API_TABLE) {
      assert.match(e.path, /^\/(v1(\/[a-z_]+|\/\{[a-z_]+\})*)?$/, key(e));
      const args = pathArgs(e.path);
      assert.equal(new Set(args).size, args.length, `${key(e)}: repeated path argument`);
      const q = e.query ?? [];
      assert.equal(new Set(q).size, q.length, `${key(e)}: repeated query parameter`);
      for (const a of args) assert.ok(!q.includes(a), `${key(e)}: path argument ${a} also in the query`);
      if (e.since !== undefined) assert.ok(Number.isInteger(e.since) && e.since >= 1, `${key(e)}: since ${e.since}`);
    }
  });

  test('a static segment comes before an argument in the same place (Ironic routes the static one)', () => {
    const isArg = (s: string): boolean => s.startsWith('{');
    API_TABLE.forEach((a, i) => {
      API_TABLE.forEach((b, j) => {
        if (j <= i || a.method !== b.method) return;
        const sa = a.path.split('/');
        const sb = b.path.split('/');
        if (sa.length !== sb.length) return;
        const covers = sa.every((s, k) => s === sb[k] || isArg(s));
        const moreStatic = sa.some((s, k) => isArg(s) && !isArg(sb[k]!));
        assert.ok(!(covers && moreStatic), `${key(b)} must come before ${key(a)}`);
      });
    });
  });

  test('every rule named exists in Ironic 21.4 (runbooks: in upstream Ironic)', { skip: noIronic }, () => {
    const known = new Set(facts!.rules);
    const upstream = new Set(runbooks.UPSTREAM_RUNBOOK_RULES);
    for (const e of API_TABLE) {
      for (const rule of rulesOf(e.authz)) {
        const ok = known.has(rule) || ((e.since ?? 1) > IRONIC_21_4_MAX && upstream.has(rule));
        assert.ok(ok, `${key(e)}: ${rule} is not a rule of Ironic 21.4`);
      }
    }
    for (const [file, m] of Object.entries(MODULES)) {
      for (const r of m.redactions) if (r.rule) assert.ok(known.has(r.rule), `${file}: redaction rule ${r.rule}`);
    }
    for (const rule of runbooks.UPSTREAM_RUNBOOK_RULES) assert.ok(!known.has(rule), `${rule} is in 21.4 after all`);
  });
});

describe('API table: the families beside nodes.ts', () => {
  // nodes.ts has its own test; missing-arguments.ts holds forms the proxy answers itself (no handler of their own).
  const ours = Object.entries(API_TABLE_FILES)
    .filter(([file]) => file !== 'nodes' && file !== 'missing-arguments')
    .flatMap(([, entries]) => entries);

  test('no entry under /v1/nodes (nodes.ts has them)', () => {
    for (const e of ours) assert.ok(!e.path.startsWith('/v1/nodes'), key(e));
  });

  test('every form is Ironic 21.4 handler, or upstream only; the agent forms are not served', () => {
    for (const e of ours) {
      assert.ok(HANDLERS[key(e)] !== undefined || UPSTREAM_ONLY.has(key(e)), `${key(e)}: no handler named`);
      assert.equal(e.engine === 'agent.not-served', e.path.startsWith('/v1/lookup') || e.path.startsWith('/v1/heartbeat') || e.path.startsWith('/v1/continue_inspection'), key(e));
      if (e.engine === 'agent.not-served') assert.deepEqual(e.authz, { check: 'public' }, key(e));
      if (UPSTREAM_ONLY.has(key(e)) && e.engine !== 'agent.not-served') assert.ok((e.since ?? 1) > IRONIC_21_4_MAX, key(e));
      assert.ok(e.doc && !e.doc.includes('\n'), `${key(e)}: doc`);
      assert.ok(Array.isArray(e.query), `${key(e)}: query is not explicit`);
    }
    for (const k of Object.keys(HANDLERS)) assert.ok(ours.some((e) => key(e) === k), `${k}: handler without entry`);
  });

  test('each query list is exactly the handler keyword arguments (less path and body arguments)', { skip: noIronic }, () => {
    for (const e of ours) {
      const h = facts!.handlers[key(e)];
      if (!h) continue;
      const args = pathArgs(e.path);
      // GET handlers bind no body, except the passthru's `data`.
      const body = e.method === 'POST' || e.method === 'PATCH' ? BODY_ARGS : new Set(['data']);
      const expected = h.params.filter((p) => !args.includes(p) && !body.has(p));
      assert.deepEqual([...(e.query ?? [])].sort(), [...expected].sort(), key(e));
      assert.equal(h.varkw, false, `${key(e)}: takes **kwargs`);
    }
  });

  test('object kinds and their path arguments', () => {
    const expected: Record<string, string> = {
      port: 'port_uuid',
      portgroup: 'portgroup_ident',
      volume_connector: 'connector_uuid',
      volume_target: 'target_uuid',
      chassis: 'chassis_uuid',
      deploy_template: 'template_ident',
      allocation: 'allocation_ident',
      driver: 'driver_name',
      conductor: 'hostname',
      runbook: 'runbook_ident',
    };
    for (const e of ours) if (e.object) assert.equal(e.object.param, expected[e.object.kind], key(e));
  });

  test('every refused pecan form is described, and matches no entry (reserved names aside)', () => {
    const reserved = new Set([...drivers.DRIVER_RESERVED_NAMES, ...chassis.CHASSIS_RESERVED_NAMES]);
    /** The entries `method path` would match, unless an argument would bind a reserved name. */
    const matches = (method: string, path: string): string[] =>
      API_TABLE.filter((e) => {
        // The bare collection form is answered by the proxy (400); its argument is what is refused.
        if (e.engine === 'proxy.missing-argument') return false;
        if (method !== 'ANY' && e.method !== method) return false;
        const ps = e.path.split('/');
        const ss = path.split('/');
        if (ps.length !== ss.length) return false;
        return ps.every((p, k) => (p.startsWith('{') ? !reserved.has(ss[k]!) : p === ss[k]));
      }).map(key);
    for (const [file, m] of Object.entries(MODULES)) {
      for (const f of m.PECAN_FORMS_REFUSED) {
        assert.ok(f.example && f.why, `${file}: ${JSON.stringify(f)}`);
        const [verb, target] = f.example.split(' ');
        const path = target!.split('?')[0]!.replace(/,$/, '').replace(/<[^>]+>/g, 'x0');
        assert.deepEqual(matches(f.method === 'ANY' ? 'ANY' : verb!, path), [], `${file}: refused form ${f.example} matches an entry`);
      }
      for (const r of m.redactions) {
        if (r.when === 'rule') assert.ok(r.rule, `${file}: ${r.field}`);
        if (r.when === 'below') assert.ok(r.minor && r.minor > 1, `${file}: ${r.field}`);
        if (r.action === 'replace') assert.ok(r.replacement !== undefined, `${file}: ${r.field}`);
      }
    }
  });

  test('the port listing: node_uuid before node, three exclusive filter groups, portgroup first', () => {
    assert.deepEqual(ports.PORT_LIST_FILTERS.nodeParams, ['node_uuid', 'node']);
    assert.equal(ports.PORT_LIST_FILTERS.exclusive.length, 3);
    assert.deepEqual(ports.PORT_LIST_FILTERS.precedence, ['portgroup', 'node', 'address', 'shard']);
  });
});
