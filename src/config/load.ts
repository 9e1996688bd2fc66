/**
 * Turns an oslo-style INI document into a validated ProxyConfig. Every problem
 * is reported with the `[section]key` it comes from, all at once, and nothing
 * starts on a configuration with a single error.
 */
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseOsloIni, IniSyntaxError, type IniDocument } from './oslo-ini.js';
import type { AuthType, CoordinationConfig, KeystoneAuthtokenConfig, KeystoneSiteAuth, OsloPolicyConfig, ProxyConfig, SiteConfig, AuthStrategy } from './types.js';

/** A worker count as `--workers` and `[api]api_workers` take it: a positive integer, or `auto` (one per core). */
export function parseWorkers(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'auto') return availableParallelism();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n >= 1 && Number.isSafeInteger(n) ? n : undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? `invalid configuration: ${problems[0]}`
        : `invalid configuration:\n  - ${problems.join('\n  - ')}`,
    );
  }
}

const SITE_SECTION = /^group:(.+)$/;
const GROUP_NAME = /^[a-z0-9_.-]*$/;
const AUTH_TYPES: readonly AuthType[] = ['none', 'http_basic', 'password', 'v3password', 'token', 'v3token'];
/** keystoneauth accepts these spellings too. */
const AUTH_TYPE_ALIASES: Record<string, AuthType> = { noauth: 'none', v3token: 'v3token' };

const KNOWN_OPTIONS: Record<string, readonly string[]> = {
  DEFAULT: [
    'groups', 'debug', 'auth_strategy', 'host', 'log_file', 'use_stderr',
    'rbac_service_role_elevated_access', 'rbac_service_project_name', 'policy_file', 'policy_dirs',
  ],
  oslo_policy: ['enforce_scope', 'enforce_new_defaults', 'policy_file', 'policy_dirs'],
  api: ['auth_strategy', 'host_ip', 'port', 'public_endpoint', 'max_limit', 'api_workers', 'enable_ssl_api', 'project_admin_can_manage_own_nodes'],
  ssl: ['cert_file', 'key_file'],
  oslo_middleware: ['enable_proxy_headers_parsing'],
  keystone_authtoken: [
    'auth_type', 'auth_plugin', 'auth_url', 'www_authenticate_uri', 'auth_uri', 'username', 'password', 'user_id',
    'user_domain_id', 'user_domain_name', 'project_id', 'project_name', 'project_domain_id', 'project_domain_name',
    'system_scope', 'region_name', 'interface', 'service_type', 'token_cache_time', 'insecure', 'cafile',
    'certfile', 'keyfile', 'memcached_servers', 'service_token_roles_required', 'delay_auth_decision',
  ],
  proxy: [
    'site_timeout', 'strict_listing', 'location_cache_size', 'version_refresh_interval', 'site_connections',
    'site_max_queue', 'circuit_failure_threshold', 'circuit_open_seconds', 'client_header_timeout',
    'client_request_timeout', 'client_idle_timeout', 'keystone_timeout', 'memory_budget', 'cursor_secret',
    'scan_timeout', 'scan_max_pages',
  ],
  status: [
    'probe_interval', 'refresh_interval', 'idle_timeout', 'slow_threshold', 'tally_interval', 'tally_max_pages', 'tally_timeout',
    'tally_concurrency', 'drift_check_interval',
  ],
  coordination: [
    'backend_url', 'required', 'reservation_ttl', 'location_ttl', 'timeout', 'key_prefix', 'share_site_tokens',
    'cafile', 'certfile', 'keyfile', 'insecure',
  ],
  site: [
    'auth_type', 'auth_plugin', 'endpoint_override', 'timeout', 'insecure', 'cafile', 'certfile', 'keyfile',
    'username', 'password', 'user_id', 'user_domain_id', 'user_domain_name', 'project_id', 'project_name',
    'project_domain_id', 'project_domain_name', 'domain_id', 'domain_name', 'system_scope', 'token',
    'auth_url', 'region_name', 'interface', 'valid_interfaces', 'service_type', 'version',
    'max_version', 'min_version', 'connect_retries', 'status_code_retries',
  ],
};

