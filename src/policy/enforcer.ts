/**
 * An oslo.policy-compatible enforcer loaded with Ironic 21.4's default rules:
 * the proxy calls its sites with admin credentials, so it decides, before
 * anything reaches a site, what Ironic would decide for the caller.
 *
 * What is reproduced (oslo.policy 4.0 `policy.py`, Ironic 21.4; checked
 * against the real libraries by test/contract/policy-oslo.test.ts):
 *  - the effective rule of a name (`Enforcer.load_rules`): an operator's
 *    policy file entry replaces the default exactly; otherwise a rule with a
 *    deprecated rule is `(new or deprecated)` unless `enforce_new_defaults`
 *    (and only when the two check strings differ), except that an override of
 *    the deprecated rule's *name* — when it differs from the new name, the new
 *    name is not overridden itself and the override is not just `rule:NEW` —
 *    becomes the new rule (`_handle_deprecated_rule`);
 *  - `rule:NAME` resolves in the same table; an unknown NAME falls back to the
 *    table's rule named `default` ([oslo_policy]policy_default_rule's
 *    default) when a policy file defines one, else it is false;
 *  - `Enforcer.authorize` → `decide`: a rule that Ironic does not register is
 *    a programming error (oslo: PolicyNotRegistered), thrown;
 *  - scope (`_enforce_scope`): the token is system-scoped when
 *    `system_scope` is set, domain-scoped when `domain_id` is, else
 *    project-scoped; with `enforce_scope` a registered rule whose
 *    `scope_types` lack the token's scope is 'invalid-scope' (oslo raises
 *    InvalidScope — which Ironic does not catch, except around `list_all`
 *    where it falls back to `list`: elsewhere the caller gets HTTP 500);
 *    without it the mismatch is ignored (oslo only warns);
 *  - the policy file: `[oslo_policy]policy_file` (relative: next to the
 *    configuration file; `policy.yaml` that is not there falls back to
 *    `policy.json`, as Ironic's default does), then every file of each
 *    `policy_dirs` directory (default `policy.d`) in name order, later
 *    entries replacing earlier ones; YAML 1.1 or JSON; a missing file or
 *    directory is no error, an unreadable or malformed one is, naming it.
 *
 * Divergences (documented, deliberate): relative paths are looked up next to
 * the configuration file only (oslo.config also searches ~/.ironic, ~/,
 * /etc/ironic and /etc); `http:`/`https:` checks are false (oslo POSTs to a
 * remote server); check kinds and `%` formats that are neither Ironic's nor a
 * plain Python literal or dotted name are refused when the file is loaded.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { OsloPolicyConfig } from '../config/types.js';
import {
  evaluate,
  formatCheck,
  parseCheckString,
  parseRuleValue,
  referencedRules,
  unsupportedParts,
  type CheckNode,
} from './check-string.js';
import { ironicDefaults, type PolicyDefault } from './defaults.js';
import { pyTruthy, UNKNOWN } from './python.js';

export { UNKNOWN };
export { PolicyEvaluationError } from './python.js';
export type { PolicyDefault } from './defaults.js';

/**
 * oslo.policy's creds for an Ironic request: oslo.context's to_policy_values
 * plus Ironic's project_name and is_public_api (and config.service_project_name
 * with [DEFAULT]rbac_service_role_elevated_access). null stands for Python's
 * None (a present key, compared as 'None'); an absent key is a missing key.
 */
export interface Credentials {
  user_id?: string;
  project_id?: string | null;
  project_name?: string | null;
  project_domain_id?: string | null;
  user_domain_id?: string | null;
  domain_id?: string | null;
  /** 'all' for a system-scoped token. */
  system_scope?: string | null;
  roles: string[];
  is_public_api?: boolean;
  'config.service_project_name'?: string;
  [k: string]: unknown;
}

/** oslo's target: `%(key)s` values; a key absent (or undefined) is missing, a value may be UNKNOWN. */
export type Target = Record<string, unknown>;

export type Decision = 'allow' | 'deny' | 'invalid-scope' | 'unknown';

/** What the enforcer reads of the configuration ([oslo_policy]). */
export type EnforcerOptions = Pick<OsloPolicyConfig, 'enforceScope' | 'enforceNewDefaults' | 'policyFile' | 'policyDirs' | 'configDir'>;
/** What the credentials read of it ([DEFAULT]rbac_service_*). */
export type CredentialOptions = Pick<OsloPolicyConfig, 'rbacServiceRoleElevatedAccess' | 'rbacServiceProjectName'>;

