/**
 * Differential test of the proxy's policy engine against the REAL
 * oslo.policy 4.0 with Ironic 21.4's real enforcer (Debian's python3-ironic):
 * test/support/oslo_policy_oracle.py builds ironic.common.policy's enforcer
 * from an ironic.conf and decides a matrix — every rule of list_policies()
 * (plus a policy file's own rules and free check strings) × personas ×
 * targets — and the proxy must decide every cell the same. Each
 * configuration is one Python process; they run in parallel.
 *
 * Configurations: (a) defaults, (b) enforce_scope + enforce_new_defaults,
 * (c) a policy.yaml and policy.d override with edge cases, (d) the elevated
 * service role, (e) Ironic's fallback from a missing policy.yaml to policy.json.
 * The proxy reads the same options through its own configuration loader.
 *
 * Nothing is skipped: without python3-ironic the test fails, naming it
 * (`npm test` installs the system packages first).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load.js';
import type { OsloPolicyConfig } from '../../src/config/types.js';
import { formatCheck, parseCheckString } from '../../src/policy/check-string.js';
import { ironicDefaults } from '../../src/policy/defaults.js';
import {
  credentialsOf,
  PolicyEnforcer,
  PolicyEvaluationError,
  targetOf,
  UNKNOWN,
  type Credentials,
  type Decision,
  type Target,
} from '../../src/policy/enforcer.js';

const PYTHON = '/usr/bin/python3';
const ORACLE = new URL('../support/oslo_policy_oracle.py', import.meta.url).pathname;

// ---------------------------------------------------------------------------
// The matrix

interface Persona {
  name: string;
  system?: boolean;
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  userDomainId?: string;
  domainId?: string;
  roles: string[];
  isPublicApi?: boolean;
}

const PERSONAS: Persona[] = [
  { name: 'system-admin', system: true, userDomainId: 'default', roles: ['admin', 'member', 'reader'] },
  { name: 'system-member', system: true, roles: ['member', 'reader'] },
  { name: 'system-reader', system: true, roles: ['reader'] },
  { name: 'system-service', system: true, roles: ['service'] },
  { name: 'p1-admin', projectId: 'P1', projectName: 'p1', projectDomainId: 'default', roles: ['admin', 'member', 'reader'] },
  { name: 'p1-manager', projectId: 'P1', projectName: 'p1', roles: ['manager', 'member', 'reader'] },
  { name: 'p1-member', projectId: 'P1', projectName: 'p1', roles: ['member', 'reader'] },
  { name: 'p1-reader', projectId: 'P1', projectName: 'p1', roles: ['reader'] },
  { name: 'p1-no-role', projectId: 'P1', projectName: 'p1', roles: [] },
  { name: 'p2-member', projectId: 'P2', projectName: 'p2', roles: ['member', 'reader'] },
  { name: 'p1-service', projectId: 'P1', projectName: 'p1', roles: ['service'] },
  { name: 'service-project-service', projectId: 'SVC', projectName: 'service', roles: ['service'] },
  { name: 'domain-admin', domainId: 'D1', userDomainId: 'D1', roles: ['admin', 'member', 'reader'] },
  { name: 'legacy-baremetal-admin', projectId: 'P5', projectName: 'baremetal', projectDomainId: 'default', roles: ['baremetal_admin'] },
  { name: 'legacy-observer', projectId: 'P6', projectName: 'demo', roles: ['baremetal_observer', 'observer2'] },
  { name: 'p1-mixed-case', projectId: 'P1', projectName: 'p1', roles: ['Admin', 'MEMBER', 'reader'] },
  { name: 'public-api', roles: [], isPublicApi: true },
  { name: 'unscoped-member', roles: ['member', 'reader'] },
];

const TARGETS: { name: string; fields: Target }[] = [
  { name: 'none', fields: {} },
  { name: 'owner-P1', fields: { 'node.owner': 'P1' } },
  { name: 'owner-P1-lessee-P2', fields: { 'node.owner': 'P1', 'node.lessee': 'P2' } },
  { name: 'owner-P2-lessee-P1', fields: { 'node.owner': 'P2', 'node.lessee': 'P1' } },
  { name: 'owner-P3-lessee-P4', fields: { 'node.owner': 'P3', 'node.lessee': 'P4' } },
  { name: 'owner-None-lessee-None', fields: { 'node.owner': null, 'node.lessee': null } },
  { name: 'owner-None', fields: { 'node.owner': null } },
  { name: 'owner-SVC', fields: { 'node.owner': 'SVC' } },
  { name: 'allocation-P1', fields: { 'allocation.owner': 'P1' } },
  { name: 'allocation-None', fields: { 'allocation.owner': null } },
  { name: 'allocation-P2', fields: { 'allocation.owner': 'P2' } },
];
/** Targets that differ only in node.owner / node.lessee, and in allocation.owner: UNKNOWN must be sound over them. */
const NODE_GROUP = TARGETS.filter((t) => 'node.owner' in t.fields).map((t) => t.name);
const ALLOCATION_GROUP = TARGETS.filter((t) => 'allocation.owner' in t.fields).map((t) => t.name);

