import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  credentialsOf,
  PolicyEnforcer,
  PolicyFileError,
  PolicyNotRegisteredError,
  targetOf,
  UNKNOWN,
  type CredentialOptions,
  type Credentials,
  type EnforcerOptions,
  type PolicyDefault,
  type Target,
} from '../../src/policy/enforcer.js';

type Options = EnforcerOptions & CredentialOptions;
const BASE: Options = {
  enforceScope: false,
  enforceNewDefaults: false,
  policyFile: 'policy.yaml',
  rbacServiceRoleElevatedAccess: false,
  rbacServiceProjectName: 'service',
};
const cfgOf = (over: Partial<Options> = {}): Options => ({ ...BASE, ...over });

interface Who {
  system?: boolean;
  projectId?: string;
  projectName?: string;
  domainId?: string;
  roles: string[];
}
const SYSTEM_ADMIN: Who = { system: true, roles: ['admin', 'member', 'reader'] };
const SYSTEM_MEMBER: Who = { system: true, roles: ['member', 'reader'] };
const SYSTEM_READER: Who = { system: true, roles: ['reader'] };
const P1_ADMIN: Who = { projectId: 'P1', projectName: 'p1', roles: ['admin', 'member', 'reader'] };
const P1_MANAGER: Who = { projectId: 'P1', projectName: 'p1', roles: ['manager', 'member', 'reader'] };
const P1_MEMBER: Who = { projectId: 'P1', projectName: 'p1', roles: ['member', 'reader'] };
const P1_READER: Who = { projectId: 'P1', projectName: 'p1', roles: ['reader'] };
const P1_NO_ROLE: Who = { projectId: 'P1', projectName: 'p1', roles: [] };
const SERVICE: Who = { projectId: 'SVC', projectName: 'service', roles: ['service'] };
const DOMAIN_ADMIN: Who = { domainId: 'D1', roles: ['admin', 'member', 'reader'] };

function credsOf(who: Who, cfg: Options = BASE): Credentials {
  return credentialsOf({ userId: 'u1', system: false, ...who }, cfg);
}

const node = (owner: string | null, lessee?: string | null): Target =>
  lessee === undefined ? { 'node.owner': owner } : { 'node.owner': owner, 'node.lessee': lessee };

/** Decides `rule` for `who` on a target made as Ironic makes it (creds + fields). */
function decider(cfg: Options = BASE, overrides?: Record<string, unknown>) {
  const enforcer = PolicyEnforcer.fromRules(cfg, overrides);
  return (rule: string, who: Who, fields: Target = {}) => {
    const creds = credsOf(who, cfg);
    return enforcer.decide(rule, creds, targetOf(creds, fields));
  };
}

describe('PolicyEnforcer: the table', () => {
  const enforcer = PolicyEnforcer.fromRules(BASE);

  test("Ironic 21.4's 110 rules in registration order, base rules included", () => {
    const names = enforcer.ruleNames();
    assert.equal(names.length, 110);
    assert.deepEqual(names.slice(0, 5), ['admin_api', 'public_api', 'show_password', 'show_instance_secrets', 'service_role']);
    for (const n of ['is_node_owner', 'baremetal:node:get', 'baremetal:allocation:create', 'baremetal:deploy_template:update']) assert.ok(enforcer.has(n), n);
    assert.equal(enforcer.has('baremetal:node:frobnicate'), false);
  });

  test('an unregistered rule is a programming error (oslo: PolicyNotRegistered); enforce() just denies it', () => {
    assert.throws(() => enforcer.decide('baremetal:node:frobnicate', credsOf(SYSTEM_ADMIN)), PolicyNotRegisteredError);
    assert.equal(enforcer.enforce('baremetal:node:frobnicate', credsOf(SYSTEM_ADMIN)), 'deny');
    assert.throws(() => enforcer.checkString('baremetal:node:frobnicate'), PolicyNotRegisteredError);
  });

  test('effective rules: new OR deprecated by default, new only with enforce_new_defaults', () => {
    assert.equal(enforcer.checkString('baremetal:node:delete'), '((role:admin and system_scope:all) or rule:is_admin)');
    assert.equal(PolicyEnforcer.fromRules(cfgOf({ enforceNewDefaults: true })).checkString('baremetal:node:delete'), '(role:admin and system_scope:all)');
    assert.equal(enforcer.checkString('show_password'), '!');
    assert.equal(enforcer.checkString('baremetal:node:ipa_heartbeat'), '(@ or rule:public_api)');
  });
});