/** oslo.policy's [oslo_policy]policy_default_rule default: the rule an unknown `rule:NAME` falls back to. */
const DEFAULT_RULE = 'default';
const DEFAULT_POLICY_DIRS = ['policy.d'];

export class PolicyNotRegisteredError extends Error {
  constructor(readonly rule: string) {
    super(`Policy ${rule} has not been registered`);
    this.name = 'PolicyNotRegisteredError';
  }
}

/** A policy file that cannot be used (unreadable, malformed, or with a rule the proxy cannot model). */
export class PolicyFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`policy file ${file}: ${detail}`);
    this.name = 'PolicyFileError';
  }
}

/** An operator's rule: its value as written, and the file it came from. */
export interface FileRule {
  value: unknown;
  file: string;
}

export class PolicyEnforcer {
  private readonly rules = new Map<string, CheckNode>();
  private readonly registered = new Map<string, PolicyDefault>();
  /** Warnings oslo would log (unparseable check strings, references to undefined rules). */
  readonly problems: string[] = [];

  private constructor(
    private readonly enforceScope: boolean,
    enforceNewDefaults: boolean,
    defaults: readonly PolicyDefault[],
    fileRules: ReadonlyMap<string, FileRule>,
    /** The policy files read, in the order they were applied. */
    readonly sources: readonly string[],
  ) {
    const fileChecks = new Map<string, CheckNode>();
    for (const [name, { value, file }] of fileRules) {
      let parsed;
      try {
        parsed = parseRuleValue(value);
      } catch (err) {
        throw new PolicyFileError(file, `rule "${name}": ${(err as Error).message}`);
      }
      const unsupported = unsupportedParts(parsed.check);
      if (unsupported.length > 0) {
        throw new PolicyFileError(file, `rule "${name}": not supported by ironic-proxy: ${unsupported.join('; ')}`);
      }
      if (parsed.problem) this.problems.push(`${file}: rule "${name}" is false as a whole: ${parsed.problem}`);
      fileChecks.set(name, parsed.check);
      this.rules.set(name, parsed.check);
    }

    for (const d of defaults) {
      if (this.registered.has(d.name)) throw new Error(`policy rule ${d.name} is registered twice`);
      this.registered.set(d.name, d);
      if (this.rules.has(d.name)) continue;
      const check = parseDefault(d.name, d.check_str);
      this.rules.set(d.name, d.deprecated ? this.withDeprecated(d, check, fileChecks, enforceNewDefaults) : check);
    }

    for (const [name, check] of this.rules) {
      const undefinedRefs = referencedRules(check).filter((r) => !this.rules.has(r));
      if (undefinedRefs.length > 0) this.problems.push(`rule "${name}" refers to undefined rule(s) ${undefinedRefs.join(', ')}`);
    }
  }

  /**
   * Ironic 21.4's defaults with the operator's policy file (and policy.d) over
   * them; relative paths are looked up in configDir (else cfg.configDir, which
   * loadConfigFile sets, else the working directory).
   */
  static load(cfg: EnforcerOptions, configDir?: string): PolicyEnforcer {
    const base = configDir ?? cfg.configDir ?? process.cwd();
    const { rules, sources } = readPolicyFiles(cfg, base);
    return new PolicyEnforcer(cfg.enforceScope, cfg.enforceNewDefaults, ironicDefaults(), rules, sources);
  }

  /** The same without files: `overrides` stands for a policy file's parsed content (tests, tools). */
  static fromRules(
    cfg: Pick<OsloPolicyConfig, 'enforceScope' | 'enforceNewDefaults'>,
    overrides: Record<string, unknown> = {},
    defaults: readonly PolicyDefault[] = ironicDefaults(),
  ): PolicyEnforcer {
    const rules = new Map(Object.entries(overrides).map(([k, value]) => [k, { value, file: '<overrides>' }]));
    return new PolicyEnforcer(cfg.enforceScope, cfg.enforceNewDefaults, defaults, rules, []);
  }

  /**
   * oslo's `Enforcer.authorize(rule, target, creds, do_raise=True)` as Ironic
   * calls it: 'allow', 'deny', 'invalid-scope' (InvalidScope, with
   * enforce_scope), or 'unknown' when the outcome depends on a target value
   * that is UNKNOWN. Throws PolicyNotRegisteredError for a rule Ironic does not
   * register, and PolicyEvaluationError where oslo would raise (Ironic: 500).
   */
  decide(rule: string, creds: Credentials, target: Target = {}): Decision {
    if (!this.registered.has(rule)) throw new PolicyNotRegisteredError(rule);
    return this.enforce(rule, creds, target);
  }

