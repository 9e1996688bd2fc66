/**
 * The node table (src/api/table/nodes.ts) against itself and, when Debian's
 * python3-ironic is installed, against Ironic 21.4's own code: every rule it
 * names exists in Ironic's policy list, every query list is the handler's
 * keyword arguments, the PATCH rules are node.py's, in its order.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { ApiEntry } from '../../src/api/types.js';
import {
  NODE_ATTRIBUTE_SEGMENTS,
  NODE_DRIVER_INTERFACES,
  NODE_ENTRIES,
  NODE_IDENT_UNROUTABLE,
  NODE_REDACTION_GATE,
  NODE_REDACTIONS,
  NODE_RESERVED_NAMES,
  NODE_UPDATE_FIELD_RULES,
  PECAN_FORMS_REFUSED,
  nodePatchRules,
} from '../../src/api/table/nodes.js';

const PYTHON = '/usr/bin/python3';
const IRONIC = '/usr/lib/python3/dist-packages/ironic';
const ENGINES = new Set([
  'node.list',
  'node.create',
  'node.show',
  'node.update',
  'node.delete',
  'node.forward',
  'node.sub-list',
  'node.validate-by-query',
  'node.volume-links',
  'node.allocation',
]);

const key = (e: ApiEntry): string => `${e.method} ${e.path}`;
const pathArgs = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);

/** Every policy rule the node table names. */
function rulesNamed(): Set<string> {
  const rules = new Set<string>();
  for (const e of NODE_ENTRIES) {
    const a = e.authz;
    if (a.check === 'list') {
      rules.add(`baremetal:${a.kind}:list_all`);
      rules.add(`baremetal:${a.kind}:list`);
      if (a.parentNode) rules.add('baremetal:node:get');
      continue;
    }
    if (a.check === 'public') continue;
    a.rules.forEach((r) => rules.add(r));
    if (a.check === 'node') {
      rules.add('baremetal:node:get');
      a.selfOwnedFallback?.forEach((r) => rules.add(r));
      a.allocationRules?.forEach((r) => rules.add(r));
    }
    if (a.check === 'policy' && a.selfOwned) rules.add(a.selfOwned);
  }
  for (const r of NODE_UPDATE_FIELD_RULES.fieldRules) rules.add(r.rule);
  rules.add(NODE_UPDATE_FIELD_RULES.genericRule);
  rules.add(NODE_UPDATE_FIELD_RULES.ownerProvisionedRule);
  for (const r of NODE_REDACTIONS) if (r.rule) rules.add(r.rule);
  rules.add(NODE_REDACTION_GATE.rule);
  return rules;
}