describe('PolicyEnforcer: deprecated rules and overrides (oslo _handle_deprecated_rule)', () => {
  const defaults: PolicyDefault[] = [
    { name: 'new', check_str: 'role:new', scope_types: null, deprecated: { name: 'old', check_str: 'role:old' } },
    { name: 'same', check_str: 'role:same', scope_types: null, deprecated: { name: 'same', check_str: 'role:same' } },
    { name: 'renewed', check_str: 'role:v2', scope_types: null, deprecated: { name: 'renewed', check_str: 'role:v1' } },
    { name: 'plain', check_str: 'role:plain', scope_types: null, deprecated: null },
  ];
  const table = (over: Record<string, unknown> = {}, enforceNewDefaults = false) => {
    const e = PolicyEnforcer.fromRules({ enforceScope: false, enforceNewDefaults }, over, defaults);
    return (name: string) => e.checkString(name);
  };

  test('not overridden: (new or deprecated) when the check strings differ, unless enforce_new_defaults', () => {
    const t = table();
    assert.equal(t('new'), '(role:new or role:old)');
    assert.equal(t('renewed'), '(role:v2 or role:v1)');
    assert.equal(t('same'), 'role:same');
    assert.equal(t('plain'), 'role:plain');
    assert.equal(table({}, true)('new'), 'role:new');
  });

  test('an override of the rule itself is exactly the override (no OR with anything)', () => {
    assert.equal(table({ new: 'role:mine' })('new'), 'role:mine');
    assert.equal(table({ renewed: 'role:mine' })('renewed'), 'role:mine');
  });

  test("an override of the deprecated rule's other name becomes the rule, in both modes", () => {
    assert.equal(table({ old: 'role:legacy' })('new'), 'role:legacy');
    assert.equal(table({ old: 'role:legacy' }, true)('new'), 'role:legacy');
    assert.equal(table({ old: 'role:old' })('new'), 'role:old', 'even when it equals the deprecated default');
  });

  test('...unless it is just rule:NEW (a generated sample), or the new name is overridden too', () => {
    assert.equal(table({ old: 'rule:new' })('new'), '(role:new or role:old)');
    assert.equal(table({ old: '(rule:new)' })('new'), '(role:new or role:old)', 'compared as oslo prints it');
    assert.equal(table({ old: 'role:legacy', new: 'role:mine' })('new'), 'role:mine');
  });

  test('real Ironic renames: overriding baremetal:node:get carries over to the rules that replaced it', () => {
    const e = PolicyEnforcer.fromRules(BASE, { 'baremetal:node:get': 'role:auditor' });
    for (const n of ['baremetal:node:get', 'baremetal:node:get:last_error', 'baremetal:node:history:get']) assert.equal(e.checkString(n), 'role:auditor', n);
    assert.notEqual(e.checkString('baremetal:node:list'), 'role:auditor', 'list keeps its own default (same name deprecated rule)');
  });

  test('a rule registered twice is refused', () => {
    assert.throws(() => PolicyEnforcer.fromRules(BASE, {}, [defaults[3]!, defaults[3]!]), /registered twice/);
  });

  test('rule:NAME of an unknown name: the policy file\'s `default` rule, else false; problems are reported', () => {
    const e = PolicyEnforcer.fromRules(BASE, { 'custom:a': 'rule:nowhere', default: 'role:reader', 'custom:b': '(role:x' });
    assert.equal(e.enforce('custom:a', credsOf(P1_READER)), 'allow');
    assert.equal(e.enforce('no:such:rule', credsOf(P1_READER)), 'allow', "enforce() of an unknown name is oslo's default rule too");
    assert.equal(PolicyEnforcer.fromRules(BASE, { 'custom:a': 'rule:nowhere' }).enforce('custom:a', credsOf(SYSTEM_ADMIN)), 'deny');
    assert.ok(e.problems.some((p) => p.includes('custom:a') && p.includes('nowhere')), JSON.stringify(e.problems));
    assert.ok(e.problems.some((p) => p.includes('custom:b') && p.includes('false as a whole')), JSON.stringify(e.problems));
  });
});

