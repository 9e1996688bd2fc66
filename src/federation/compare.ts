/**
 * Orders field values the way the sites' databases order them, so that a
 * merge across sites agrees with each site's own ORDER BY:
 * NULL lowest (SQLite and MySQL put NULLs first ascending), booleans as 0/1,
 * numbers numerically, ISO-8601 timestamps as instants, strings by code point
 * (SQLite's BINARY collation). Objects are not sortable in Ironic and never
 * reach here.
 */

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

function rank(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'boolean' || typeof v === 'number') return 1;
  return 2;
}

export function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) return 0;
  if (ra === 1) return Number(a) - Number(b);
  const sa = typeof a === 'string' ? a : JSON.stringify(a);
  const sb = typeof b === 'string' ? b : JSON.stringify(b);
  if (ISO_DATETIME.test(sa) && ISO_DATETIME.test(sb)) {
    // Written alike (same width, same zone, whole microseconds at most): their text orders them as their instants
    // do, without parsing either (a merge of timestamp-sorted pages compares each item several times).
    if (sa.length === sb.length) {
      const zone = zoneAt(sa);
      if (zone > 0 && zone === zoneAt(sb) && zone <= 26 && sa.slice(zone) === sb.slice(zone)) return compareCodePoints(sa, sb);
    }
    const ta = instantMicros(sa);
    const tb = instantMicros(sb);
    if (Number.isFinite(ta) && Number.isFinite(tb)) return ta - tb;
  }
  return compareCodePoints(sa, sb);
}

/** Where an ISO timestamp's zone (`Z`, `+00:00`) starts, 0 when it has none (local time: parsed instead). */
function zoneAt(iso: string): number {
  let i = 19;
  if (iso.charCodeAt(i) === 0x2e) {
    i++;
    while (i < iso.length && iso.charCodeAt(i) >= 0x30 && iso.charCodeAt(i) <= 0x39) i++;
  }
  return i < iso.length ? i : 0;
}

/** Microseconds since the epoch (Ironic writes microsecond timestamps; Date only keeps milliseconds). */
function instantMicros(iso: string): number {
  const m = /\.(\d+)/.exec(iso);
  const whole = Date.parse(m ? iso.replace(m[0], '') : iso);
  const fraction = m ? Number(m[1]!.padEnd(6, '0').slice(0, 6)) : 0;
  return whole * 1000 + fraction;
}

/**
 * Code-point order (what SQLite's BINARY collation gives on UTF-8), not
 * JavaScript's UTF-16 code-unit order: the two differ only where a
 * surrogate pair meets a character in U+E000..U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca >= 0xd800 && cb >= 0xd800) {
      ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000;
      cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000;
    }
    return ca - cb;
  }
  return a.length - b.length;
}