/** Free check strings, evaluated against each configuration's table. */
const CHECKS = [
  'project_id:%(node.owner)s or project_id:%(node.lessee)s',
  'rule:admin_api and not rule:is_member',
  "'member':%(roles)s",
  'True:%(is_admin_project)s',
  'is_public_api:True',
  'is_public_api:False',
  'user_domain_id:None',
  'domain_id:%(domain_id)s',
  'system_scope:%(system_scope)s',
  'system:all',
  'role:%(project_name)s',
  'project_name:%(config.service_project_name)s',
  'service_roles:service',
  'rule:nonexistent',
  'roles:reader and roles:READER',
  'None:%(node.lessee)s',
  '1:1 and 0x10:16 and 1.50:1.5 and -2:-2 and 1e3:1000.0',
  "u'P1':%(node.owner)s",
  'role:admin or role:member and not role:reader',
  'not (role:admin or role:member) and not role:reader',
  'project_id:%(node.owner)s%%',
  'user_id:%(user_id)s',
];

/** The policy file of configuration (c): overrides and every odd form oslo accepts. */
const POLICY_YAML = `# operator overrides (configuration c)
# an override of a deprecated *name*: the renamed rules that replaced it inherit it
"baremetal:node:get": "role:observer2 or rule:is_admin"
# an override of a new name that refers to its deprecated name
"baremetal:node:update:name": "rule:baremetal:node:update"
# the deprecated name of portgroup:list, overridden as rule:NEW: not taken over
"baremetal:portgroup:get": "rule:baremetal:portgroup:list"
# deprecated name of volume:list and volume:list_all; volume:list overridden itself
"baremetal:volume:get": "role:volume_reader"
"baremetal:volume:list": "role:volume_lister"
# base rules the deprecated defaults use
is_member: "project_name:p1 or project_name:baremetal"
service_role: "role:service"
"baremetal:node:create": [["role:admin", "system_scope:all"], ["role:creator"]]
"baremetal:node:delete": "(role:admin"
"baremetal:port:get": ""
"baremetal:port:list": "role:ADMIN"

default: "role:reader and not role:admin"
"custom:empty": ""
"custom:null":
"custom:bang": !
"custom:false": false
"custom:list": [["role:admin", "project_id:%(node.owner)s"], ["role:service"], []]
"custom:list_inner_strings": ["role:reader", "role:member or role:x"]
"custom:ws": "   "
"custom:lone_quoted": "'quoted'"
"custom:lone_and": "and"
"custom:unbalanced": "(role:admin"
"custom:default_ref": "rule:does_not_exist or role:nobody"
"custom:lit_true": "True:%(is_public_api)s"
"custom:lit_none": "None:%(node.owner)s"
"custom:quoted_lit": "'P1':%(node.owner)s"
"custom:int_missing": "1:%(n)s"
"custom:roles_generic": "roles:admin"
"custom:roles_case": "roles:Admin"
"custom:role_case": "role:ADMIN"
"custom:system": "system:all"
"custom:nested_missing": "user.id:x"
"custom:project_none": "project_id:%(node.owner)s"
"custom:lessee_missing": "project_id:%(node.lessee)s"
"custom:not": "not role:admin"
"custom:precedence": "role:admin or role:member and not role:reader"
"custom:mixed_case_ops": "role:admin OR (role:member AND NOT role:reader)"
"custom:cycle_a": "rule:custom:cycle_b or role:nobody"
"custom:cycle_b": "rule:custom:cycle_a"
"custom:cycle_cut": "@ or rule:custom:cycle_a"
"custom:is_admin_project": "is_admin_project:True"
"custom:keyword_kind": "class:x"
"custom:leading_zero": "007:x"
"custom:incomplete_format": "project_id:50%"
"custom:repr_format": "project_id:%(node.owner)r"
"custom:dotted_creds": "config.service_project_name:service"
"custom:path_into_list": "roles.x:y"
`;
const POLICY_D: Record<string, string> = {
  '10-more.yaml': '"custom:not": "role:member"\n"baremetal:node:list": "role:lister or role:reader"\n',
  '20-last.json': '{"custom:not": "role:reader and not role:member"}\n',
  '.hidden.yaml': 'this: [is not: loaded\n',
};
const EXTRA_RULES = [...POLICY_YAML.matchAll(/^"?(custom:[a-z_]+|default)"?:/gm)].map((m) => m[1]!);