  /**
   * oslo's `Enforcer.enforce`: like decide, but any name of the table (a
   * policy file's own helper rules too) may be asked; an unknown name is the
   * `default` rule if there is one, else 'deny'.
   */
  enforce(rule: string, creds: Credentials, target: Target = {}): Decision {
    const c: Record<string, unknown> = { ...creds };
    // oslo.policy copies oslo.context's system_scope into the creds' `system`.
    if (pyTruthy(c.system_scope)) c.system = c.system_scope;
    const registered = this.registered.get(rule);
    if (this.enforceScope && registered?.scope_types && registered.scope_types.length > 0) {
      const scope = pyTruthy(c.system) ? 'system' : pyTruthy(c.domain_id) ? 'domain' : 'project';
      if (!registered.scope_types.includes(scope)) return 'invalid-scope';
    }
    const check = this.resolve(rule);
    if (!check) return 'deny';
    const r = evaluate(check, { target, creds: c, resolve: (name) => this.resolve(name) });
    return r === 'unknown' ? 'unknown' : r ? 'allow' : 'deny';
  }

  /**
   * oslo's `enforce()` of a check tree rather than a rule name: the check
   * string (in the policy language) evaluated against this table, no scope.
   */
  evaluateCheckString(checkStr: string, creds: Credentials, target: Target = {}): Exclude<Decision, 'invalid-scope'> {
    const c: Record<string, unknown> = { ...creds };
    if (pyTruthy(c.system_scope)) c.system = c.system_scope;
    const r = evaluate(parseCheckString(checkStr).check, { target, creds: c, resolve: (name) => this.resolve(name) });
    return r === 'unknown' ? 'unknown' : r ? 'allow' : 'deny';
  }

  /** Whether Ironic registers the rule (what decide accepts). */
  has(rule: string): boolean {
    return this.registered.has(rule);
  }

  /** Ironic's rules, in registration order. */
  ruleNames(): string[] {
    return [...this.registered.keys()];
  }

  /** The effective rule of a name of the table, as oslo prints it (`str(check)`). */
  checkString(rule: string): string {
    const check = this.rules.get(rule);
    if (!check) throw new PolicyNotRegisteredError(rule);
    return formatCheck(check);
  }

  /** The registered default of a rule (scope types, deprecated rule). */
  defaultOf(rule: string): PolicyDefault | undefined {
    return this.registered.get(rule);
  }

  private resolve(name: string): CheckNode | undefined {
    return this.rules.get(name) ?? this.rules.get(DEFAULT_RULE);
  }

  /** oslo's `_handle_deprecated_rule`, for a rule the policy file does not name. */
  private withDeprecated(d: PolicyDefault, check: CheckNode, fileChecks: ReadonlyMap<string, CheckNode>, enforceNewDefaults: boolean): CheckNode {
    const dep = d.deprecated!;
    const overriddenOld = dep.name !== d.name ? fileChecks.get(dep.name) : undefined;
    // (oslo compares the override with the deprecated check object by identity: always different.)
    if (overriddenOld && formatCheck(overriddenOld) !== `rule:${d.name}` && !fileChecks.has(d.name)) {
      return overriddenOld;
    }
    if (!enforceNewDefaults && dep.check_str !== d.check_str && !fileChecks.has(d.name)) {
      return { type: 'or', rules: [check, parseDefault(dep.name, dep.check_str)] };
    }
    return check;
  }
}

function parseDefault(name: string, checkStr: string): CheckNode {
  const parsed = parseCheckString(checkStr);
  const unsupported = unsupportedParts(parsed.check);
  if (parsed.problem || unsupported.length > 0) {
    throw new Error(`default policy rule ${name} ("${checkStr}") cannot be used: ${parsed.problem ?? unsupported.join('; ')}`);
  }
  return parsed.check;
}

/**
 * The operator's rules (`load_rules`): the policy file, then each policy_dirs
 * directory's files (names in order, dot files skipped), later ones winning.
 */