describe("PolicyEnforcer: Ironic's defaults for representative personas (enforce_new_defaults off, as shipped)", () => {
  const decide = decider();

  test('system admin / member / reader', () => {
    assert.equal(decide('baremetal:node:create', SYSTEM_ADMIN), 'allow');
    assert.equal(decide('baremetal:node:delete', SYSTEM_ADMIN, node('P1')), 'allow');
    assert.equal(decide('baremetal:node:update', SYSTEM_MEMBER, node('P1')), 'allow');
    assert.equal(decide('baremetal:node:create', SYSTEM_MEMBER), 'deny');
    assert.equal(decide('baremetal:node:get', SYSTEM_READER, node('P3')), 'allow');
    assert.equal(decide('baremetal:node:update', SYSTEM_READER, node('P3')), 'deny');
    assert.equal(decide('baremetal:node:list_all', SYSTEM_READER), 'allow');
  });

  test('project member: owner or lessee; reader reads; no role sees nothing', () => {
    assert.equal(decide('baremetal:node:update', P1_MEMBER, node('P1')), 'allow');
    assert.equal(decide('baremetal:node:update', P1_MEMBER, node('P2', 'P1')), 'allow', 'lessee');
    assert.equal(decide('baremetal:node:update', P1_MEMBER, node('P3', 'P4')), 'deny');
    assert.equal(decide('baremetal:node:get', P1_READER, node('P1')), 'allow');
    assert.equal(decide('baremetal:node:update', P1_READER, node('P1')), 'deny');
    assert.equal(decide('baremetal:node:get', P1_NO_ROLE, node('P1')), 'deny');
    assert.equal(decide('baremetal:node:list_all', P1_MEMBER), 'deny');
    assert.equal(decide('baremetal:node:list', P1_MEMBER), 'allow');
  });

  test('owner vs lessee: instance info for the owner member, the lessee admin or manager (lessee members too under the old default)', () => {
    const strict = decider(cfgOf({ enforceNewDefaults: true }));
    assert.equal(strict('baremetal:node:update_instance_info', P1_MEMBER, node('P1', 'P2')), 'allow');
    assert.equal(strict('baremetal:node:update_instance_info', P1_MEMBER, node('P2', 'P1')), 'deny');
    assert.equal(strict('baremetal:node:update_instance_info', P1_MANAGER, node('P2', 'P1')), 'allow');
    assert.equal(decide('baremetal:node:update_instance_info', P1_MEMBER, node('P2', 'P1')), 'allow', 'OR rule:baremetal:node:update');
  });

  test('legacy is_admin is OR-ed in: an admin of ANY project may do what a system admin may', () => {
    assert.equal(decide('baremetal:node:delete', P1_ADMIN, node('P3')), 'allow');
    assert.equal(decider(cfgOf({ enforceNewDefaults: true }))('baremetal:node:delete', P1_ADMIN, node('P3')), 'deny');
  });

  test('allocations: owner readers read, others not', () => {
    assert.equal(decide('baremetal:allocation:get', P1_READER, { 'allocation.owner': 'P1' }), 'allow');
    assert.equal(decide('baremetal:allocation:get', P1_READER, { 'allocation.owner': 'P2' }), 'deny');
    assert.equal(decide('baremetal:allocation:create', P1_MEMBER), 'allow');
  });

  test('service role: its own project\'s nodes; every node with rbac_service_role_elevated_access', () => {
    assert.equal(decide('baremetal:node:get', SERVICE, node('SVC')), 'allow');
    assert.equal(decide('baremetal:node:get', SERVICE, node('P1')), 'deny');
    const elevated = decider(cfgOf({ rbacServiceRoleElevatedAccess: true }));
    assert.equal(elevated('baremetal:node:get', SERVICE, node('P1')), 'allow');
    assert.equal(elevated('baremetal:node:update', SERVICE, node('P1')), 'allow');
    assert.equal(elevated('baremetal:node:get', { ...SERVICE, projectName: 'other' }, node('P1')), 'deny');
  });

  test('None matches None: an admin without a project (domain-scoped) is a "project admin" of unowned nodes', () => {
    const strict = decider(cfgOf({ enforceNewDefaults: true }));
    assert.equal(strict('baremetal:node:set_boot_device', DOMAIN_ADMIN, node(null)), 'allow');
    assert.equal(strict('baremetal:node:set_boot_device', DOMAIN_ADMIN, node('P1')), 'deny');
  });
});

