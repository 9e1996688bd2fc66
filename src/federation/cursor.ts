/**
 * The proxy's own pagination cursor, carried in the `next` link beside the
 * plain `marker`. It records, for every site of the listing, where that
 * site's stream stands: not started, after a given item, or exhausted. With
 * it, page N+1 continues each site from exactly where page N stopped, with no
 * re-reading and no dependence on how the proxy's comparator and a site's
 * collation agree.
 *
 * A cursor is signed: an HMAC-SHA256 (truncated to 128 bits) over its
 * positions and what it is bound to — the listing it was made for and the
 * marker beside it — with a key only the proxy knows ([proxy]cursor_secret,
 * shared by replicas). A cursor that does not verify is ignored and the
 * plain marker is used instead, so an edited, forged or stale link never
 * puts a marker of the client's choosing in front of a site.
 *
 * Stateless by design: any replica that has the same secret can serve the
 * next page (workers of one process share a key made by their primary).
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isUuidLike } from '../ironic/idents.js';

export type Position =
  | { kind: 'start' }
  | { kind: 'done' }
  | { kind: 'after'; marker: string }
  /**
   * Not found yet: the site failed while its place after a bare marker was
   * being found, so it was left out of the page. Its place is after the
   * point (value, ordinal) of the merged order — the marker's sort value and
   * its site's ordinal — and is looked for again on the next page, so the
   * site resumes exactly there (issue 15), neither from its start nor never.
   */
  | { kind: 'seek'; value: unknown; ordinal: number };

export const START: Position = { kind: 'start' };
export const DONE: Position = { kind: 'done' };

const FORMAT = 2;
const MAC_BYTES = 16;
/** The environment variable through which a multi-worker primary hands its random key to its workers. */
export const WORKER_KEY_ENV = 'IRONIC_PROXY_WORKER_CURSOR_KEY';

let key: Buffer = randomBytes(32);

/**
 * Sets the MAC key: `[proxy]cursor_secret` when given; else the key the
 * primary handed to this worker; else a random key of this process (logged:
 * another replica cannot verify its cursors, so a next page served there
 * falls back to the plain marker — correct, at the cost of re-positioning).
 */
export function configureCursorKey(secret: string | undefined, log?: { warn(msg: string): void }): void {
  if (secret) {
    key = createHash('sha256').update(`ironic-proxy cursor key\n${secret}`).digest();
    return;
  }
  const handed = process.env[WORKER_KEY_ENV];
  key = handed && /^[0-9a-f]{64}$/.test(handed) ? Buffer.from(handed, 'hex') : randomBytes(32);
  log?.warn(
    '[proxy]cursor_secret is not set: paging cursors are signed with a random key of this process, ' +
      'so replicas cannot continue each other\'s cursors (they fall back to the plain marker); set the same secret on every replica',
  );
}

function mac(binding: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', key).update(binding).update(body).digest().subarray(0, MAC_BYTES);
}
const TAG_START = 0;
const TAG_DONE = 1;
const TAG_UUID = 2;
const TAG_TEXT = 3;
const TAG_SEEK = 4;
/** Planning hints (offsets, the page's last sort value): never a position, only a guess the merge verifies. */
const TAG_HINTS = 5;

/**
 * What the next page's merge may plan with (issue 12): how many items of each
 * site's stream lie before its position (undefined: not known), and the point
 * of the merged order where the page ended (the last item's sort value and its
 * site's ordinal). Hints only: a wrong one costs a round trip, never an item.
 */
export interface CursorHints {
  offsets: ReadonlyArray<number | undefined>;
  boundary?: { value: unknown; ordinal: number };
}

export interface CursorState {
  positions: Position[];
  hints?: CursorHints;
}

/** What a cursor is bound to: the listing (path, filters, order), its sites, and the marker beside it (covered by its MAC). */
export function cursorBinding(parts: { path: string; signature: string; sites: readonly string[]; marker: string }): Buffer {
  return createHash('sha256')
    .update(`${parts.path}\n${parts.signature}\n${parts.sites.join(',')}\n${parts.marker}`)
    .digest();
}

export function encodeCursor(binding: Buffer, positions: readonly Position[], hints?: CursorHints): string {
  const chunks: Buffer[] = [Buffer.from([FORMAT])];
  for (const p of positions) {
    if (p.kind === 'start') chunks.push(Buffer.from([TAG_START]));
    else if (p.kind === 'done') chunks.push(Buffer.from([TAG_DONE]));
    else if (p.kind === 'seek') {
      const text = Buffer.from(JSON.stringify([p.value ?? null, p.ordinal]), 'utf8');
      chunks.push(Buffer.from([TAG_SEEK, text.length >> 8, text.length & 0xff]), text);
    } else if (isUuidLike(p.marker) && p.marker === p.marker.toLowerCase() && p.marker.length === 36) {
      chunks.push(Buffer.from([TAG_UUID]), Buffer.from(p.marker.replace(/-/g, ''), 'hex'));
    } else {
      const text = Buffer.from(p.marker, 'utf8');
      chunks.push(Buffer.from([TAG_TEXT, text.length >> 8, text.length & 0xff]), text);
    }
  }
  if (hints) {
    const text = Buffer.from(JSON.stringify(hints.boundary ? [hints.boundary.value ?? null, hints.boundary.ordinal] : null), 'utf8');
    const offsets = Buffer.from(hints.offsets.flatMap((o) => varint(o === undefined || o < 0 ? 0 : o + 1)));
    // Bounded like the other entries (16-bit lengths); hints that do not fit are left out (they are only hints).
    if (text.length < 0x10000 && hints.offsets.length === positions.length) {
      chunks.push(Buffer.from([TAG_HINTS]), seal(Buffer.concat([Buffer.from([text.length >> 8, text.length & 0xff]), text, offsets])));
    }
  }
  const body = Buffer.concat(chunks);
  return Buffer.concat([body, mac(binding, body)]).toString('base64url');
}