/** The handler Ironic 21.4 runs for each entry ("module:Class.method"), and the path arguments it gets positionally. */
const HANDLERS: Record<string, string> = {
  'GET /v1/nodes': 'node:NodesController.get_all',
  'GET /v1/nodes/detail': 'node:NodesController.detail',
  'GET /v1/nodes/validate': 'node:NodesController.validate',
  'GET /v1/nodes/{node_ident}/validate': 'node:NodesController.validate',
  'GET /v1/nodes/{node_ident}': 'node:NodesController.get_one',
  'POST /v1/nodes': 'node:NodesController.post',
  'PATCH /v1/nodes/{node_ident}': 'node:NodesController.patch',
  'DELETE /v1/nodes/{node_ident}': 'node:NodesController.delete',
  'GET /v1/nodes/{node_ident}/states': 'node:NodeStatesController.get',
  'PUT /v1/nodes/{node_ident}/states/raid': 'node:NodeStatesController.raid',
  'PUT /v1/nodes/{node_ident}/states/power': 'node:NodeStatesController.power',
  'PUT /v1/nodes/{node_ident}/states/boot_mode': 'node:NodeStatesController.boot_mode',
  'PUT /v1/nodes/{node_ident}/states/secure_boot': 'node:NodeStatesController.secure_boot',
  'PUT /v1/nodes/{node_ident}/states/provision': 'node:NodeStatesController.provision',
  'GET /v1/nodes/{node_ident}/states/console': 'node:NodeConsoleController.get',
  'PUT /v1/nodes/{node_ident}/states/console': 'node:NodeConsoleController.put',
  'GET /v1/nodes/{node_ident}/vendor_passthru/methods': 'node:NodeVendorPassthruController.methods',
  'GET /v1/nodes/{node_ident}/vendor_passthru': 'node:NodeVendorPassthruController._default',
  'POST /v1/nodes/{node_ident}/vendor_passthru': 'node:NodeVendorPassthruController._default',
  'PUT /v1/nodes/{node_ident}/vendor_passthru': 'node:NodeVendorPassthruController._default',
  'PATCH /v1/nodes/{node_ident}/vendor_passthru': 'node:NodeVendorPassthruController._default',
  'DELETE /v1/nodes/{node_ident}/vendor_passthru': 'node:NodeVendorPassthruController._default',
  'GET /v1/nodes/{node_ident}/management/boot_device': 'node:BootDeviceController.get',
  'PUT /v1/nodes/{node_ident}/management/boot_device': 'node:BootDeviceController.put',
  'GET /v1/nodes/{node_ident}/management/boot_device/supported': 'node:BootDeviceController.supported',
  'PUT /v1/nodes/{node_ident}/management/inject_nmi': 'node:InjectNmiController.put',
  'GET /v1/nodes/{node_ident}/management/indicators': 'node:IndicatorController.get_all',
  'GET /v1/nodes/{node_ident}/management/indicators/{indicator}': 'node:IndicatorController.get_one',
  'PUT /v1/nodes/{node_ident}/management/indicators/{indicator}': 'node:IndicatorController.put',
  'PUT /v1/nodes/{node_ident}/maintenance': 'node:NodeMaintenanceController.put',
  'DELETE /v1/nodes/{node_ident}/maintenance': 'node:NodeMaintenanceController.delete',
  'GET /v1/nodes/{node_ident}/ports': 'port:PortsController.get_all',
  'GET /v1/nodes/{node_ident}/ports/detail': 'port:PortsController.detail',
  'GET /v1/nodes/{node_ident}/portgroups': 'portgroup:PortgroupsController.get_all',
  'GET /v1/nodes/{node_ident}/portgroups/detail': 'portgroup:PortgroupsController.detail',
  'GET /v1/nodes/{node_ident}/vifs': 'node:NodeVIFController.get_all',
  'POST /v1/nodes/{node_ident}/vifs': 'node:NodeVIFController.post',
  'DELETE /v1/nodes/{node_ident}/vifs/{vif_id}': 'node:NodeVIFController.delete',
  'GET /v1/nodes/{node_ident}/volume': 'volume:VolumeController.get',
  'GET /v1/nodes/{node_ident}/volume/connectors': 'volume_connector:VolumeConnectorsController.get_all',
  'GET /v1/nodes/{node_ident}/volume/targets': 'volume_target:VolumeTargetsController.get_all',
  'GET /v1/nodes/{node_ident}/traits': 'node:NodeTraitsController.get_all',
  'PUT /v1/nodes/{node_ident}/traits': 'node:NodeTraitsController.put',
  'PUT /v1/nodes/{node_ident}/traits/{trait}': 'node:NodeTraitsController.put',
  'DELETE /v1/nodes/{node_ident}/traits': 'node:NodeTraitsController.delete',
  'DELETE /v1/nodes/{node_ident}/traits/{trait}': 'node:NodeTraitsController.delete',
  'GET /v1/nodes/{node_ident}/bios': 'bios:NodeBiosController.get_all',
  'GET /v1/nodes/{node_ident}/bios/{setting_name}': 'bios:NodeBiosController.get_one',
  'GET /v1/nodes/{node_ident}/allocation': 'allocation:NodeAllocationController.get_all',
  'DELETE /v1/nodes/{node_ident}/allocation': 'allocation:NodeAllocationController.delete',
  'GET /v1/nodes/{node_ident}/history': 'node:NodeHistoryController.get_all',
  'GET /v1/nodes/{node_ident}/history/{event}': 'node:NodeHistoryController.get_one',
  'GET /v1/nodes/{node_ident}/inventory': 'node:NodeInventoryController.get',
};

/** Handler arguments deliberately left out of an entry's query (their query forms are PECAN_FORMS_REFUSED). */
const QUERY_EXCEPTIONS: Record<string, string[]> = {
  // The path's {node_ident} binds positionally to `node`; ?node_uuid= would validate another node than the path's.
  'GET /v1/nodes/{node_ident}/validate': ['node', 'node_uuid'],
  // Bound from the body by method.body: never a query parameter.
  'GET /v1/nodes/{node_ident}/vendor_passthru': ['data'],
};

