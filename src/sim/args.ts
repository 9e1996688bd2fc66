/**
 * Ironic's argument validators (ironic/common/args.py) with their exact
 * messages. A query parameter given more than once arrives as a list, as
 * webob delivers it, and fails the validators the way Ironic's do.
 */

import { isUuidLike } from '../ironic/idents.js';
import { Fault } from './errors.js';
import { pyRepr } from './pyrepr.js';

export type Raw = string | string[] | undefined;
export type Query = Map<string, string | string[]>;

const BOOL_WORDS = "'0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'";
const TRUE = new Set(['1', 't', 'true', 'on', 'y', 'yes']);
const FALSE = new Set(['0', 'f', 'false', 'off', 'n', 'no']);

function show(v: unknown): string {
  return Array.isArray(v) ? pyRepr(v) : String(v);
}

export function argString(name: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Fault(400, `Expected string for ${name}: ${show(v)}`);
  return v;
}

export function argStringList(name: string, v: unknown): string[] | undefined {
  const s = argString(name, v);
  if (s === undefined) return undefined;
  const out: string[] = [];
  for (const part of s.split(',')) {
    const n = part.trim().toLowerCase();
    if (n && !out.includes(n)) out.push(n);
  }
  return out;
}

/** strutils.bool_from_string(strict=True); JSON booleans pass through. */
export function argBoolean(name: string, v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  const s = typeof v === 'string' ? v : show(v);
  const l = s.trim().toLowerCase();
  if (TRUE.has(l)) return true;
  if (FALSE.has(l)) return false;
  throw new Fault(
    400,
    `Invalid ${name}: Unrecognized value ${pyRepr(s)}, acceptable values are: ${BOOL_WORDS}`,
  );
}

export function argUuid(name: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !isUuidLike(v)) throw new Fault(400, `Expected UUID for ${name}: ${show(v)}`);
  return v;
}

/** Python int(): surrounding whitespace, a sign and digit-group underscores are fine. */
export function argInteger(name: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\s*[+-]?\d+(_\d+)*\s*$/.test(v)) return Number(v.replace(/_/g, '').trim());
  throw new Fault(400, `Expected an integer for ${name}: ${show(v)}`);
}

const LOGICAL_NAME_RE = /^[A-Z0-9\-._~]+$/i;
const HOSTNAME_SAFE_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9\-_]{0,62}[a-z0-9])*\.?$/;

/** utils.is_valid_logical_name. */
export function isValidLogicalName(v: string): boolean {
  return v.length <= 255 && LOGICAL_NAME_RE.test(v);
}

/** api_utils.is_valid_logical_name: hostname-safe before 1.10. */
export function isValidNodeLogicalName(v: string, minor: number): boolean {
  if (minor < 10) return v.length <= 255 && HOSTNAME_SAFE_RE.test(v);
  return isValidLogicalName(v);
}

/** args.uuid_or_name. */
export function argUuidOrName(name: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || (!isValidLogicalName(v) && !isUuidLike(v))) {
    throw new Fault(400, `Expected UUID or name for ${name}: ${show(v)}`);
  }
  return v;
}

/** The `Unexpected arguments: …` check that args.validate runs before anything else. */
export function rejectUnexpected(keys: Iterable<string>, allowed: ReadonlySet<string>): void {
  const extra: string[] = [];
  for (const k of keys) if (!allowed.has(k) && !extra.includes(k)) extra.push(k);
  if (extra.length) throw new Fault(400, `Unexpected arguments: ${extra.join(', ')}`);
}

/** Parses a query string as webob does: `+` is a space, repeated keys become lists. */
export function parseQuery(qs: string): Query {
  const q: Query = new Map();
  if (!qs) return q;
  for (const part of qs.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = decode(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? '' : decode(part.slice(eq + 1));
    const prev = q.get(k);
    if (prev === undefined) q.set(k, v);
    else if (Array.isArray(prev)) prev.push(v);
    else q.set(k, [prev, v]);
  }
  return q;
}

function decode(s: string): string {
  const t = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(t);
  } catch {
    return t;
  }
}
