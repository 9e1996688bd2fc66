/**
 * The proxy's own pagination cursor, carried in the `next` link beside the
 * plain `marker`. It records, for every site of the listing, where that
 * site's stream stands: not started, after a given item, or exhausted. With
 * it, page N+1 continues each site from exactly where page N stopped, with no
 * re-reading and no dependence on how the proxy's comparator and a site's
 * collation agree. It is bound (by a hash) to the listing it was made for and
 * to the marker beside it; a cursor that does not match is ignored and the
 * plain marker is used instead, so a stale or edited link is never trusted.
 *
 * Stateless by design: any replica behind a load balancer can serve the next
 * page.
 */
import { createHash } from 'node:crypto';
import { isUuidLike } from '../ironic/idents.js';

export type Position = { kind: 'start' } | { kind: 'done' } | { kind: 'after'; marker: string };

export const START: Position = { kind: 'start' };
export const DONE: Position = { kind: 'done' };

const FORMAT = 1;
const TAG_START = 0;
const TAG_DONE = 1;
const TAG_UUID = 2;
const TAG_TEXT = 3;

/** What a cursor is bound to: the listing (path, filters, order), its sites, and the marker beside it. */
export function cursorBinding(parts: { path: string; signature: string; sites: readonly string[]; marker: string }): Buffer {
  return createHash('sha256')
    .update(`${parts.path}\n${parts.signature}\n${parts.sites.join(',')}\n${parts.marker}`)
    .digest()
    .subarray(0, 6);
}

export function encodeCursor(binding: Buffer, positions: readonly Position[]): string {
  const chunks: Buffer[] = [Buffer.from([FORMAT]), binding];
  for (const p of positions) {
    if (p.kind === 'start') chunks.push(Buffer.from([TAG_START]));
    else if (p.kind === 'done') chunks.push(Buffer.from([TAG_DONE]));
    else if (isUuidLike(p.marker) && p.marker === p.marker.toLowerCase() && p.marker.length === 36) {
      chunks.push(Buffer.from([TAG_UUID]), Buffer.from(p.marker.replace(/-/g, ''), 'hex'));
    } else {
      const text = Buffer.from(p.marker, 'utf8');
      chunks.push(Buffer.from([TAG_TEXT, text.length >> 8, text.length & 0xff]), text);
    }
  }
  return Buffer.concat(chunks).toString('base64url');
}

/** The positions, or undefined when the cursor is malformed or bound to something else. */
export function decodeCursor(text: string, binding: Buffer, siteCount: number): Position[] | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const buf = Buffer.from(text, 'base64url');
  if (buf.length < 1 + binding.length || buf[0] !== FORMAT) return undefined;
  if (!buf.subarray(1, 1 + binding.length).equals(binding)) return undefined;
  const positions: Position[] = [];
  let i = 1 + binding.length;
  while (i < buf.length) {
    const tag = buf[i++];
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
    } else return undefined;
  }
  return positions.length === siteCount ? positions : undefined;
}
