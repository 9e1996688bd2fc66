/**
 * Is a site's answer the document it claims to be? Checked before anything
 * of it is relayed: a status of the HTTP range a final answer has, a JSON
 * content type on a success that carries a body, a body that Python's json
 * reads the same way the proxy does (src/ironic/json.ts — a body cut short,
 * an HTML page, a Python repr or `False`/`None`/`NaN` leaking into it are
 * not), and the shape Ironic answers have (an object; vendor passthru
 * methods answer whatever the driver returns).
 *
 * Cheap enough for every relayed answer: a validating pass over the bytes
 * (no allocation, no parse), a few µs for a node.
 */
import { canonicalUuid, isUuidLike } from '../ironic/idents.js';
import { scanJson, stripBom } from '../ironic/json.js';

export interface SiteAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type AnswerCheck = { ok: true; body: Buffer } | { ok: false; problem: string };

export interface AnswerExpectation {
  /** Any JSON value may be the answer (vendor passthru), not only an object; a 200 may be empty. */
  anyValue?: boolean;
  /**
   * The answer is one object, the one asked for by this uuid or name: a
   * success must not name another (a site vouches only for itself), and
   * with `complete` (no `fields` asked) it must name it.
   */
  identity?: { ident: string; complete: boolean };
}

/**
 * Checks an answer; on success returns its body as the client gets it (one
 * leading byte-order mark dropped: Python's json skips it).
 */
export function checkSiteAnswer(res: SiteAnswer, expect: AnswerExpectation = {}): AnswerCheck {
  const status = res.status;
  if (!(status >= 200 && status <= 599)) return { ok: false, problem: `status ${status} is not a final HTTP status` };
  const success = status < 300;
  if (res.body.length === 0) {
    // 202 and 204 are empty in Ironic; a 200 or 201 always carries the object (a body cut to nothing is not one).
    if (success && (status === 200 || status === 201) && !expect.anyValue) return { ok: false, problem: `empty body with status ${status}` };
    return { ok: true, body: res.body };
  }
  if (status === 204 || status === 304) return { ok: true, body: res.body };
  const type = res.headers['content-type'];
  const json = typeof type === 'string' && type.includes('json');
  if (!json) {
    // An error page that is not JSON is still an error (relayed as inert text); a success must be the document.
    return success ? { ok: false, problem: `content type ${typeof type === 'string' ? type.split(';')[0] : 'missing'} instead of JSON` } : { ok: true, body: res.body };
  }
  const body = stripBom(res.body);
  const identity = success ? expect.identity : undefined;
  const scan = scanJson(body, { ids: identity !== undefined });
  if (!scan.valid) return { ok: false, problem: `body is not JSON (${scan.reason})` };
  if (scan.unrepresentable) return { ok: false, problem: `body holds ${scan.unrepresentable}, which the proxy cannot pass on faithfully` };
  if (scan.top !== 'object' && !(success && expect.anyValue)) return { ok: false, problem: `body is a JSON ${scan.top}, not an object` };
  if (identity) {
    const problem = identityProblem(identity.ident, identity.complete, scan.uuid, scan.name);
    if (problem) return { ok: false, problem };
  }
  return { ok: true, body };
}

/** Does a document (its top-level uuid and name) answer about `ident`? */
function identityProblem(ident: string, complete: boolean, uuid: string | null | undefined, name: string | null | undefined): string | undefined {
  if (isUuidLike(ident)) {
    if (uuid === undefined) return complete ? `the object asked about (${ident}) has no uuid` : undefined;
    // The common case, the very string asked with: no canonical forms to build.
    if (uuid === ident) return undefined;
    return typeof uuid === 'string' && isUuidLike(uuid) && canonicalUuid(uuid) === canonicalUuid(ident) ? undefined : `asked about ${ident}, it answered about ${String(uuid)}`;
  }
  if (name === undefined) return complete ? `the object asked about (${ident}) has no name` : undefined;
  return name === ident ? undefined : `asked about ${ident}, it answered about ${String(name)}`;
}