export function loadConfigFile(path: string): ProxyConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read config file ${path}: ${(err as Error).message}`]);
  }
  const config = loadConfigText(text);
  // oslo.config looks a relative policy_file up next to the configuration file.
  config.osloPolicy.configDir = dirname(resolve(path));
  config.sourceFile = resolve(path);
  return config;
}

export function loadConfigText(text: string): ProxyConfig {
  let doc: IniDocument;
  try {
    doc = parseOsloIni(text);
  } catch (err) {
    if (err instanceof IniSyntaxError) throw new ConfigError([err.message]);
    throw err;
  }
  return new ConfigReader(doc).read();
}

class ConfigReader {
  private readonly problems: string[] = [];
  private readonly unknown: string[] = [];

  constructor(private readonly doc: IniDocument) {}

  read(): ProxyConfig {
    const siteSections = this.doc.sections.filter((s) => SITE_SECTION.test(s));
    const siteNames = siteSections.map((s) => SITE_SECTION.exec(s)![1]!.trim());
    this.reportUnknownOptions(siteSections);

    const groups = this.readGroups(new Set(siteNames));
    const sites = siteSections.map((section, ordinal) =>
      this.readSite(section, siteNames[ordinal]!, ordinal, groups),
    );
    if (siteSections.length === 0) this.problems.push('no [group:SITE] section: at least one site is required');

    const api = this.readApi();
    const proxy = {
      strictListing: this.bool('proxy', 'strict_listing', false),
      locationCacheSize: this.int('proxy', 'location_cache_size', 100_000, 1),
      versionRefreshSeconds: this.number('proxy', 'version_refresh_interval', 60, 1),
      siteConnections: this.int('proxy', 'site_connections', 32, 1),
      siteMaxQueue: this.int('proxy', 'site_max_queue', 1000, 0),
      circuitFailureThreshold: this.int('proxy', 'circuit_failure_threshold', 3, 1),
      circuitOpenSeconds: this.number('proxy', 'circuit_open_seconds', 5, 0),
      clientHeaderTimeout: this.number('proxy', 'client_header_timeout', 20, 0.1),
      clientRequestTimeout: this.number('proxy', 'client_request_timeout', 120, 0.1),
      clientIdleTimeout: this.number('proxy', 'client_idle_timeout', 60, 0.1),
      keystoneTimeoutSeconds: this.number('proxy', 'keystone_timeout', 10, 0.1),
      memoryBudgetBytes: this.int('proxy', 'memory_budget', 512, 16) * 1024 * 1024,
      cursorSecret: this.str('proxy', 'cursor_secret')?.trim() || undefined,
      scanTimeoutSeconds: this.number('proxy', 'scan_timeout', 60, 0.1),
      scanMaxPages: this.int('proxy', 'scan_max_pages', 1000, 1),
    };
    const status = {
      probeIntervalSeconds: this.number('status', 'probe_interval', 10, 0.1),
      refreshIntervalSeconds: this.number('status', 'refresh_interval', 5, 0.5),
      idleTimeoutSeconds: this.number('status', 'idle_timeout', 300, 1),
      slowThresholdSeconds: this.number('status', 'slow_threshold', 1, 0.001),
      tallyIntervalSeconds: this.number('status', 'tally_interval', 120, 0.1),
      tallyMaxPages: this.int('status', 'tally_max_pages', 50, 1),
      tallyTimeoutSeconds: this.number('status', 'tally_timeout', 60, 0.1),
      tallyConcurrency: this.int('status', 'tally_concurrency', 4, 1),
      driftCheckIntervalSeconds: this.number('status', 'drift_check_interval', 600, 0),
    };
    const debug = this.bool('DEFAULT', 'debug', false);
    const keystoneAuthtoken = api.authStrategy === 'keystone' ? this.readAuthtoken() : undefined;

    const osloPolicy = this.readOsloPolicy();
    const coordination = this.readCoordination();

    if (this.problems.length > 0) throw new ConfigError(this.problems);
    return { sites, groups, api, proxy, status, keystoneAuthtoken, osloPolicy, coordination, debug, unknownOptions: this.unknown };
  }

  /** `[DEFAULT]groups = _:loc1,grp1:loc2`: conductor group → site; `_` is the default (empty) group. */
  private readGroups(siteNames: Set<string>): Map<string, string> {
    const groups = new Map<string, string>();
    const raw = this.str('DEFAULT', 'groups');
    if (raw === undefined) {
      this.problems.push('[DEFAULT]groups is required (e.g. "groups = _:site1,grp1:site2")');
      return groups;
    }
    for (const entry of raw.split(/[,\n]/).map((e) => e.trim()).filter(Boolean)) {
      const sep = entry.lastIndexOf(':');
      if (sep <= 0 || sep === entry.length - 1) {
        this.problems.push(`[DEFAULT]groups: entry "${entry}" is not GROUP:SITE`);
        continue;
      }
      const groupText = entry.slice(0, sep).trim();
      const site = entry.slice(sep + 1).trim();
      // Ironic stores conductor groups in lower case and matches them that way.
      const group = groupText === '_' ? '' : groupText.toLowerCase();
      if (!GROUP_NAME.test(group)) {
        this.problems.push(`[DEFAULT]groups: "${groupText}" is not a valid conductor group name`);
        continue;
      }
      if (groups.has(group)) {
        this.problems.push(`[DEFAULT]groups: conductor group "${groupText}" is mapped twice`);
        continue;
      }
      if (!siteNames.has(site)) {
        this.problems.push(`[DEFAULT]groups: site "${site}" (for group "${groupText}") has no [group:${site}] section`);
        continue;
      }
      groups.set(group, site);
    }
    return groups;
  }

  private readSite(section: string, name: string, ordinal: number, groups: Map<string, string>): SiteConfig {
    const where = `[${section}]`;
    const authRaw = (this.str(section, 'auth_type') ?? this.str(section, 'auth_plugin') ?? 'none').toLowerCase();
    const authType = AUTH_TYPE_ALIASES[authRaw] ?? (AUTH_TYPES.find((t) => t === authRaw) as AuthType | undefined);
    if (!authType) {
      this.problems.push(`${where}auth_type: "${authRaw}" is not one of ${AUTH_TYPES.join(', ')}`);
    }
    const endpointOverride = this.url(section, 'endpoint_override');
    // An invalid URL was already reported; "required" would only repeat it.
    const endpointMissing = this.str(section, 'endpoint_override') === undefined;
    const site: SiteConfig = {
      name,
      ordinal,
      conductorGroups: [...groups].filter(([, s]) => s === name).map(([g]) => g),
      authType: authType ?? 'none',
      endpointOverride,
      timeoutSeconds: this.number(section, 'timeout', this.number('proxy', 'site_timeout', 30, 0.001), 0.001),
      insecure: this.bool(section, 'insecure', false),
      cafile: this.str(section, 'cafile'),
      certfile: this.str(section, 'certfile'),
      keyfile: this.str(section, 'keyfile'),
    };
    if (site.certfile && !site.keyfile) this.problems.push(`${where}keyfile is required with certfile`);

    switch (site.authType) {
      case 'none':
        if (endpointMissing) this.requireMissing(where, 'endpoint_override', 'with auth_type = none');
        break;
      case 'http_basic':
        if (endpointMissing) this.requireMissing(where, 'endpoint_override', 'with auth_type = http_basic');
        site.username = this.str(section, 'username');
        site.password = this.str(section, 'password');
        if (site.username === undefined) this.requireMissing(where, 'username', 'with auth_type = http_basic');
        if (site.password === undefined) this.requireMissing(where, 'password', 'with auth_type = http_basic');
        break;
      default:
        site.keystone = this.readKeystone(section, site.authType);
    }
    return site;
  }

  private readAuthtoken(): KeystoneAuthtokenConfig {
    const section = 'keystone_authtoken';
    if (!this.doc.sections.includes(section)) {
      this.problems.push('[keystone_authtoken] is required with [api]auth_strategy = keystone');
    }
    const credentials = this.readKeystone(section, 'password');
    return {
      credentials,
      wwwAuthenticateUri: this.url(section, 'www_authenticate_uri') ?? credentials.authUrl,
      tokenCacheTime: this.number(section, 'token_cache_time', 300, 0),
      insecure: this.bool(section, 'insecure', false),
      cafile: this.str(section, 'cafile'),
      certfile: this.str(section, 'certfile'),
      keyfile: this.str(section, 'keyfile'),
    };
  }

  /**
   * oslo.policy 4.0's [oslo_policy] options (policy_file and policy_dirs also
   * under [DEFAULT], their deprecated group) with Ironic 21.4's policy_file
   * default, and Ironic's [DEFAULT]rbac_service_* options.
   */
  private readOsloPolicy(): OsloPolicyConfig {
    const section = 'oslo_policy';
    const pick = (key: string): [string, string] =>
      this.str(section, key) === undefined && this.str('DEFAULT', key) !== undefined ? ['DEFAULT', key] : [section, key];
    const [fileSection, fileKey] = pick('policy_file');
    const policyFile = this.str(fileSection, fileKey) ?? 'policy.yaml';
    if (policyFile.trim() === '') this.problems.push(`[${fileSection}]${fileKey} is empty (leave it out for policy.yaml)`);
    const [dirsSection, dirsKey] = pick('policy_dirs');
    return {
      enforceScope: this.bool(section, 'enforce_scope', false),
      enforceNewDefaults: this.bool(section, 'enforce_new_defaults', false),
      policyFile,
      // oslo repeats the option for several directories; this INI reader keeps one line, so: comma-separated.
      policyDirs: this.list(dirsSection, dirsKey, ['policy.d']),
      rbacServiceRoleElevatedAccess: this.bool('DEFAULT', 'rbac_service_role_elevated_access', false),
      rbacServiceProjectName: this.str('DEFAULT', 'rbac_service_project_name') ?? 'service',
      projectAdminCanManageOwnNodes: this.bool('api', 'project_admin_can_manage_own_nodes', true),
    };
  }

  private list(section: string, key: string, dflt: string[]): string[] {
    const v = this.str(section, key);
    return v === undefined ? dflt : v.split(',').map((x) => x.trim()).filter(Boolean);
  }

  private readKeystone(section: string, authType: AuthType): KeystoneSiteAuth {
    const where = `[${section}]`;
    const k: KeystoneSiteAuth = {
      authUrl: this.url(section, 'auth_url') ?? '',
      username: this.str(section, 'username'),
      userId: this.str(section, 'user_id'),
      password: this.str(section, 'password'),
      token: this.str(section, 'token'),
      userDomainId: this.str(section, 'user_domain_id'),
      userDomainName: this.str(section, 'user_domain_name'),
      projectId: this.str(section, 'project_id'),
      projectName: this.str(section, 'project_name'),
      projectDomainId: this.str(section, 'project_domain_id'),
      projectDomainName: this.str(section, 'project_domain_name'),
      domainId: this.str(section, 'domain_id'),
      domainName: this.str(section, 'domain_name'),
      systemScope: this.str(section, 'system_scope'),
      regionName: this.str(section, 'region_name'),
      interface: (this.str(section, 'interface') ?? this.str(section, 'valid_interfaces') ?? 'public')
        .split(',')[0]!
        .trim()
        .replace(/URL$/, ''),
      serviceType: this.str(section, 'service_type') ?? 'baremetal',
    };
    if (!k.authUrl && this.str(section, 'auth_url') === undefined) {
      this.requireMissing(where, 'auth_url', `with auth_type = ${authType}`);
    }
    if (!['public', 'internal', 'admin'].includes(k.interface)) {
      this.problems.push(`${where}interface: "${k.interface}" is not one of public, internal, admin`);
    }
    if (authType === 'token' || authType === 'v3token') {
      if (!k.token) this.requireMissing(where, 'token', `with auth_type = ${authType}`);
    } else {
      if (!k.username && !k.userId) this.requireMissing(where, 'username (or user_id)', `with auth_type = ${authType}`);
      if (k.password === undefined) this.requireMissing(where, 'password', `with auth_type = ${authType}`);
      if (k.username && !k.userId && !k.userDomainId && !k.userDomainName) {
        this.requireMissing(where, 'user_domain_id (or user_domain_name)', 'with username');
      }
    }
    if (k.projectName && !k.projectId && !k.projectDomainId && !k.projectDomainName) {
      this.requireMissing(where, 'project_domain_id (or project_domain_name)', 'with project_name');
    }
    // keystoneauth refuses a token scoped to several targets; so does the proxy, at start-up.
    const scopes = [
      k.projectId || k.projectName ? 'project' : '',
      k.domainId || k.domainName ? 'domain' : '',
      k.systemScope ? 'system' : '',
    ].filter(Boolean);
    if (scopes.length > 1) {
      this.problems.push(`${where}: a token is scoped to one target only, not ${scopes.join(' and ')} (pick one)`);
    }
    if (k.systemScope !== undefined && k.systemScope !== 'all') {
      this.problems.push(`${where}system_scope: "${k.systemScope}" is not "all"`);
    }
    return k;
  }

  private readApi(): ProxyConfig['api'] {
    const strategyRaw = (this.str('api', 'auth_strategy') ?? this.str('DEFAULT', 'auth_strategy') ?? 'noauth').toLowerCase();
    let authStrategy: AuthStrategy = 'noauth';
    if (strategyRaw === 'keystone') authStrategy = 'keystone';
    else if (strategyRaw !== 'noauth' && strategyRaw !== 'none') {
      this.problems.push(`[api]auth_strategy: "${strategyRaw}" is not one of keystone, noauth`);
    }
    const publicEndpoint = this.url('api', 'public_endpoint');
    const enableSsl = this.bool('api', 'enable_ssl_api', false);
    let tls: ProxyConfig['api']['tls'];
    if (enableSsl) {
      const certFile = this.str('ssl', 'cert_file');
      const keyFile = this.str('ssl', 'key_file');
      if (!certFile) this.requireMissing('[ssl]', 'cert_file', 'with [api]enable_ssl_api = true');
      if (!keyFile) this.requireMissing('[ssl]', 'key_file', 'with [api]enable_ssl_api = true');
      if (certFile && keyFile) tls = { certFile, keyFile };
    }
    return {
      hostIp: this.str('api', 'host_ip') ?? '127.0.0.1',
      port: this.int('api', 'port', 6385, 0, 65535),
      publicEndpoint: publicEndpoint?.replace(/\/+$/, ''),
      authStrategy,
      maxLimit: this.int('api', 'max_limit', 1000, 1),
      workers: this.workers(),
      enableProxyHeadersParsing: this.bool('oslo_middleware', 'enable_proxy_headers_parsing', false),
      tls,
    };
  }

  /** `[api]api_workers`: a count or `auto`; unset is `auto`, one per core (Ironic's default is the CPU count too). */
  private workers(): number {
    const v = this.str('api', 'api_workers');
    if (v === undefined) return availableParallelism();
    const n = parseWorkers(v);
    if (n === undefined) this.problems.push(`[api]api_workers: "${v}" is not a positive integer or auto`);
    return n ?? 1;
  }

  private reportUnknownOptions(siteSections: string[]): void {
    for (const section of this.doc.sections) {
      const known = siteSections.includes(section) ? KNOWN_OPTIONS.site : KNOWN_OPTIONS[section];
      if (!known) {
        this.unknown.push(`[${section}]`);
        continue;
      }
      for (const key of this.doc.keys(section)) {
        if (!known.includes(key)) this.unknown.push(`[${section}]${key}`);
      }
    }
  }

  private requireMissing(where: string, key: string, why: string): void {
    this.problems.push(`${where}${key} is required ${why}`);
  }

  /** `[coordination]`: absent or empty backend_url means no shared store. */
  private readCoordination(): CoordinationConfig | undefined {
    const section = 'coordination';
    const raw = this.str(section, 'backend_url')?.trim();
    if (!raw) return undefined;
    let scheme = '';
    try {
      scheme = new URL(raw).protocol;
    } catch {
      // The value holds a password: the problem names the option, not the value.
    }
    if (scheme !== 'redis:' && scheme !== 'rediss:') {
      this.problems.push(`[${section}]backend_url: not a redis:// or rediss:// URL (the only backends this proxy supports)`);
    }
    return {
      backendUrl: raw,
      required: this.bool(section, 'required', true),
      reservationTtlMs: Math.round(this.number(section, 'reservation_ttl', 10, 0.1) * 1000),
      locationTtlSeconds: this.int(section, 'location_ttl', 86_400, 1),
      timeoutMs: Math.round(this.number(section, 'timeout', 0.5, 0.01) * 1000),
      keyPrefix: this.str(section, 'key_prefix')?.trim() || 'ironic-proxy',
      shareSiteTokens: this.bool(section, 'share_site_tokens', false),
      cafile: this.str(section, 'cafile'),
      certfile: this.str(section, 'certfile'),
      keyfile: this.str(section, 'keyfile'),
      insecure: this.bool(section, 'insecure', false),
    };
  }

  private str(section: string, key: string): string | undefined {
    return this.doc.get(section, key)?.value;
  }

  private url(section: string, key: string): string | undefined {
    const v = this.str(section, key);
    if (v === undefined) return undefined;
    try {
      const u = new URL(v);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      if (u.search || u.hash) throw new Error('query');
      return v;
    } catch {
      this.problems.push(`[${section}]${key}: "${v}" is not a valid http(s) URL`);
      return undefined;
    }
  }

  private bool(section: string, key: string, dflt: boolean): boolean {
    const v = this.str(section, key);
    if (v === undefined) return dflt;
    const t = v.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on', 't', 'y'].includes(t)) return true;
    if (['0', 'false', 'no', 'off', 'f', 'n'].includes(t)) return false;
    this.problems.push(`[${section}]${key}: "${v}" is not a boolean`);
    return dflt;
  }

  private number(section: string, key: string, dflt: number, min: number): number {
    const v = this.str(section, key);
    if (v === undefined) return dflt;
    const n = Number(v.trim());
    if (v.trim() === '' || !Number.isFinite(n) || n < min) {
      this.problems.push(`[${section}]${key}: "${v}" is not a number >= ${min}`);
      return dflt;
    }
    return n;
  }

  private int(section: string, key: string, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.str(section, key);
    if (v === undefined) return dflt;
    const n = Number(v.trim());
    if (!/^\s*-?\d+\s*$/.test(v) || n < min || n > max) {
      this.problems.push(`[${section}]${key}: "${v}" is not an integer in [${min}, ${max}]`);
      return dflt;
    }
    return n;
  }
}
