/** The proxy's configuration once read and validated: everything downstream trusts it. */

export type AuthType = 'none' | 'http_basic' | 'password' | 'v3password' | 'token' | 'v3token';

export interface SiteConfig {
  /** Name from the `[group:NAME]` section; also what the `groups` option points at. */
  name: string;
  /** Position in the configuration file: the fixed order of sites in merged listings. */
  ordinal: number;
  /** Conductor groups (lower case, `''` is the default group) whose nodes live here. */
  conductorGroups: string[];
  authType: AuthType;
  /** Base URL of the site's Bare Metal API, when not discovered from a Keystone catalog. */
  endpointOverride?: string;
  /** Seconds a request to this site may take before it counts as timed out. */
  timeoutSeconds: number;
  insecure: boolean;
  cafile?: string;
  certfile?: string;
  keyfile?: string;
  /** http_basic */
  username?: string;
  password?: string;
  /** Keystone (password / v3password / token) */
  keystone?: KeystoneSiteAuth;
}

export interface KeystoneSiteAuth {
  authUrl: string;
  username?: string;
  userId?: string;
  password?: string;
  token?: string;
  userDomainId?: string;
  userDomainName?: string;
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  projectDomainName?: string;
  domainId?: string;
  domainName?: string;
  systemScope?: string;
  regionName?: string;
  interface: string;
  serviceType: string;
}

export type AuthStrategy = 'noauth' | 'keystone';

export interface ApiConfig {
  hostIp: string;
  port: number;
  publicEndpoint?: string;
  authStrategy: AuthStrategy;
  /** Largest page a listing returns (Ironic's `[api]max_limit`). */
  maxLimit: number;
  workers: number;
  enableProxyHeadersParsing: boolean;
  tls?: { certFile: string; keyFile: string };
}

export interface ProxyOptions {
  /** Answer 503 instead of a partial listing when a site does not answer. */
  strictListing: boolean;
  /** Entries of the node → site location cache. */
  locationCacheSize: number;
  /** Seconds between background refreshes of the sites' version ranges. */
  versionRefreshSeconds: number;
  /** Requests under way to one site at a time (also its keep-alive connections). */
  siteConnections: number;
  /** Requests that may wait for one site beyond those; past that, 503 at once. */
  siteMaxQueue: number;
  /** Consecutive transport failures that open a site's circuit. */
  circuitFailureThreshold: number;
  /** Seconds an open circuit fails fast before letting one probe through. */
  circuitOpenSeconds: number;
  /** Seconds a client has to send its request headers (slowloris guard). */
  clientHeaderTimeout: number;
  /** Seconds a whole client request (body included) may take to arrive. */
  clientRequestTimeout: number;
  /** Seconds an idle keep-alive client connection stays open. */
  clientIdleTimeout: number;
  /** Seconds a request to Keystone (token validation) may take. */
  keystoneTimeoutSeconds: number;
  /** [proxy]memory_budget (MiB in the file): bytes of bodies and answers the process may hold at once. */
  memoryBudgetBytes: number;
  /** [proxy]cursor_secret: the key of the paging cursors' MAC, shared by replicas (absent: random per process). */
  cursorSecret?: string;
  /** Seconds a loop over one site's pages (bare-marker positioning, uniqueness scans, drift check) may take. */
  scanTimeoutSeconds: number;
  /** Pages such a loop may read from one site. */
  scanMaxPages: number;
}

/**
 * `[status]`: the operator's status page (GET /status). Its background work
 * (probes, the node tally) runs only while someone looks at the page.
 */
export interface StatusOptions {
  /** Seconds between the page's probes of every site (version documents) while it is viewed. */
  probeIntervalSeconds: number;
  /** Seconds between two refreshes of the open page (its fetch of the data). */
  refreshIntervalSeconds: number;
  /** Seconds without a view of /status after which its background work stops. */
  idleTimeoutSeconds: number;
  /** Seconds: a site whose recent answers take longer than this (median) is shown as slow. */
  slowThresholdSeconds: number;
  /** Seconds between two rounds of the node tally (counts by provision state, power state, maintenance). */
  tallyIntervalSeconds: number;
  /** Pages (of the site's max_limit nodes) one site's tally may read; past it the counts are shown as a lower bound. */
  tallyMaxPages: number;
  /** Seconds one site's tally may take. */
  tallyTimeoutSeconds: number;
  /** Sites tallied at once. */
  tallyConcurrency: number;
  /** Seconds between checks of the global objects for drift (0: only at start-up). */
  driftCheckIntervalSeconds: number;
}