/**
 * The hints are sealed (AES-256-GCM, a key derived from the MAC key): they
 * hold a sort value the client's `fields` may not show and, for a listing
 * that passes over items the caller may not see, counts that include them.
 */
function hintsKey(): Buffer {
  return createHash('sha256').update('ironic-proxy cursor hints\n').update(key).digest();
}
function seal(plain: Buffer): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', hintsKey(), iv);
  const body = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([iv, body, c.getAuthTag()]);
}
function unseal(sealed: Buffer): Buffer | undefined {
  if (sealed.length < 28) return undefined;
  try {
    const d = createDecipheriv('aes-256-gcm', hintsKey(), sealed.subarray(0, 12));
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    return Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]);
  } catch {
    return undefined;
  }
}

/** LEB128 of a non-negative integer. */
function varint(n: number): number[] {
  const out: number[] = [];
  let v = Math.floor(n);
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** The positions, or undefined when the cursor is malformed or bound to something else. */
export function decodeCursor(text: string, binding: Buffer, siteCount: number): Position[] | undefined {
  return decodeCursorState(text, binding, siteCount)?.positions;
}

/** The positions and planning hints, or undefined when the cursor is malformed or bound to something else. */
export function decodeCursorState(text: string, binding: Buffer, siteCount: number): CursorState | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const signed = Buffer.from(text, 'base64url');
  if (signed.length < 1 + MAC_BYTES || signed[0] !== FORMAT) return undefined;
  const buf = signed.subarray(0, signed.length - MAC_BYTES);
  if (!timingSafeEqual(signed.subarray(buf.length), mac(binding, buf))) return undefined;
  const positions: Position[] = [];
  let hints: CursorHints | undefined;
  let i = 1;
  while (i < buf.length) {
    const tag = buf[i++];
    // Nothing after the hints.
    if (hints) return undefined;
    if (tag === TAG_START) positions.push(START);
    else if (tag === TAG_DONE) positions.push(DONE);
    else if (tag === TAG_UUID) {
      if (i + 16 > buf.length) return undefined;
      const hex = buf.subarray(i, i + 16).toString('hex');
      i += 16;
      positions.push({ kind: 'after', marker: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` });
    } else if (tag === TAG_TEXT) {
      if (i + 2 > buf.length) return undefined;
      const len = (buf[i]! << 8) | buf[i + 1]!;
      i += 2;
      if (i + len > buf.length) return undefined;
      positions.push({ kind: 'after', marker: buf.subarray(i, i + len).toString('utf8') });
      i += len;
    } else if (tag === TAG_SEEK) {
      if (i + 2 > buf.length) return undefined;
      const len = (buf[i]! << 8) | buf[i + 1]!;
      i += 2;
      if (i + len > buf.length) return undefined;
      let point: unknown;
      try {
        point = JSON.parse(buf.subarray(i, i + len).toString('utf8'));
      } catch {
        return undefined;
      }
      if (!Array.isArray(point) || point.length !== 2 || typeof point[1] !== 'number') return undefined;
      positions.push({ kind: 'seek', value: point[0], ordinal: point[1] });
      i += len;
    } else if (tag === TAG_HINTS) {
      // The last entry: sealed to the end of the cursor.
      const plain = unseal(buf.subarray(i));
      if (!plain) return undefined;
      i = buf.length;
      hints = decodeHints(plain, positions.length);
      if (!hints) return undefined;
    } else return undefined;
  }
  return positions.length === siteCount ? { positions, hints } : undefined;
}

function decodeHints(buf: Buffer, count: number): CursorHints | undefined {
  if (buf.length < 2) return undefined;
  const len = (buf[0]! << 8) | buf[1]!;
  let i = 2;
  if (i + len > buf.length) return undefined;
  let boundary: unknown;
  try {
    boundary = JSON.parse(buf.subarray(i, i + len).toString('utf8'));
  } catch {
    return undefined;
  }
  i += len;
  const offsets: Array<number | undefined> = [];
  let v = 0;
  let scale = 1;
  for (; i < buf.length; i++) {
    const b = buf[i]!;
    v += (b & 0x7f) * scale;
    scale *= 0x80;
    if (b & 0x80) {
      if (scale > 2 ** 49) return undefined;
      continue;
    }
    offsets.push(v === 0 ? undefined : v - 1);
    v = 0;
    scale = 1;
  }
  if (scale !== 1 || offsets.length !== count) return undefined;
  if (boundary !== null && !(Array.isArray(boundary) && boundary.length === 2 && typeof boundary[1] === 'number')) return undefined;
  return { offsets, boundary: boundary === null ? undefined : { value: (boundary as unknown[])[0], ordinal: (boundary as number[])[1]! } };
}