interface Config {
  name: string;
  ini: string;
  files: Record<string, string>;
  extraRules: string[];
  parse: string[];
  expectPolicyPath: string | null;
}

const CONFIGS: Config[] = [
  { name: '(a) defaults', ini: '', files: {}, extraRules: [], parse: parseCorpus(), expectPolicyPath: null },
  {
    name: '(b) enforce_scope and enforce_new_defaults',
    ini: '[oslo_policy]\nenforce_scope = true\nenforce_new_defaults = true\n',
    files: {},
    extraRules: [],
    parse: [],
    expectPolicyPath: null,
  },
  {
    name: '(c) policy.yaml and policy.d overrides',
    ini: '[oslo_policy]\npolicy_file = policy.yaml\n',
    files: { 'policy.yaml': POLICY_YAML, ...Object.fromEntries(Object.entries(POLICY_D).map(([k, v]) => [`policy.d/${k}`, v])) },
    extraRules: EXTRA_RULES,
    parse: [],
    expectPolicyPath: 'policy.yaml',
  },
  {
    name: '(d) elevated service role, new defaults',
    ini: '[DEFAULT]\nrbac_service_role_elevated_access = true\nrbac_service_project_name = service\n\n[oslo_policy]\nenforce_new_defaults = true\n',
    files: {},
    extraRules: [],
    parse: [],
    expectPolicyPath: null,
  },
  {
    name: '(e) policy.json when the default policy.yaml is missing, scope enforced',
    ini: '[oslo_policy]\nenforce_scope = true\n',
    files: { 'policy.json': '{"baremetal:node:list": "role:json_lister", "baremetal:driver:get": "@"}' },
    extraRules: [],
    parse: [],
    expectPolicyPath: 'policy.json',
  },
];