/** `[keystone_authtoken]`: how the proxy validates users' tokens (keystonemiddleware's option names). */
export interface KeystoneAuthtokenConfig {
  /** The proxy's own service credentials, used to validate users' tokens. */
  credentials: KeystoneSiteAuth;
  /** Where clients are told to authenticate (`WWW-Authenticate: Keystone uri="…"`). */
  wwwAuthenticateUri: string;
  /** Seconds a validation is trusted before Keystone is asked again (never past the token's expiry). */
  tokenCacheTime: number;
  /** TLS to Keystone (the service token and the validations), keystonemiddleware's option names. */
  insecure: boolean;
  cafile?: string;
  certfile?: string;
  keyfile?: string;
}

/**
 * `[oslo_policy]` (oslo.policy 4.0's options, Ironic 21.4's policy_file
 * default) and the two `[DEFAULT]` options Ironic's policy credentials read:
 * how the proxy's policy engine (src/policy/) applies Ironic's default rules.
 */
export interface OsloPolicyConfig {
  /** enforce_scope: refuse a token whose scope is not in the rule's scope_types (default false). */
  enforceScope: boolean;
  /** enforce_new_defaults: drop the deprecated rules OR'ed into the new defaults (default false). */
  enforceNewDefaults: boolean;
  /** policy_file: operator overrides, relative to the configuration file's directory (default policy.yaml). */
  policyFile: string;
  /** policy_dirs: directories of further override files (default policy.d; missing ones are skipped). */
  policyDirs?: string[];
  /** [DEFAULT]rbac_service_role_elevated_access: the service role of the service project acts system-wide (default false). */
  rbacServiceRoleElevatedAccess: boolean;
  /** [DEFAULT]rbac_service_project_name (default "service"). */
  rbacServiceProjectName: string | null;
  /** [api]project_admin_can_manage_own_nodes: a project admin may create and delete nodes its project owns (Ironic's default true). */
  projectAdminCanManageOwnNodes: boolean;
  /** Where a relative policy_file / policy_dirs is looked up: the configuration file's directory (set by loadConfigFile). */
  configDir?: string;
}

/**
 * `[coordination]` (tooz's section and option name for the backend): the
 * store replicas share for reservations of unique names and for locations.
 * Absent backend_url: each process on its own (the documented races).
 */
export interface CoordinationConfig {
  /** `redis://[:password@]host:port[/db]` or `rediss://…` (TLS). Holds a secret: never logged. */
  backendUrl: string;
  /** A guarded write (a unique name or uuid) is refused (503) while the store cannot be reached; false: it goes unguarded, logged and counted. */
  required: boolean;
  /** Milliseconds a reservation lives unless renewed (its holder renews it while the write is under way; a crash frees it after this). */
  reservationTtlMs: number;
  /** Seconds a location entry lives in the store. */
  locationTtlSeconds: number;
  /** Milliseconds one store command may take before it counts as failed. */
  timeoutMs: number;
  /** Prefix of every key and channel, so fleets can share one store. */
  keyPrefix: string;
  /** One Keystone token per site for the whole fleet, kept in the store. */
  shareSiteTokens: boolean;
  /** TLS for rediss:// (CA bundle, client certificate). */
  cafile?: string;
  certfile?: string;
  keyfile?: string;
  insecure: boolean;
}

export interface ProxyConfig {
  sites: SiteConfig[];
  /** Conductor group (lower case) → site name. */
  groups: Map<string, string>;
  api: ApiConfig;
  proxy: ProxyOptions;
  status: StatusOptions;
  /** Present when [api]auth_strategy = keystone. */
  keystoneAuthtoken?: KeystoneAuthtokenConfig;
  /** Ironic's policy engine settings ([oslo_policy], [DEFAULT]rbac_service_*). */
  osloPolicy: OsloPolicyConfig;
  /** Present when [coordination]backend_url is set. */
  coordination?: CoordinationConfig;
  debug: boolean;
  /** The file it was read from (absent for a configuration given as text). */
  sourceFile?: string;
  /** Options present in the file that the proxy does not know (reported, not fatal, as in oslo.config). */
  unknownOptions: string[];
}
