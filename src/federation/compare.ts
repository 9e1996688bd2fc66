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
    const ta = Date.parse(sa);
    const tb = Date.parse(sb);
    if (ta !== tb && Number.isFinite(ta) && Number.isFinite(tb)) return ta - tb;
  }
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}
