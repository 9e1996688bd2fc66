/**
 * The one closed catalogue of errors the proxy raises itself (in the manner
 * of fastify's lib/errors.js): every code, the HTTP status it is answered
 * with and the body shape it is rendered in. A ProxyError can only be made
 * with a code of this catalogue (the type says so), and the HTTP layer
 * renders each in Ironic's body shape (src/http/errors.ts) — the
 * framework's and Node's own errors (body too large, bad URL, headers too
 * large, malformed request line) are mapped onto codes of it there and in
 * src/http/server.ts. Errors that a site returned are not in here: they are
 * relayed as the site wrote them.
 */

export type ErrorShape = 'fault' | 'routing';

interface CatalogueEntry {
  status: number;
  /** `fault`: Ironic's controller body (faultstring); `routing`: pecan's {code, title, description}. */
  shape: ErrorShape;
  /** The status comes from the case (a table's microversion gate, a framework 4xx, a 404 asked as 400). */
  variableStatus?: true;
  /** What it means, for the README and the reader. */
  what: string;
}

export const ERROR_CATALOGUE = {
  // The request: refused before any site is asked.
  BAD_REQUEST: { status: 400, shape: 'fault', what: 'a request Ironic refuses (its text), or one it would fail on (a clear text)' },
  DUPLICATE_HOST: { status: 400, shape: 'routing', what: 'two Host headers' },
  BAD_URL: { status: 400, shape: 'routing', what: 'a path that is not valid percent-encoding' },
  BAD_HTTP: { status: 400, shape: 'routing', what: "a request Node's HTTP parser refuses (request line, framing)" },
  REQUEST_TIMEOUT: { status: 408, shape: 'routing', what: 'a request that took longer than [proxy]client_request_timeout to arrive' },
  URI_TOO_LONG: { status: 414, shape: 'routing', what: 'a path argument longer than 512 characters' },
  HEADERS_TOO_LARGE: { status: 431, shape: 'routing', what: 'request headers over the size Node accepts' },
  BODY_TOO_LARGE: { status: 413, shape: 'fault', what: "a body over its route's limit (1 MiB; provision 64 MiB)" },
  BODY_OVER_BUDGET: { status: 413, shape: 'fault', what: 'a body larger than the whole memory budget' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, shape: 'fault', what: 'a content type the proxy does not read' },
  CLIENT_ERROR: { status: 400, shape: 'fault', variableStatus: true, what: "another 4xx of the web framework's" },
  NOT_ACCEPTABLE: { status: 406, shape: 'routing', what: 'a microversion outside the supported range' },
  NOT_ACCEPTABLE_FAULT: { status: 406, shape: 'fault', what: "Ironic's NotAcceptable of a handler (a form below its version)" },
  VERSION_GATE: { status: 404, shape: 'routing', variableStatus: true, what: "a form below its microversion, answered as Ironic's routing does" },
  PATH_NOT_FOUND: { status: 404, shape: 'routing', what: 'a path no entry of the API table has' },
  METHOD_NOT_ALLOWED: { status: 405, shape: 'routing', what: 'a method no entry has on a known path (with Allow)' },
  AGENT_ENDPOINT_NOT_SERVED: { status: 404, shape: 'routing', what: 'the ramdisk agent endpoints, which the proxy does not serve' },
  AGENT_RESOURCE_NOT_FOUND: { status: 404, shape: 'fault', what: 'an agent endpoint asked for something the proxy does not serve' },
  // Policy.
  FORBIDDEN: { status: 403, shape: 'fault', what: "Ironic's policy denies the caller" },
  INVALID_SCOPE: { status: 500, shape: 'fault', what: "a token of the wrong scope for a rule (Ironic's InvalidScope, a 500 there too)" },
  // Objects.
  NOT_FOUND: { status: 404, shape: 'fault', what: 'Resource could not be found.' },
  NODE_NOT_FOUND: { status: 404, shape: 'fault', what: 'Node <ident> could not be found.' },
  NODE_NOT_FOUND_BAD_REQUEST: { status: 400, shape: 'fault', what: 'a node named by a request that Ironic answers 400 when missing' },
  PORT_NOT_FOUND: { status: 404, shape: 'fault', what: 'Port <ident> could not be found.' },
  PORTGROUP_NOT_FOUND: { status: 404, shape: 'fault', what: 'Portgroup <ident> could not be found.' },
  VOLUME_CONNECTOR_NOT_FOUND: { status: 404, shape: 'fault', what: 'Volume connector <ident> could not be found.' },
  VOLUME_TARGET_NOT_FOUND: { status: 404, shape: 'fault', what: 'Volume target <ident> could not be found.' },
  ALLOCATION_NOT_FOUND: { status: 404, shape: 'fault', what: 'Allocation <ident> could not be found.' },
  RUNBOOK_NOT_FOUND: { status: 404, shape: 'fault', what: 'Runbook <ident> could not be found.' },
  CONDUCTOR_NOT_FOUND: { status: 404, shape: 'fault', what: 'Conductor <hostname> could not be found.' },
  DRIVER_NOT_FOUND: { status: 404, shape: 'fault', what: "a driver no site runs (Ironic's DriverNotFound: its hash ring's text for properties, RAID and vendor passthru)" },
  CONFLICT: { status: 409, shape: 'fault', what: 'a name or identity already taken, a node locked' },
  IDENTITY_CONFLICT: { status: 409, shape: 'fault', what: 'an identity claimed by several sites' },
  GLOBAL_OBJECT_DRIFT: { status: 409, shape: 'fault', what: 'a global object (chassis, template, runbook) that differs between sites' },
  // The proxy itself.
  PROXY_BUSY: { status: 503, shape: 'fault', what: 'the memory budget is full for now (Retry-After)' },
  CLIENT_GONE: { status: 499, shape: 'fault', what: 'the client left (never sent: the connection is gone)' },
  COORDINATION_UNAVAILABLE: { status: 503, shape: 'fault', what: 'the coordination store cannot be reached for a unique write' },
  KEYSTONE_UNAVAILABLE: { status: 503, shape: 'fault', what: 'Keystone cannot be asked about a token' },
  NO_SITE_VERSIONS: { status: 503, shape: 'fault', what: 'no site has answered version discovery yet' },
  INTERNAL: { status: 500, shape: 'fault', what: 'a bug of the proxy (the trace goes to the log, not the body)' },
  // The sites.
  NO_SITES: { status: 503, shape: 'fault', what: 'no site is configured' },
  SITE_UNAVAILABLE: { status: 503, shape: 'fault', what: 'a site could not be reached' },
  SITES_UNAVAILABLE: { status: 503, shape: 'fault', what: 'sites that did not answer a request that needs them all' },
  SITE_TIMEOUT: { status: 504, shape: 'fault', what: 'a site did not answer within site_timeout' },
  SITE_BAD_RESPONSE: { status: 502, shape: 'fault', what: 'a site answered something that is not the Bare Metal API' },
  SITE_ERROR: { status: 502, shape: 'fault', what: 'a site answered a 5xx' },
  GLOBAL_WRITE_INCOMPLETE: { status: 503, shape: 'fault', what: 'a write of a global object that not every site took' },
  OWNER_NOT_SET: { status: 503, shape: 'fault', what: 'a node created at a site that refused its owner (deleted again)' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class ProxyError extends Error {
  /** Headers to add to the error response (e.g. the sites a listing missed). */
  readonly headers: Record<string, string> = {};
  readonly status: number;
  /** `fault`: controller-style body; `routing`: pecan-style {code,title,description}. */
  readonly shape: ErrorShape;

  /** `status` only for the codes whose status comes from the case (variableStatus). */
  constructor(
    readonly code: ErrorCode,
    message: string,
    status?: number,
  ) {
    super(message);
    const entry: CatalogueEntry = ERROR_CATALOGUE[code];
    if (status !== undefined && status !== entry.status && !entry.variableStatus) {
      throw new Error(`error ${code} is answered ${entry.status}, not ${status}`);
    }
    this.status = status ?? entry.status;
    this.shape = entry.shape;
  }
}

export const badRequest = (message: string): ProxyError => new ProxyError('BAD_REQUEST', message);
export const conflict = (message: string): ProxyError => new ProxyError('CONFLICT', message);
export const notAcceptable = (message: string): ProxyError => new ProxyError('NOT_ACCEPTABLE', message);

export const nodeNotFound = (ident: string): ProxyError => new ProxyError('NODE_NOT_FOUND', `Node ${ident} could not be found.`);

export const pathNotFound = (): ProxyError => new ProxyError('PATH_NOT_FOUND', '');
export const methodNotAllowed = (): ProxyError => new ProxyError('METHOD_NOT_ALLOWED', '');

/**
 * A request that the router's checks (the API table's body and path checks)
 * should have refused, and that an engine cannot route: a bug of the proxy.
 * Answered as one (500) — never sent to some site instead, which the proxy
 * calls with its own credentials.
 */
export const unroutable = (what: string): ProxyError => new ProxyError('INTERNAL', `Internal Server Error: ${what}`);

export const unexpectedArguments = (names: string[]): ProxyError => badRequest(`Unexpected arguments: ${names.join(', ')}`);

/** A body over its route's limit. */
export const bodyTooLarge = (): ProxyError => new ProxyError('BODY_TOO_LARGE', 'Request body is too large');

/** A site could not be reached (refused, reset, DNS, TLS): the caller may retry later. */
export class SiteUnavailableError extends ProxyError {
  constructor(
    readonly site: string,
    reason: string,
  ) {
    super('SITE_UNAVAILABLE', `Site ${site} is unavailable: ${reason}`);
  }
}

/** A site (or, with `what`, something the site depends on such as its Keystone) took longer than its timeout. */
export class SiteTimeoutError extends ProxyError {
  constructor(
    readonly site: string,
    seconds: number,
    what?: string,
  ) {
    super('SITE_TIMEOUT', `Site ${site} did not answer within ${seconds} seconds${what ? ` (${what})` : ''}`);
  }
}

/** A site answered something that is not the Bare Metal API (bad JSON, wrong shape). */
export class SiteProtocolError extends ProxyError {
  constructor(
    readonly site: string,
    reason: string,
  ) {
    super('SITE_BAD_RESPONSE', `Site ${site} sent an invalid response: ${reason}`);
  }
}

export function isSiteFailure(err: unknown): err is SiteUnavailableError | SiteTimeoutError | SiteProtocolError {
  return err instanceof SiteUnavailableError || err instanceof SiteTimeoutError || err instanceof SiteProtocolError;
}

/** Several sites did not answer, so the proxy cannot give a complete or safe answer. */
export const sitesUnavailable = (what: string, sites: string[]): ProxyError =>
  new ProxyError('SITES_UNAVAILABLE', `${what}: site(s) ${sites.join(', ')} did not answer`);

/**
 * A site answered with an HTTP error that is the client's business (bad
 * filter, unknown field, version too low): relayed to the client as the site
 * wrote it, links rewritten.
 */
export class SiteErrorResponse extends Error {
  constructor(
    readonly site: string,
    readonly response: { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer },
  ) {
    super(`site ${site} answered ${response.status}`);
  }
}

/** A site answered a server error (5xx): a site failure that still carries the site's own answer. */
export class SiteFailedResponse extends ProxyError {
  constructor(
    readonly site: string,
    readonly response: { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer },
  ) {
    super('SITE_ERROR', `Site ${site} answered ${response.status}`);
  }
}