function readPolicyFiles(cfg: EnforcerOptions, base: string): { rules: Map<string, FileRule>; sources: string[] } {
  const rules = new Map<string, FileRule>();
  const sources: string[] = [];
  const find = (p: string): string | undefined => {
    const full = isAbsolute(p) ? p : resolve(base, p);
    return exists(full) ? full : undefined;
  };
  const apply = (file: string): void => {
    for (const [name, value] of Object.entries(readPolicyFile(file))) rules.set(name, { value, file });
    sources.push(file);
  };

  // Ironic sets policy_file's default to policy.yaml; oslo then falls back to an old policy.json.
  const policyFile = find(cfg.policyFile) ?? (cfg.policyFile === 'policy.yaml' ? find('policy.json') : undefined);
  if (policyFile) apply(policyFile);

  for (const dir of cfg.policyDirs ?? DEFAULT_POLICY_DIRS) {
    const path = find(dir);
    if (!path) continue;
    let names: string[];
    try {
      if (!statSync(path).isDirectory()) throw new Error('not a directory');
      names = readdirSync(path, { withFileTypes: true })
        .filter((e) => !e.name.startsWith('.') && !isDirectoryEntry(path, e.name, e.isDirectory(), e.isSymbolicLink()))
        .map((e) => e.name)
        .sort(compareCodePoints);
    } catch (err) {
      throw new PolicyFileError(path, `policy_dirs entry: ${(err as Error).message}`);
    }
    for (const name of names) apply(join(path, name));
  }
  return { rules, sources };
}

/** What os.walk counts as a sub-directory (symbolic links to directories included). */
function isDirectoryEntry(dir: string, name: string, isDir: boolean, isLink: boolean): boolean {
  if (isDir) return true;
  if (!isLink) return false;
  try {
    return statSync(join(dir, name)).isDirectory();
  } catch {
    return false;
  }
}

function compareCodePoints(a: string, b: string): number {
  const ca = [...a].map((c) => c.codePointAt(0)!);
  const cb = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) if (ca[i] !== cb[i]) return ca[i]! - cb[i]!;
  return ca.length - cb.length;
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** oslo's parse_file_contents: JSON, else YAML (1.1, as PyYAML); empty is {}; the rest must be a mapping. */
export function parsePolicyText(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const doc = parseDocument(text, { version: '1.1', uniqueKeys: false, prettyErrors: false, logLevel: 'silent' });
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) throw new Error(`not valid YAML or JSON: ${problem.message.split('\n')[0]}`);
    parsed = doc.toJS({ maxAliasCount: 1000 });
  }
  if (!pyTruthy(parsed)) return {};
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.getPrototypeOf(parsed) !== Object.prototype) {
    throw new Error('not a mapping of rule names to check strings');
  }
  return parsed as Record<string, unknown>;
}

function readPolicyFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyFileError(file, `cannot read: ${(err as Error).message}`);
  }
  try {
    return parsePolicyText(text);
  } catch (err) {
    throw new PolicyFileError(file, (err as Error).message);
  }
}

/**
 * The creds Ironic 21.4 gives oslo.policy for a Keystone-authenticated
 * request: oslo.context's to_policy_values (what keystonemiddleware's headers
 * carry; no service token: service_* are None) plus Ironic's project_name,
 * is_public_api and, with [DEFAULT]rbac_service_role_elevated_access,
 * 'config.service_project_name'. Roles are kept as Keystone names them
 * (oslo.context does not change their case; `role:` checks ignore it).
 */
export function credentialsOf(
  user: {
    userId: string;
    projectId?: string;
    projectName?: string;
    projectDomainId?: string;
    userDomainId?: string;
    domainId?: string;
    system: boolean;
    roles: string[];
    /** The token's is_admin_project (true when Keystone does not say, as oslo.context assumes). */
    isAdminProject?: boolean;
    /** A route Ironic serves without authentication (the agent's lookup and heartbeat). */
    isPublicApi?: boolean;
  },
  cfg: CredentialOptions,
): Credentials {
  const creds: Credentials = {
    user_id: user.userId,
    user_domain_id: user.userDomainId ?? null,
    system_scope: user.system ? 'all' : null,
    domain_id: user.domainId ?? null,
    project_id: user.projectId ?? null,
    project_domain_id: user.projectDomainId ?? null,
    roles: [...user.roles],
    is_admin_project: user.isAdminProject ?? true,
    service_user_id: null,
    service_user_domain_id: null,
    service_project_id: null,
    service_project_domain_id: null,
    service_roles: [],
    project_name: user.projectName ?? null,
    is_public_api: user.isPublicApi ?? false,
  };
  if (cfg.rbacServiceRoleElevatedAccess && cfg.rbacServiceProjectName !== null) {
    creds['config.service_project_name'] = cfg.rbacServiceProjectName;
  }
  return creds;
}

/** The target Ironic builds (`dict(cdict)` plus the object's fields, e.g. 'node.owner'). */
export function targetOf(creds: Credentials, fields: Target = {}): Target {
  return { ...creds, ...fields };
}
