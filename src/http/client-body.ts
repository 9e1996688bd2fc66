/**
 * Client bodies read as Ironic reads them, before anything else sees them
 * (the policy checks, the engines, the sites): one leading UTF-8 byte-order
 * mark is dropped — Python's json skips it, so a body that starts with one
 * is the same request to Ironic and must be the same request to the proxy's
 * own checks (name uniqueness, PATCH rules) — and a body holding values the
 * proxy cannot carry exactly (NaN, ±Infinity, numbers beyond a double,
 * integers beyond 2^53) is refused with 400 before any site is touched:
 * Ironic would store them, and every later reading of that object through
 * the proxy would fail on them. A body that is not JSON at all is refused
 * too (400, naming why): Ironic answers it with a 500 of Python's parser
 * error, and it must not reach a site.
 */
import { badRequest, ProxyError } from '../errors.js';
import { scanJson, stripBom } from '../ironic/json.js';

export function acceptClientBody(body: Buffer): Buffer {
  const bytes = stripBom(body);
  if (bytes.length === 0) return bytes;
  const scan = scanJson(bytes);
  if (!scan.valid) throw badRequest(`The request body is not valid JSON: ${scan.reason ?? 'unreadable'}.`);
  if (scan.valid && scan.unrepresentable) {
    throw badRequest(
      `The request body holds ${scan.unrepresentable}: NaN, Infinity and numbers that a double cannot hold exactly are not accepted.`,
    );
  }
  return bytes;
}

/**
 * A form body (urlencoded, multipart): pecan would bind its fields as the
 * handler's arguments, which the proxy does not read or check; 415, as for
 * any body the proxy does not read as JSON.
 */
export function refuseFormBody(contentType: string | undefined, body: Buffer): void {
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (body.length > 0 && (mime === 'application/x-www-form-urlencoded' || mime === 'multipart/form-data')) {
    throw new ProxyError('UNSUPPORTED_MEDIA_TYPE', `The request body must be JSON (Content-Type: application/json); ${mime} bodies are not accepted.`);
  }
}