interface IronicFacts {
  rules: string[];
  handlers: Record<string, { params: string[]; varkw: boolean }>;
  driverInterfaces: string[];
  patchAllowedFields: string[];
  patchRulesInSource: string[];
  patchPrefixesInSource: string[];
  reservedNames: string[];
  subcontrollers: string[];
  attributeControllers: string[];
}

const FACTS_SCRIPT = String.raw`
import importlib, inspect, json, re, sys
from pecan import rest
from ironic.common import policy
from ironic.drivers import base as driver_base
from ironic.api.controllers.v1 import node
handlers = {}
for key, target in json.loads(sys.argv[1]).items():
    mod, attr = target.split(':')
    obj = importlib.import_module('ironic.api.controllers.v1.' + mod)
    for a in attr.split('.'):
        obj = getattr(obj, a)
    ps = inspect.signature(inspect.unwrap(obj)).parameters.values()
    handlers[key] = {
        'params': [p.name for p in ps if p.name != 'self' and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)],
        'varkw': any(p.kind == p.VAR_KEYWORD for p in ps),
    }
src = inspect.getsource(node.NodesController._authorize_patch_and_get_node)
print(json.dumps({
    'rules': [r.name for r in policy.list_policies()],
    'handlers': handlers,
    'driverInterfaces': sorted(driver_base.ALL_INTERFACES),
    'patchAllowedFields': node.PATCH_ALLOWED_FIELDS,
    'patchRulesInSource': re.findall(r"'(baremetal:node:[a-z_:]+)'", src),
    'patchPrefixesInSource': re.findall(r"startswith\('([^']+)'\)", src),
    'reservedNames': sorted(node.get_nodes_controller_reserved_names()),
    'subcontrollers': sorted(node.NodesController._subcontroller_map),
    'attributeControllers': sorted(n for n, m in inspect.getmembers(node.NodesController) if isinstance(m, rest.RestController)),
}))
`;

