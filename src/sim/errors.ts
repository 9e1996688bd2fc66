/** Control-flow errors of the simulated API, mapped to Ironic's two error-body shapes. */

/** An error raised inside a controller: `{faultcode, faultstring, debuginfo}`, with version headers. */
export class Fault extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** `pecan.abort` during routing: `{code, title, description}`, no version headers, no request id. */
export class RoutingError extends Error {
  constructor(
    readonly status: number,
    readonly description = '',
    readonly headers: Record<string, string> = {},
  ) {
    super(description || String(status));
  }
}

export const notAcceptable = (msg = 'Request not acceptable.'): Fault => new Fault(406, msg);

export const minVersionNotAcceptable = (minor: number): Fault =>
  new Fault(406, `Request not acceptable. The minimal required API version should be 1.${minor}`);

export const nodeNotFound = (ident: string): Fault => new Fault(404, `Node ${ident} could not be found.`);