describe('PolicyEnforcer: scope', () => {
  test('enforce_scope off (the default): a mismatch is ignored', () => {
    const decide = decider();
    assert.equal(decide('baremetal:chassis:get', P1_READER), 'deny');
    assert.equal(decide('baremetal:node:get', DOMAIN_ADMIN, node('P1')), 'allow', 'legacy is_admin');
  });

  test("enforce_scope on: the token's scope must be in the rule's scope_types", () => {
    const decide = decider(cfgOf({ enforceScope: true }));
    assert.equal(decide('baremetal:chassis:get', P1_READER), 'invalid-scope', 'system-only rule, project token');
    assert.equal(decide('baremetal:chassis:get', SYSTEM_READER), 'allow');
    assert.equal(decide('baremetal:node:get', DOMAIN_ADMIN, node('P1')), 'invalid-scope', 'domain token');
    assert.equal(decide('baremetal:allocation:create_pre_rbac', SYSTEM_ADMIN), 'invalid-scope', 'project-only rule, system token');
    assert.equal(decide('admin_api', DOMAIN_ADMIN), 'allow', 'no scope_types: no check');
    assert.equal(decide('baremetal:node:ipa_heartbeat', P1_NO_ROLE), 'allow');
  });

  test('scope is decided before, and whatever, the target', () => {
    const decide = decider(cfgOf({ enforceScope: true }));
    assert.equal(decide('baremetal:chassis:get', P1_READER, { 'node.owner': UNKNOWN }), 'invalid-scope');
  });
});

describe('PolicyEnforcer: UNKNOWN targets', () => {
  const decide = decider();
  const blind = { 'node.owner': UNKNOWN, 'node.lessee': UNKNOWN };

  test('decided when the target cannot matter, unknown when it can', () => {
    assert.equal(decide('baremetal:node:get', SYSTEM_READER, blind), 'allow');
    assert.equal(decide('baremetal:node:get', P1_MEMBER, blind), 'unknown');
    assert.equal(decide('baremetal:node:get', P1_NO_ROLE, blind), 'deny');
    assert.equal(decide('baremetal:node:create', SYSTEM_MEMBER, blind), 'deny');
    assert.equal(decide('baremetal:allocation:get', P1_READER, { 'allocation.owner': UNKNOWN }), 'unknown');
  });
});