/** Ironic's own answers, from Debian's python3-ironic; undefined when it is not installed. */
function ironicFacts(): IronicFacts | undefined {
  if (!existsSync(PYTHON)) return undefined;
  const r = spawnSync(PYTHON, ['-c', FACTS_SCRIPT, JSON.stringify(HANDLERS)], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return undefined;
  return JSON.parse(r.stdout) as IronicFacts;
}

/** Rule names from ironic/common/policy.py's text, when Python cannot import it. */
function rulesFromSource(): Set<string> | undefined {
  const file = `${IRONIC}/common/policy.py`;
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const names = new Set<string>();
  for (const m of text.matchAll(/name='([^']+)'/g)) names.add(m[1]!);
  for (const m of text.matchAll(/RuleDefault\(\s*'([^']+)'/g)) names.add(m[1]!);
  return names;
}

const facts = ironicFacts();
const noIronic = facts ? false : 'python3-ironic is not importable with /usr/bin/python3';

describe('node API table: internal consistency', () => {
  test('one entry per (method, path)', () => {
    const seen = new Set<string>();
    for (const e of NODE_ENTRIES) {
      assert.ok(!seen.has(key(e)), `duplicate ${key(e)}`);
      seen.add(key(e));
    }
  });

  test('every object argument is a path argument (or a named query parameter)', () => {
    for (const e of NODE_ENTRIES) {
      if (!e.object) continue;
      if (e.object.fromQuery) {
        for (const q of e.object.fromQuery) assert.ok(e.query?.includes(q), `${key(e)}: ${q} is not in its query`);
        assert.ok(e.object.fromQuery.includes(e.object.param), `${key(e)}: param is not one of fromQuery`);
      } else {
        assert.ok(pathArgs(e.path).includes(e.object.param), `${key(e)}: {${e.object.param}} is not in the path`);
      }
    }
  });

  test('every form on one node names the node as its object, except the ones Ironic does not look up', () => {
    for (const e of NODE_ENTRIES) {
      if (!pathArgs(e.path).includes('node_ident')) continue;
      if (e.engine === 'node.volume-links') assert.equal(e.object, undefined, key(e));
      else assert.deepEqual(e.object, { kind: 'node', param: 'node_ident' }, key(e));
    }
  });

  test('query lists are explicit and without repeats; engines are the node engines', () => {
    for (const e of NODE_ENTRIES) {
      assert.ok(Array.isArray(e.query), `${key(e)}: query is not explicit`);
      assert.equal(new Set(e.query).size, e.query!.length, `${key(e)}: repeated query parameter`);
      assert.ok(ENGINES.has(e.engine), `${key(e)}: engine ${e.engine}`);
      assert.ok(e.path.startsWith('/v1/nodes'), key(e));
      assert.ok(typeof e.since === 'number' && e.since >= 1 && e.since <= 82, `${key(e)}: since ${e.since}`);
      assert.ok(e.doc && !e.doc.includes('\n'), `${key(e)}: doc`);
    }
  });

  test('a static segment comes before an argument in the same place (Ironic routes the static one)', () => {
    const segs = (p: string) => p.split('/');
    const isArg = (s: string) => s.startsWith('{');
    NODE_ENTRIES.forEach((a, i) => {
      NODE_ENTRIES.forEach((b, j) => {
        if (j <= i || a.method !== b.method) return;
        const sa = segs(a.path);
        const sb = segs(b.path);
        if (sa.length !== sb.length) return;
        const covers = sa.every((s, k) => s === sb[k] || isArg(s));
        const moreStatic = sa.some((s, k) => isArg(s) && !isArg(sb[k]!));
        assert.ok(!(covers && moreStatic), `${key(b)} must come before ${key(a)}`);
      });
    });
  });

  test('only the provision form has the large body limit', () => {
    const big = NODE_ENTRIES.filter((e) => e.bodyLimit !== undefined).map(key);
    assert.deepEqual(big, ['PUT /v1/nodes/{node_ident}/states/provision']);
    assert.equal(NODE_ENTRIES.find((e) => e.bodyLimit)!.bodyLimit, 64 * 1024 * 1024);
  });

  test('attribute controller names appear only right after {node_ident} (where Ironic\'s scan finds them)', () => {
    for (const e of NODE_ENTRIES) {
      const segs = e.path.split('/'); // ['', 'v1', 'nodes', '{node_ident}', 'states', …]
      segs.forEach((s, i) => {
        if (NODE_ATTRIBUTE_SEGMENTS.includes(s)) assert.ok(i === 4 && segs[3] === '{node_ident}', key(e));
        if (i === 3 && !['detail', 'validate'].includes(s)) {
          assert.ok(!NODE_IDENT_UNROUTABLE.includes(s) && !NODE_RESERVED_NAMES.includes(s), key(e));
        }
      });
    }
  });

  test('refused forms are described', () => {
    assert.ok(PECAN_FORMS_REFUSED.length > 0);
    for (const f of PECAN_FORMS_REFUSED) assert.ok(f.example.length > 0 && f.why.length > 0, JSON.stringify(f));
  });
});

describe('node API table: PATCH rules', () => {
  const rules = (paths: Array<[string, unknown?]>, op = 'add') =>
    nodePatchRules(paths.map(([path, value]) => ({ op, path, value })));

  test('field rules, first match wins, by prefix', () => {
    assert.deepEqual(rules([['/owner', 'p']]), ['baremetal:node:update:owner']);
    assert.deepEqual(rules([['/retired_reason', 'x']]), ['baremetal:node:update:retired']);
    assert.deepEqual(rules([['/driver_info/ipmi_address', 'x']]), ['baremetal:node:update:driver_info']);
    assert.deepEqual(rules([['/driver', 'ipmi']]), ['baremetal:node:update:driver_interfaces']);
    assert.deepEqual(rules([['/boot_interface', 'pxe']]), ['baremetal:node:update:driver_interfaces']);
    assert.deepEqual(rules([['/network_interface', 'flat']]), ['baremetal:node:update:driver_interfaces']);
    assert.deepEqual(rules([['/network_data', {}]]), ['baremetal:node:update:network_data']);
    assert.deepEqual(rules([['/instance_info/image_source', 'x']]), ['baremetal:node:update_instance_info']);
  });

  test('generic update: added once, and for an empty patch', () => {
    assert.deepEqual(nodePatchRules([]), ['baremetal:node:update']);
    assert.deepEqual(rules([['/extra/a', 1], ['/maintenance', true], ['/description', 'd'], ['/extra/b', 2]]), [
      'baremetal:node:update_extra',
      'baremetal:node:update_extra',
      'baremetal:node:update',
    ]);
  });

  test('automated_clean: disable_cleaning only for a false value; no value is Ironic\'s 500', () => {
    assert.deepEqual(rules([['/automated_clean', false]]), ['baremetal:node:disable_cleaning']);
    assert.deepEqual(rules([['/automated_clean', 'Off']]), ['baremetal:node:disable_cleaning']);
    assert.deepEqual(rules([['/automated_clean', 0]]), ['baremetal:node:disable_cleaning']);
    assert.deepEqual(rules([['/automated_clean', true]]), ['baremetal:node:update']);
    assert.deepEqual(rules([['/automated_clean', null]]), ['baremetal:node:update']);
    assert.throws(() => nodePatchRules([{ op: 'remove', path: '/automated_clean' }]));
  });

  test('every field rule path is a patchable field', () => {
    for (const r of NODE_UPDATE_FIELD_RULES.fieldRules) {
      if (r.prefix) assert.ok(NODE_UPDATE_FIELD_RULES.allowedFields.includes(r.prefix.slice(1)), r.prefix);
    }
  });
});

describe('node API table against Ironic 21.4 (python3-ironic)', { skip: noIronic }, () => {
  test('every rule named exists in ironic.common.policy', () => {
    const known = new Set(facts!.rules);
    for (const r of rulesNamed()) assert.ok(known.has(r), `unknown rule ${r}`);
  });

  test('every entry has its handler; query lists are the handlers\' keyword arguments', () => {
    assert.deepEqual(Object.keys(HANDLERS).sort(), NODE_ENTRIES.map(key).sort());
    for (const e of NODE_ENTRIES) {
      const h = facts!.handlers[key(e)];
      assert.ok(h, `no handler for ${key(e)}`);
      const positional = pathArgs(e.path).filter((a) => a !== 'node_ident' || h.params.includes('node_ident'));
      for (const a of positional) assert.ok(h.params.includes(a), `${key(e)}: {${a}} is not an argument of its handler`);
      for (const q of e.query ?? []) assert.ok(h.params.includes(q) || h.varkw, `${key(e)}: ${q} is not an argument of its handler`);
      if (e.method === 'GET') {
        const skipped = new Set([...positional, ...(QUERY_EXCEPTIONS[key(e)] ?? [])]);
        const expected = h.params.filter((p) => !skipped.has(p));
        assert.deepEqual([...(e.query ?? [])], expected, `${key(e)}: query`);
      }
    }
  });

  test('PATCH: field rules in node.py\'s order, same prefixes, same patchable fields and interfaces', () => {
    const mine = NODE_UPDATE_FIELD_RULES.fieldRules.map((r) => r.rule);
    assert.deepEqual(facts!.patchRulesInSource, [...mine, NODE_UPDATE_FIELD_RULES.genericRule]);
    const prefixes = NODE_UPDATE_FIELD_RULES.fieldRules.filter((r) => r.prefix).map((r) => r.prefix);
    assert.deepEqual(facts!.patchPrefixesInSource, prefixes);
    assert.deepEqual([...NODE_UPDATE_FIELD_RULES.allowedFields], facts!.patchAllowedFields);
    assert.deepEqual([...NODE_DRIVER_INTERFACES].sort(), facts!.driverInterfaces);
  });

  test('reserved names, unroutable idents and attribute controllers are NodesController\'s', () => {
    assert.deepEqual([...NODE_RESERVED_NAMES].sort(), facts!.reservedNames);
    assert.deepEqual([...NODE_IDENT_UNROUTABLE].sort(), facts!.subcontrollers);
    assert.deepEqual([...NODE_ATTRIBUTE_SEGMENTS].sort(), facts!.attributeControllers);
  });
});

describe('node API table against ironic/common/policy.py (text)', { skip: existsSync(`${IRONIC}/common/policy.py`) ? false : 'ironic/common/policy.py not found' }, () => {
  test('every rule named appears in policy.py', () => {
    const known = rulesFromSource()!;
    for (const r of rulesNamed()) assert.ok(known.has(r), `unknown rule ${r}`);
  });
});
