/**
 * Global objects (chassis, deploy templates, runbooks): one object held by
 * every site under the same UUID, because nodes at any site refer to it.
 * This is the one place where a write is replicated to every site:
 *
 * - create: the first site (by ordinal) first — its 4xx is the client's
 *   answer and nothing was created anywhere; then every other site at once,
 *   with the same UUID (generated here when the client gave none). A site
 *   that fails (refused, timeout, 5xx, or a 4xx the first site did not give)
 *   rolls the create back: the copies are deleted again.
 * - update: every site's current object is read first (the values to revert
 *   to); the PATCH goes to the first site, then to the others; a failure
 *   reverts the sites that applied it (a reverse PATCH of the touched fields).
 * - delete: every site must answer first (and the caller's check, e.g. a
 *   chassis without nodes, must pass everywhere); then the first site, then
 *   the others. A delete cannot be undone: a site that failed is named as
 *   still holding the object.
 *
 * Whatever cannot be made whole is never silent: the answer is a 503 whose
 * faultstring names each site's state, and the `X-Ironic-Proxy-Site-States`
 * header lists them as `site=state` pairs.
 */
import { randomUUID } from 'node:crypto';
import { ProxyError, SiteErrorResponse, SiteTimeoutError } from '../errors.js';
import { errorMessageOf } from '../ironic/error-body.js';
import { isUuidLike } from '../ironic/idents.js';
import type { Version } from '../ironic/microversion.js';
import type { SiteClient, SiteResponse } from '../sites/site-client.js';
import { parseJsonBody } from '../sites/site-client.js';
import { fanOut } from './fanout.js';

export const SITE_STATES_HEADER = 'x-ironic-proxy-site-states';

/** One family of global objects. */
export interface GlobalFamily {
  /** In messages: "Chassis", "Deploy template", "Runbook". */
  noun: string;
  /** e.g. `/v1/chassis` */
  collectionPath: string;
  /** Key of the items in a listing, e.g. `deploy_templates`. */
  collectionKey: string;
  /** The fields a client sets (copied by reconcile, reverted by a failed update). */
  fields: readonly string[];
  /** The microversion that introduced the family. */
  sinceMinor: number;
}

export interface WriteContext {
  /** Every site, in ordinal order. */
  sites: readonly SiteClient[];
  /** The client's version (sent with the client's own request). */
  version: Version;
  /** The proxy's own reads and repairs. */
  internalVersion: Version;
  requestId: string;
}

/** The answer to relay to the client. */
export interface Answer {
  site: SiteClient;
  res: SiteResponse;
}

type Obj = Record<string, unknown>;

const JSON_HEADERS = { 'content-type': 'application/json' };

interface Attempt {
  site: SiteClient;
  res?: SiteResponse;
  error?: Error;
}

function describe(a: Attempt): string {
  if (a.error) return a.error.message;
  const res = a.res!;
  let text: string | undefined;
  try {
    text = errorMessageOf(JSON.parse(res.body.toString('utf8')));
  } catch {
    text = undefined;
  }
  return `answered ${res.status}${text ? `: ${text}` : ''}`;
}

/** A timed-out request may still have been applied: it is undone as if it had been. */
const maybeApplied = (a: Attempt): boolean => a.error instanceof SiteTimeoutError;

function partialFailure(message: string, states: Array<[string, string]>): ProxyError {
  const err = new ProxyError('GLOBAL_WRITE_INCOMPLETE', message);
  err.headers[SITE_STATES_HEADER] = states.map(([s, st]) => `${s}=${st}`).join(',');
  return err;
}

const names = (as: readonly Attempt[]): string => as.map((a) => a.site.name).join(', ');
const failures = (as: readonly Attempt[]): string => as.map((a) => `${a.site.name}: ${describe(a)}`).join('; ');

async function attempt(site: SiteClient, send: (s: SiteClient) => Promise<SiteResponse>): Promise<Attempt> {
  try {
    return { site, res: await send(site) };
  } catch (error) {
    return { site, error: error as Error };
  }
}

const itemPath = (family: GlobalFamily, ident: string): string => `${family.collectionPath}/${encodeURIComponent(ident)}`;

