/**
 * The one catalogue of errors the proxy raises itself. Each carries the HTTP
 * status and the text a client sees; the HTTP layer renders them in Ironic's
 * body shape. Errors that a site returned are not in here: they are relayed
 * as the site wrote them.
 */

export type ErrorShape = 'fault' | 'routing';

export class ProxyError extends Error {
  /** Headers to add to the error response (e.g. the sites a listing missed). */
  readonly headers: Record<string, string> = {};

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** `fault`: controller-style body; `routing`: pecan-style {code,title,description}. */
    readonly shape: ErrorShape = 'fault',
  ) {
    super(message);
  }
}

export const badRequest = (message: string): ProxyError => new ProxyError(400, 'BAD_REQUEST', message);
export const conflict = (message: string): ProxyError => new ProxyError(409, 'CONFLICT', message);
export const notAcceptable = (message: string): ProxyError =>
  new ProxyError(406, 'NOT_ACCEPTABLE', message, 'routing');

export const nodeNotFound = (ident: string): ProxyError =>
  new ProxyError(404, 'NODE_NOT_FOUND', `Node ${ident} could not be found.`);

export const pathNotFound = (): ProxyError => new ProxyError(404, 'PATH_NOT_FOUND', '', 'routing');
export const methodNotAllowed = (): ProxyError => new ProxyError(405, 'METHOD_NOT_ALLOWED', '', 'routing');

export const unexpectedArguments = (names: string[]): ProxyError =>
  badRequest(`Unexpected arguments: ${names.join(', ')}`);

/** A site could not be reached (refused, reset, DNS, TLS): the caller may retry later. */
export class SiteUnavailableError extends ProxyError {
  constructor(
    readonly site: string,
    reason: string,
  ) {
    super(503, 'SITE_UNAVAILABLE', `Site ${site} is unavailable: ${reason}`);
  }
}

/** A site (or, with `what`, something the site depends on such as its Keystone) took longer than its timeout. */
export class SiteTimeoutError extends ProxyError {
  constructor(
    readonly site: string,
    seconds: number,
    what?: string,
  ) {
    super(504, 'SITE_TIMEOUT', `Site ${site} did not answer within ${seconds} seconds${what ? ` (${what})` : ''}`);
  }
}

/** A site answered something that is not the Bare Metal API (bad JSON, wrong shape). */
export class SiteProtocolError extends ProxyError {
  constructor(
    readonly site: string,
    reason: string,
  ) {
    super(502, 'SITE_BAD_RESPONSE', `Site ${site} sent an invalid response: ${reason}`);
  }
}

export function isSiteFailure(err: unknown): err is SiteUnavailableError | SiteTimeoutError | SiteProtocolError {
  return err instanceof SiteUnavailableError || err instanceof SiteTimeoutError || err instanceof SiteProtocolError;
}

/** Several sites did not answer, so the proxy cannot give a complete or safe answer. */
export const sitesUnavailable = (what: string, sites: string[]): ProxyError =>
  new ProxyError(503, 'SITES_UNAVAILABLE', `${what}: site(s) ${sites.join(', ')} did not answer`);

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
    super(502, 'SITE_ERROR', `Site ${site} answered ${response.status}`);
  }
}