/** Check strings for the parser: hand-picked, then random token soups (seeded). */
function parseCorpus(): string[] {
  const fixed = [
    '', ' ', '\t\n', '@', '!', 'role:admin', 'rule:x', 'a:b', 'noseparator', 'http://example.com/%(x)s',
    'role:a and role:b', 'role:a or role:b and role:c', '(role:a or role:b) and role:c', 'not role:a',
    'not not role:a', 'role:a and not role:b or role:c', '((role:a))', '(role:a', 'role:a)', '()', '(', ')',
    'and', 'AND', 'Or', 'NOT', 'role:a AND role:b', "'quoted'", '"quoted"', "'quoted':%(x)s", "role:a and 'x'",
    'role:a or (role:b and role:c) and role:d', '(role:a and role:b) and role:c', 'role:a or role:b or role:c',
    'project_id:%(node.owner)s)', '(project_id:%(node.owner)s', 'a:b\x1cor\x1cc:d', 'a:b\u00a0or\u00a0c:d',
    'a:b\ufeffor\ufeffc:d', 'a:b  or\n\tc:d', 'role:a or', 'or role:a', 'role:a not role:b', 'role:a (role:b)',
    '(not role:a) or (not (role:b and role:c))', 'True:%(x)s', '!:x', '@:x', 'rule:', ':', 'a:', ':b',
    'role:a:b', 'not', '(and)', 'role:a and and role:b', "'a' or role:b", "('a')", "'a')", "('a'",
  ];
  const atoms = ['role:admin', 'rule:is_member', '@', '!', 'a:b', 'project_id:%(node.owner)s', "'lit'", '"x"', 'bare', 'True:%(x)s'];
  const ops = ['and', 'or', 'not', 'AND', 'Or', 'nOt'];
  const spaces = [' ', ' ', ' ', '  ', '\t', '\n'];
  let seed = 20260213;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor((seed / 2147483648) * n);
  };
  const soups: string[] = [];
  for (let i = 0; i < 1500; i++) {
    const length = 1 + rand(9);
    const words: string[] = [];
    for (let j = 0; j < length; j++) {
      let w = rand(3) === 0 ? ops[rand(ops.length)]! : atoms[rand(atoms.length)]!;
      if (rand(4) === 0) w = '('.repeat(1 + rand(2)) + w;
      if (rand(4) === 0) w += ')'.repeat(1 + rand(2));
      words.push(w);
    }
    soups.push(words.map((w, k) => (k === 0 ? w : spaces[rand(spaces.length)]! + w)).join(''));
  }
  // Well-formed expressions too, so that precedence and flattening are compared on real trees.
  const expr = (depth: number): string => {
    const r = rand(depth > 3 ? 2 : 6);
    if (r <= 1) return atoms[rand(6)]!;
    if (r === 2) return `not ${expr(depth + 1)}`;
    if (r === 3) return `(${expr(depth + 1)})`;
    return `${expr(depth + 1)} ${rand(2) ? 'and' : 'or'} ${expr(depth + 1)}`;
  };
  for (let i = 0; i < 800; i++) soups.push(expr(0));
  return [...fixed, ...soups];
}

// ---------------------------------------------------------------------------
// Running both sides

interface OracleAnswer {
  ironic_version: string;
  policy_path: string | null;
  rule_names: string[];
  effective: Record<string, string>;
  creds: Record<string, Record<string, unknown>>;
  decisions: Record<string, Record<string, string>>;
  parsed: string[];
}

function pythonContext(p: Persona): Record<string, unknown> {
  return {
    user_id: `user-${p.name}`,
    project_id: p.projectId ?? null,
    project_name: p.projectName ?? null,
    project_domain_id: p.projectDomainId ?? null,
    user_domain_id: p.userDomainId ?? null,
    domain_id: p.domainId ?? null,
    system_scope: p.system ? 'all' : null,
    roles: p.roles,
    is_public_api: p.isPublicApi ?? false,
  };
}

function credentialsFor(p: Persona, cfg: OsloPolicyConfig): Credentials {
  return credentialsOf(
    {
      userId: `user-${p.name}`,
      projectId: p.projectId,
      projectName: p.projectName,
      projectDomainId: p.projectDomainId,
      userDomainId: p.userDomainId,
      domainId: p.domainId,
      system: p.system ?? false,
      roles: p.roles,
      isPublicApi: p.isPublicApi,
    },
    cfg,
  );
}