function parseObject(body: Buffer | undefined): Obj | undefined {
  if (!body || body.length === 0) return undefined;
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- create

export async function replicateCreate(family: GlobalFamily, ctx: WriteContext, body: Buffer | undefined): Promise<Answer> {
  const [first, ...rest] = ctx.sites;
  if (!first) throw new ProxyError('NO_SITES', 'No site is configured');
  const fields = parseObject(body);
  const send = (site: SiteClient, payload: Buffer | undefined): Promise<SiteResponse> =>
    site.request({ method: 'POST', path: family.collectionPath, version: ctx.version, requestId: ctx.requestId, headers: JSON_HEADERS, body: payload });
  // What the proxy cannot read (or a uuid Ironic will refuse) is the first site's to answer, with Ironic's own error.
  if (!fields || (fields.uuid !== undefined && fields.uuid !== null && (typeof fields.uuid !== 'string' || !isUuidLike(fields.uuid)))) {
    return { site: first, res: await send(first, body) };
  }
  const uuid = typeof fields.uuid === 'string' ? fields.uuid : randomUUID();
  const payload = Buffer.from(JSON.stringify({ ...fields, uuid }));

  const head = await attempt(first, (s) => send(s, payload));
  if (head.res && head.res.status !== 201) return { site: first, res: head.res };
  const tail = head.res ? await Promise.all(rest.map((s) => attempt(s, (x) => send(x, payload)))) : [];
  const all = [head, ...tail];
  const failed = all.filter((a) => a.res?.status !== 201);
  if (failed.length === 0) return { site: first, res: head.res! };

  // Roll back wherever the object may now exist.
  const undo = all.filter((a) => a.res?.status === 201 || maybeApplied(a));
  const undone = await Promise.all(
    undo.map((a) =>
      attempt(a.site, (s) => s.request({ method: 'DELETE', path: itemPath(family, uuid), version: ctx.internalVersion, requestId: ctx.requestId })),
    ),
  );
  const stillThere = undone.filter((u) => !(u.res && (u.res.status === 204 || u.res.status === 404)));
  const states: Array<[string, string]> = ctx.sites.map((s) => {
    if (stillThere.some((u) => u.site === s)) return [s.name, 'created'];
    if (undo.some((a) => a.site === s)) return [s.name, 'rolled-back'];
    if (failed.some((a) => a.site === s)) return [s.name, 'failed'];
    return [s.name, 'not-attempted'];
  });
  let message = `${family.noun} ${uuid} was not created: site(s) ${names(failed)} failed (${failures(failed)}).`;
  const rolledBack = undone.filter((u) => !stillThere.includes(u) && u.res?.status === 204);
  if (rolledBack.length > 0) message += ` It was deleted again at ${names(rolledBack)}.`;
  if (stillThere.length > 0) {
    message += ` Site(s) ${names(stillThere)} still hold it (the rollback failed: ${failures(stillThere)}); delete it again or run ironic-proxy-reconcile.`;
  } else {
    message += ' No site holds it.';
  }
  throw partialFailure(message, states);
}

// ---------------------------------------------------------------- read every site's copy

interface Holdings {
  uuid: string;
  /** The object at each site that holds it (internal version: every field). */
  held: Array<{ site: SiteClient; obj: Obj }>;
  absent: SiteClient[];
}

/**
 * Every site's copy of `ident`, or the answer to give instead: a site that
 * does not answer stops the write before anything changes (503); an
 * identifier every site refuses is relayed (404, 400).
 */
async function holdings(family: GlobalFamily, ctx: WriteContext, ident: string, what: string): Promise<Holdings | Answer> {
  const reads = await fanOut(ctx.sites, (s) => s.request({ method: 'GET', path: itemPath(family, ident), version: ctx.internalVersion, requestId: ctx.requestId }));
  const silent = reads.filter((r) => !r.ok || r.value.status >= 500);
  if (silent.length > 0) {
    const as: Attempt[] = silent.map((r) => (r.ok ? { site: r.site, res: r.value } : { site: r.site, error: r.error }));
    throw new ProxyError('SITES_UNAVAILABLE', `${family.noun} ${ident} was not ${what}: site(s) ${names(as)} did not answer (${failures(as)}); nothing was changed.`);
  }
  const answers = reads.map((r) => ({ site: r.site, res: (r as { value: SiteResponse }).value }));
  const held: Holdings['held'] = [];
  const absent: SiteClient[] = [];
  for (const a of answers) {
    if (a.res.status === 200) {
      const obj = parseJsonBody<Obj>(a.site.name, a.res);
      if (obj && typeof obj.uuid === 'string') held.push({ site: a.site, obj });
      else absent.push(a.site);
    } else if (a.res.status === 404) absent.push(a.site);
    else return answers.find((x) => x.res.status !== 200 && x.res.status !== 404)!;
  }
  if (held.length === 0) return answers[0]!;
  const uuids = new Set(held.map((h) => h.obj.uuid as string));
  if (uuids.size > 1) {
    throw new ProxyError('GLOBAL_OBJECT_DRIFT', `${family.noun} ${ident} names different objects at different sites (${held.map((h) => `${h.site.name}: ${String(h.obj.uuid)}`).join(', ')}); ` +
        'nothing was changed. Use the UUID, or run ironic-proxy-reconcile.',
    );
  }
  return { uuid: held[0]!.obj.uuid as string, held, absent };
}

const isAnswer = (h: Holdings | Answer): h is Answer => 'res' in h;

// ---------------------------------------------------------------- update

/** The top-level fields a JSON patch touches (all of the family's when it cannot be read). */
export function touchedFields(family: GlobalFamily, patch: unknown): string[] {
  if (!Array.isArray(patch)) return [...family.fields];
  const out = new Set<string>();
  for (const op of patch) {
    const path = op && typeof op === 'object' ? (op as Obj).path : undefined;
    if (typeof path !== 'string') return [...family.fields];
    const top = path.split('/')[1];
    if (top) out.add(top);
  }
  return [...out];
}

/** The patch that puts `fields` back to their values in `old`. */
export function reversePatch(fields: readonly string[], old: Obj): Array<Obj> {
  return fields.map((f) => (old[f] === undefined || old[f] === null ? { op: 'remove', path: `/${f}` } : { op: 'replace', path: `/${f}`, value: old[f] }));
}

export async function replicateUpdate(family: GlobalFamily, ctx: WriteContext, ident: string, body: Buffer | undefined): Promise<Answer> {
  const h = await holdings(family, ctx, ident, 'updated');
  if (isAnswer(h)) return h;
  if (h.absent.length > 0) throw driftRefusal(family, h, 'updated');
  const [head, ...rest] = h.held;
  const send = (site: SiteClient, path: string): Promise<SiteResponse> =>
    site.request({ method: 'PATCH', path, version: ctx.version, requestId: ctx.requestId, headers: JSON_HEADERS, body });
  const first = await attempt(head!.site, (s) => send(s, itemPath(family, ident)));
  if (first.res && first.res.status !== 200) return { site: first.site, res: first.res };
  const tail = first.res ? await Promise.all(rest.map((x) => attempt(x.site, (s) => send(s, itemPath(family, h.uuid))))) : [];
  const all = [first, ...tail];
  const failed = all.filter((a) => a.res?.status !== 200);
  if (failed.length === 0) return { site: first.site, res: first.res! };

  let patch: unknown;
  try {
    patch = body ? JSON.parse(body.toString('utf8')) : undefined;
  } catch {
    patch = undefined;
  }
  const touched = touchedFields(family, patch).filter((f) => family.fields.includes(f));
  const undo = all.filter((a) => a.res?.status === 200 || maybeApplied(a));
  const reverted = await Promise.all(
    undo.map((a) => {
      const old = h.held.find((x) => x.site === a.site)!.obj;
      return attempt(a.site, (s) =>
        s.request({
          method: 'PATCH',
          path: itemPath(family, h.uuid),
          version: ctx.internalVersion,
          requestId: ctx.requestId,
          headers: JSON_HEADERS,
          body: JSON.stringify(reversePatch(touched, old)),
        }),
      );
    }),
  );
  const notReverted = reverted.filter((r, i) => r.res?.status !== 200 && !(maybeApplied(undo[i]!) && r.res && r.res.status < 500));
  const states: Array<[string, string]> = ctx.sites.map((s) => {
    if (notReverted.some((r) => r.site === s)) return [s.name, 'updated'];
    if (undo.some((a) => a.site === s)) return [s.name, 'reverted'];
    if (failed.some((a) => a.site === s)) return [s.name, 'failed'];
    return [s.name, 'unchanged'];
  });
  let message = `${family.noun} ${h.uuid} was not updated: site(s) ${names(failed)} failed (${failures(failed)}).`;
  const done = reverted.filter((r) => !notReverted.includes(r));
  if (done.length > 0) message += ` The change was reverted at ${names(done)}.`;
  if (notReverted.length > 0) {
    message += ` Site(s) ${names(notReverted)} hold the new values (the revert failed: ${failures(notReverted)}); the other sites hold the previous ones. Repeat the update or run ironic-proxy-reconcile.`;
  } else {
    message += ' Every site holds the previous values.';
  }
  throw partialFailure(message, states);
}

function driftRefusal(family: GlobalFamily, h: Holdings, what: string): ProxyError {
  const err = new ProxyError('GLOBAL_OBJECT_DRIFT', `${family.noun} ${h.uuid} was not ${what}: it is missing at site(s) ${h.absent.map((s) => s.name).join(', ')} ` +
      `(held by ${h.held.map((x) => x.site.name).join(', ')}); nothing was changed. Run ironic-proxy-reconcile --repair first.`,
  );
  err.headers[SITE_STATES_HEADER] = [...h.held.map((x) => `${x.site.name}=present`), ...h.absent.map((s) => `${s.name}=missing`)].join(',');
  return err;
}

// ---------------------------------------------------------------- delete

export interface DeleteOptions {
  /** Runs before anything is deleted, with the sites that hold the object; throws to refuse. */
  precheck?: (uuid: string, holders: readonly SiteClient[]) => Promise<void>;
}

export async function replicateDelete(family: GlobalFamily, ctx: WriteContext, ident: string, opts: DeleteOptions = {}): Promise<Answer> {
  const h = await holdings(family, ctx, ident, 'deleted');
  if (isAnswer(h)) return h;
  // Sites that already lack it need nothing (this also finishes a delete that was left half-done).
  await opts.precheck?.(h.uuid, h.held.map((x) => x.site));
  const [head, ...rest] = h.held;
  const send = (site: SiteClient, path: string): Promise<SiteResponse> =>
    site.request({ method: 'DELETE', path, version: ctx.version, requestId: ctx.requestId });
  const first = await attempt(head!.site, (s) => send(s, itemPath(family, ident)));
  if (first.res && first.res.status !== 204) return { site: first.site, res: first.res };
  const tail = first.res ? await Promise.all(rest.map((x) => attempt(x.site, (s) => send(s, itemPath(family, h.uuid))))) : [];
  const all = [first, ...tail];
  const failed = all.filter((a) => a.res?.status !== 204 && a.res?.status !== 404);
  if (failed.length === 0) return { site: first.site, res: first.res! };
  const deleted = all.filter((a) => !failed.includes(a));
  const states: Array<[string, string]> = ctx.sites.map((s) => {
    if (deleted.some((a) => a.site === s)) return [s.name, 'deleted'];
    const f = failed.find((a) => a.site === s);
    return [s.name, f && maybeApplied(f) ? 'unknown' : h.absent.includes(s) ? 'absent' : 'present'];
  });
  const message =
    deleted.length === 0
      ? `${family.noun} ${h.uuid} was not deleted: site(s) ${names(failed)} failed (${failures(failed)}); nothing was deleted.`
      : `${family.noun} ${h.uuid} was deleted only in part: site(s) ${names(failed)} failed (${failures(failed)}) and still hold it, ` +
        `while ${names(deleted)} deleted it. A delete cannot be undone; repeat the DELETE to finish it.`;
  throw partialFailure(message, states);
}

// ---------------------------------------------------------------- reads

/**
 * A read answered by one site: the first (by ordinal) that answers; a site
 * that fails is passed over. Sites hold the same objects, so any answer is
 * the federation's answer.
 */
export async function readFromOne(sites: readonly SiteClient[], send: (s: SiteClient) => Promise<SiteResponse>): Promise<Answer> {
  const tried: Attempt[] = [];
  for (const site of sites) {
    const a = await attempt(site, send);
    if (a.res && a.res.status < 500) return { site, res: a.res };
    tried.push(a);
  }
  const last = tried[tried.length - 1];
  if (last?.res) throw new SiteErrorResponse(last.site.name, last.res);
  throw new ProxyError('SITES_UNAVAILABLE', `No site answered: ${failures(tried)}`);
}

/**
 * One object: from the first site that answers; a 404 there is checked at
 * the other sites (a site that missed a create must not hide the object).
 */
export async function readObject(sites: readonly SiteClient[], send: (s: SiteClient) => Promise<SiteResponse>): Promise<Answer> {
  const answer = await readFromOne(sites, send);
  if (answer.res.status !== 404) return answer;
  const others = await fanOut(
    sites.filter((s) => s !== answer.site),
    send,
  );
  const found = others.find((o) => o.ok && o.value.status === 200);
  return found && found.ok ? { site: found.site, res: found.value } : answer;
}
