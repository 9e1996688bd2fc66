/**
 * Redactions Ironic applies to objects for callers who lack a rule, where
 * the proxy's engines relay a site's answer as it is (the site, called with
 * the proxy's credentials, redacts nothing for them). Applied to the reply
 * on its way out, to the object or to every object of a collection.
 * Nodes are redacted by their engines (the target there is each node).
 */
import type { FastifyRequest, onSendHookHandler } from 'fastify';
import type { ProxyServices } from '../services.js';
import { VOLUME_TARGET_REDACTIONS } from './table/volume.js';
import { requestCredentials } from './authorize.js';
import type { ApiEntry } from './types.js';

type Doc = Record<string, unknown>;

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the answer must be redacted for this caller before it is sent. */
    redactAnswer?: (doc: Doc) => void;
  }
}

/** Volume targets (GET one, listings, the answer of a PATCH — not of a POST): `properties` behind view_target_properties. */
function volumeTargetRedaction(services: ProxyServices, req: FastifyRequest, entry: ApiEntry): ((doc: Doc) => void) | undefined {
  if (!mayRedact(entry)) return undefined;
  const creds = requestCredentials(services, req);
  if (!creds) return undefined;
  const rule = VOLUME_TARGET_REDACTIONS.find((r) => r.when === 'rule');
  if (!rule?.rule || services.enforcer.decide(rule.rule, creds, creds) === 'allow') return undefined;
  const one = (t: unknown): void => {
    if (t && typeof t === 'object' && 'properties' in t) (t as Doc).properties = structuredClone(rule.replacement);
  };
  return (doc) => {
    if (Array.isArray(doc.targets)) doc.targets.forEach(one);
    else one(doc);
  };
}

/** Decides, once the request is authorised, whether its answer needs redacting. */
export function planRedaction(services: ProxyServices, req: FastifyRequest, entry: ApiEntry): void {
  const redact = volumeTargetRedaction(services, req, entry);
  if (redact) req.redactAnswer = redact;
}

/** Can an answer of this entry need redacting? Only those routes carry the hook below (every other answer skips it). */
export function mayRedact(entry: ApiEntry): boolean {
  return entry.path.includes('/volume/targets') && (entry.method === 'GET' || entry.method === 'PATCH');
}

/** The route hook (onSend) that applies a planned redaction to a successful JSON answer. */
export const redactOnSend: onSendHookHandler = (req, reply, payload, done) => {
  const redact = req.redactAnswer;
  if (!redact || reply.statusCode >= 300 || (typeof payload !== 'string' && !Buffer.isBuffer(payload))) return done(null, payload);
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString());
  } catch {
    return done(null, payload);
  }
  if (!doc || typeof doc !== 'object') return done(null, payload);
  redact(doc as Doc);
  done(null, JSON.stringify(doc));
};