function runOracle(request: unknown): Promise<OracleAnswer> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [ORACLE], { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        reject(
          new Error(
            `the oslo.policy oracle failed (it needs Debian's python3-ironic 21.4 and python3-oslo.policy: ` +
              `sudo scripts/install-system-deps.sh): ${err.message}\n${stderr}`,
          ),
        );
        return;
      }
      try {
        resolve(JSON.parse(stdout) as OracleAnswer);
      } catch (e) {
        reject(new Error(`the oslo.policy oracle printed no JSON: ${(e as Error).message}\n${stdout.slice(0, 2000)}\n${stderr}`));
      }
    });
    child.stdin!.end(JSON.stringify(request));
  });
}

const LETTER: Record<Decision, string> = { allow: 'A', deny: 'D', 'invalid-scope': 'S', unknown: '?' };

function letterOf(decide: () => Decision): string {
  try {
    return LETTER[decide()];
  } catch (err) {
    if (err instanceof PolicyEvaluationError) return 'E';
    throw err;
  }
}

interface Prepared {
  config: Config;
  dir: string;
  cfg: OsloPolicyConfig;
  oracle: OracleAnswer;
}

const root = mkdtempSync(join(tmpdir(), 'policy-oslo-'));
let prepared: Prepared[] = [];

before(async () => {
  prepared = await Promise.all(
    CONFIGS.map(async (config, i) => {
      const dir = join(root, `c${i}`);
      mkdirSync(join(dir, 'policy.d'), { recursive: true });
      for (const [name, text] of Object.entries(config.files)) writeFileSync(join(dir, name), text);
      // The same options for Ironic and for the proxy (whose configuration also needs a site).
      writeFileSync(join(dir, 'ironic.conf'), `[DEFAULT]\nauth_strategy = keystone\n\n${config.ini}`);
      writeFileSync(
        join(dir, 'ironic-proxy.conf'),
        `[DEFAULT]\ngroups = _:loc1\n\n[group:loc1]\nauth_type = none\nendpoint_override = http://127.0.0.1:6385\n\n${config.ini}`,
      );
      const cfg = loadConfigFile(join(dir, 'ironic-proxy.conf')).osloPolicy;
      const oracle = await runOracle({
        config_file: join(dir, 'ironic.conf'),
        personas: PERSONAS.map((p) => ({ name: p.name, context: pythonContext(p) })),
        targets: TARGETS,
        extra_rules: config.extraRules,
        checks: CHECKS,
        parse: config.parse,
      });
      return { config, dir, cfg, oracle };
    }),
  );
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('policy engine vs the real oslo.policy 4.0 + Ironic 21.4 enforcer', () => {
  test('the oracle is Ironic 21.4, with the rules of the generated table in the same order', () => {
    for (const { oracle } of prepared) {
      assert.match(oracle.ironic_version, /^21\.4\./);
      assert.deepEqual(oracle.rule_names, ironicDefaults().map((d) => d.name));
    }
    assert.equal(ironicDefaults().length, 110);
  });

  for (const [i, config] of CONFIGS.entries()) {
    describe(config.name, () => {
      const get = (): Prepared => prepared[i]!;

      test('the same policy file is found (or none)', () => {
        const { oracle, dir } = get();
        assert.equal(oracle.policy_path, config.expectPolicyPath === null ? null : join(dir, config.expectPolicyPath));
        const enforcer = PolicyEnforcer.load(get().cfg);
        const expected = config.expectPolicyPath === null ? [] : [join(dir, config.expectPolicyPath)];
        if (config.name.startsWith('(c)')) expected.push(join(dir, 'policy.d', '10-more.yaml'), join(dir, 'policy.d', '20-last.json'));
        assert.deepEqual(enforcer.sources, expected);
      });

      test('credentials: credentialsOf gives what to_policy_values gives', () => {
        const { oracle, cfg } = get();
        for (const p of PERSONAS) assert.deepEqual({ ...credentialsFor(p, cfg) }, oracle.creds[p.name], p.name);
      });

      test('effective rules print as oslo prints them', () => {
        const { oracle, cfg } = get();
        const enforcer = PolicyEnforcer.load(cfg);
        const diffs: string[] = [];
        for (const [name, str] of Object.entries(oracle.effective)) {
          const ours = enforcer.checkString(name);
          if (ours !== str) diffs.push(`${name}:\n    oslo:  ${str}\n    proxy: ${ours}`);
        }
        assert.deepEqual(diffs, []);
        assert.equal(Object.keys(oracle.effective).length >= 110, true);
      });

      test('every rule × persona × target decides as oslo decides', () => {
        const { oracle, cfg } = get();
        const enforcer = PolicyEnforcer.load(cfg);
        assert.deepEqual(enforcer.ruleNames(), oracle.rule_names);
        const names = [...oracle.rule_names, ...config.extraRules, ...CHECKS.map((c) => `check "${c}"`)];
        const diffs: string[] = [];
        let cells = 0;
        for (const p of PERSONAS) {
          const creds = credentialsFor(p, cfg);
          for (const t of TARGETS) {
            const target = targetOf(creds, t.fields);
            const ours = [
              ...oracle.rule_names.map((r) => letterOf(() => enforcer.decide(r, creds, target))),
              ...config.extraRules.map((r) => letterOf(() => enforcer.enforce(r, creds, target))),
              ...CHECKS.map((c) => letterOf(() => enforcer.evaluateCheckString(c, creds, target))),
            ].join('');
            const theirs = oracle.decisions[p.name]![t.name]!;
            assert.equal(ours.length, theirs.length);
            for (let k = 0; k < ours.length; k++) {
              cells++;
              if (ours[k] !== theirs[k]) diffs.push(`${p.name} / ${t.name} / ${names[k]}: oslo ${theirs[k]}, proxy ${ours[k]}`);
            }
          }
        }
        assert.deepEqual(diffs.slice(0, 40), [], `${diffs.length} of ${cells} decisions differ`);
        assert.ok(cells > 25_000, `${cells} cells`);
      });

      test('an UNKNOWN owner/lessee is decided only when every known value would decide the same (Kleene soundness)', () => {
        const { oracle, cfg } = get();
        const enforcer = PolicyEnforcer.load(cfg);
        const problems: string[] = [];
        let definite = 0;
        for (const p of PERSONAS) {
          const creds = credentialsFor(p, cfg);
          const groups: [string[], Target][] = [
            [NODE_GROUP, targetOf(creds, { 'node.owner': UNKNOWN, 'node.lessee': UNKNOWN })],
            [ALLOCATION_GROUP, targetOf(creds, { 'allocation.owner': UNKNOWN })],
          ];
          for (const [k, rule] of oracle.rule_names.entries()) {
            for (const [group, blind] of groups) {
              const ours = letterOf(() => enforcer.decide(rule, creds, blind));
              const known = new Set(group.map((t) => oracle.decisions[p.name]![t]![k]!));
              if (ours === '?') continue;
              definite++;
              if (known.size !== 1 || !known.has(ours)) problems.push(`${p.name} / ${rule}: proxy ${ours} blind, oslo ${[...known].join('')} over ${group.join(',')}`);
            }
          }
        }
        assert.deepEqual(problems.slice(0, 20), []);
        assert.ok(definite > 0);
      });

      if (config.parse.length > 0) {
        test(`the parser reads ${config.parse.length} check strings as oslo's parser does (oslo's str() compared)`, () => {
          const { oracle } = get();
          const diffs: string[] = [];
          config.parse.forEach((s, k) => {
            const ours = formatCheck(parseCheckString(s).check);
            if (ours !== oracle.parsed[k]) diffs.push(`${JSON.stringify(s)}: oslo ${JSON.stringify(oracle.parsed[k])}, proxy ${JSON.stringify(ours)}`);
          });
          assert.deepEqual(diffs.slice(0, 30), [], `${diffs.length} differ`);
        });
      }
    });
  }
});