describe('PolicyEnforcer.load: policy files', () => {
  const root = mkdtempSync(join(tmpdir(), 'policy-enforcer-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const dirWith = (files: Record<string, string>): string => {
    const dir = join(root, `d${n++}`);
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return dir;
  };

  test('a relative policy_file is read from the configuration directory (YAML)', () => {
    const dir = dirWith({ 'policy.yaml': '"baremetal:node:list": "role:lister"\n# a comment\nshow_password: !\n' });
    const e = PolicyEnforcer.load(BASE, dir);
    assert.deepEqual(e.sources, [join(dir, 'policy.yaml')]);
    assert.equal(e.checkString('baremetal:node:list'), 'role:lister');
    assert.equal(e.checkString('show_password'), '@', 'an unquoted `!` is an empty YAML value: allowed, as in oslo');
    assert.equal(PolicyEnforcer.load({ ...BASE, configDir: dir }).sources.length, 1, 'cfg.configDir');
  });

  test('a missing policy file is no error; an absolute path is used as is', () => {
    const dir = dirWith({});
    assert.deepEqual(PolicyEnforcer.load(BASE, dir).sources, []);
    const other = dirWith({ 'p.json': '{"baremetal:node:list": "role:x"}' });
    assert.equal(PolicyEnforcer.load(cfgOf({ policyFile: join(other, 'p.json') }), dir).checkString('baremetal:node:list'), 'role:x');
  });

  test("policy.json is Ironic's fallback when the default policy.yaml is missing", () => {
    const dir = dirWith({ 'policy.json': '{"baremetal:node:list": "role:json"}' });
    assert.equal(PolicyEnforcer.load(BASE, dir).checkString('baremetal:node:list'), 'role:json');
    assert.deepEqual(PolicyEnforcer.load(cfgOf({ policyFile: 'other.yaml' }), dir).sources, []);
  });

  test('policy.d: every file in name order after the policy file, dot files and sub-directories skipped', () => {
    const dir = dirWith({
      'policy.yaml': 'a: "role:main"\nb: "role:main"\nc: "role:main"\n',
      'policy.d/20-b.yaml': 'b: "role:twenty"\nc: "role:twenty"\n',
      'policy.d/10-a.yaml': 'b: "role:ten"\n',
      'policy.d/30-c.json': '{"c": "role:thirty"}',
      'policy.d/.hidden.yaml': 'this is: [not valid\n',
      'policy.d/sub/ignored.yaml': 'c: "role:sub"\n',
    });
    const e = PolicyEnforcer.load(BASE, dir);
    assert.deepEqual(e.sources.map((s) => s.slice(dir.length + 1)), ['policy.yaml', 'policy.d/10-a.yaml', 'policy.d/20-b.yaml', 'policy.d/30-c.json']);
    assert.deepEqual(['a', 'b', 'c'].map((r) => e.checkString(r)), ['role:main', 'role:twenty', 'role:thirty']);
    const none = PolicyEnforcer.load(cfgOf({ policyDirs: [] }), dir);
    assert.equal(none.checkString('c'), 'role:main');
  });

  test('a policy_dirs entry that is a file is an error naming it', () => {
    const dir = dirWith({ 'notadir': 'x' });
    assert.throws(() => PolicyEnforcer.load(cfgOf({ policyDirs: ['notadir'] }), dir), (err: unknown) => err instanceof PolicyFileError && err.message.includes(join(dir, 'notadir')));
  });

  test('malformed files are errors naming the file (and the rule)', () => {
    const cases: [string, RegExp][] = [
      ['a: [unclosed\n', /not valid YAML or JSON/],
      ['- a\n- b\n', /not a mapping/],
      ['just a string\n', /not a mapping/],
      ['a: !custom tag\n', /not valid YAML or JSON/],
      ['"custom:x": "a-b:c"\n', /rule "custom:x": not supported/],
      ['"custom:x": "project_id:%(x)d"\n', /rule "custom:x": not supported/],
      ['"custom:x": 5\n', /rule "custom:x"/],
      ['"custom:x": 2024-01-01\n', /rule "custom:x"/],
    ];
    for (const [text, re] of cases) {
      const dir = dirWith({ 'policy.yaml': text });
      assert.throws(
        () => PolicyEnforcer.load(BASE, dir),
        (err: unknown) => err instanceof PolicyFileError && err.message.includes(join(dir, 'policy.yaml')) && re.test(err.message),
        text,
      );
    }
  });

  test('an empty file, or one with only comments, overrides nothing', () => {
    for (const text of ['', '# nothing\n', '{}', 'null\n']) {
      const e = PolicyEnforcer.load(BASE, dirWith({ 'policy.yaml': text }));
      assert.equal(e.checkString('show_password'), '!', JSON.stringify(text));
    }
  });
});

describe('credentialsOf: what oslo.context and Ironic give oslo.policy', () => {
  test("project token: to_policy_values' keys, None for what the token lacks, roles as Keystone names them", () => {
    const creds = credentialsOf(
      { userId: 'u1', userDomainId: 'default', projectId: 'P1', projectName: 'p1', projectDomainId: 'default', system: false, roles: ['Admin', 'reader'] },
      BASE,
    );
    assert.deepEqual(creds, {
      user_id: 'u1',
      user_domain_id: 'default',
      system_scope: null,
      domain_id: null,
      project_id: 'P1',
      project_domain_id: 'default',
      roles: ['Admin', 'reader'],
      is_admin_project: true,
      service_user_id: null,
      service_user_domain_id: null,
      service_project_id: null,
      service_project_domain_id: null,
      service_roles: [],
      project_name: 'p1',
      is_public_api: false,
    });
  });

  test("system token: system_scope 'all'; elevated service access adds config.service_project_name", () => {
    const creds = credentialsOf({ userId: 'u', system: true, roles: ['reader'], isAdminProject: false }, cfgOf({ rbacServiceRoleElevatedAccess: true, rbacServiceProjectName: 'svc' }));
    assert.equal(creds.system_scope, 'all');
    assert.equal(creds.project_id, null);
    assert.equal(creds.is_admin_project, false);
    assert.equal(creds['config.service_project_name'], 'svc');
    assert.equal('config.service_project_name' in credentialsOf({ userId: 'u', system: true, roles: [] }, BASE), false);
    assert.equal('system' in creds, false, "oslo adds `system` inside enforce(), not to Ironic's target");
  });
});
