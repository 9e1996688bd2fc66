/**
 * How many items to ask each site for in a merged page's first round
 * (issue 12), from what the proxy has learned of the sites' key ranges
 * (key-stats.ts): the whole page from the one site whose range holds it,
 * each site's expected share where ranges interleave, and one item — the
 * probe — from sites whose range lies past the page.
 *
 * Exactness never depends on the plan. Every live site is asked for at least
 * one item, and the merge (merge.ts) only emits an item once every site that
 * may still hold something before it has shown its next item: a site whose
 * answer was used up before the page filled is asked again. A wrong plan (no
 * figures yet, stale figures after nodes were created or deleted) costs a
 * round trip or some items fetched and not returned, never a wrong page.
 *
 * The model: a site with known figures holds `remaining` items spread evenly
 * over [start, last] of a scalar image of the sort values (a point when they
 * map alike, e.g. names that share the site's prefix); points at the same
 * place are ordered by site ordinal, as the merge orders ties. The page ends
 * where the cumulative mass reaches the page size.
 */
import { compareCodePoints, compareValues } from './compare.js';
import type { SiteKeyStat } from './key-stats.js';

export interface PlanStream {
  ordinal: number;
  /** The stream is at its beginning (else after some item). */
  atStart: boolean;
  /** Items of the stream before its position, when known. */
  offset?: number;
  stat?: SiteKeyStat;
}

export interface PlanInput {
  streams: readonly PlanStream[];
  need: number;
  maxChunk: number;
  dir: 1 | -1;
  /** Where the previous page ended in the merged order (sort value, site ordinal), when known. */
  boundary?: { value: unknown; ordinal: number };
  /** What a site whose size is not known is guessed to hold (the median of the known ones). */
  typicalSize?: number;
  /** What to ask a stream the figures say nothing useful about: its share of the page (merge.ts chunkSize). */
  share: (need: number, active: number) => number;
}

interface Mass {
  i: number;
  ordinal: number;
  s: number;
  t: number;
  remaining: number;
  /** How far `remaining` may be off (0: counted, not estimated). */
  slack: number;
  /** Expected contribution to the page. */
  take: number;
}

/** Items to ask each stream for (aligned with `streams`), each at least 1. */
export function planChunks(p: PlanInput): number[] {
  const { streams, need, dir } = p;
  const cap = (c: number): number => Math.max(1, Math.min(p.maxChunk, Math.ceil(c)));
  const hasBoundary = p.boundary !== undefined;
  const L = p.boundary?.value;
  /** `a` sorts after `b` in the listing's order. */
  const after = (a: unknown, b: unknown): boolean => compareValues(a, b) * dir > 0;

  // Where each stream's remaining items start and end, and how many there are.
  const starts: Array<{ has: boolean; v?: unknown }> = [];
  const ends: Array<{ has: boolean; v?: unknown }> = [];
  const remaining: Array<number | undefined> = [];
  const slack: number[] = [];
  for (const st of streams) {
    const stat = st.stat;
    let start: { has: boolean; v?: unknown } = { has: false };
    if (st.atStart && stat?.hasFirst) start = { has: true, v: hasBoundary && after(L, stat.first) ? L : stat.first };
    else if (!st.atStart && hasBoundary) start = { has: true, v: L };
    starts.push(start);
    ends.push(stat?.hasLast ? { has: true, v: stat.last } : { has: false });
    let r: number | undefined;
    let off = 0;
    if (stat?.size !== undefined) {
      if (st.atStart) r = stat.size;
      else if (st.offset !== undefined) r = Math.max(0, stat.size - st.offset);
      else if (hasBoundary && stat.hasFirst && stat.hasLast) {
        // Not counted (a plain marker's own site): estimated from where the boundary lies in the site's own range.
        const own = scalarImage([stat.first, stat.last, L], dir);
        const span = own(stat.last) - own(stat.first);
        const fraction = span > 0 ? Math.min(1, Math.max(0, (own(stat.last) - own(L)) / span)) : 1;
        r = Math.round(stat.size * fraction);
        off = Math.ceil(4 * Math.sqrt(r) + 0.1 * r) + 1;
      }
    }
    if (r === undefined && stat?.size === undefined && stat?.hasLast) {
      // Not read to its end yet: guessed like the others, or (no other known) assumed to hold at least the page —
      // where ranges do not interleave the one that holds the page is asked for all of it, where they do each its
      // share. A wrong guess costs a round trip, after which the site was read to its end and its size is known.
      if (p.typicalSize !== undefined && st.atStart) r = p.typicalSize;
      else if (p.typicalSize !== undefined && st.offset !== undefined && p.typicalSize > st.offset) r = p.typicalSize - st.offset;
      else r = need;
    }
    if (stat?.size === 0) r = 0;
    remaining.push(r);
    slack.push(off);
  }

  const scalar = scalarImage([...starts, ...ends].filter((x) => x.has).map((x) => x.v), dir);
  const masses: Mass[] = [];
  const open: number[] = [];
  streams.forEach((st, i) => {
    const r = remaining[i];
    if (r === 0) return masses.push({ i, ordinal: st.ordinal, s: 0, t: 0, remaining: 0, slack: 0, take: 0 });
    if (r === undefined || !starts[i]!.has || !ends[i]!.has) return open.push(i);
    const s = scalar(starts[i]!.v);
    const t = Math.max(s, scalar(ends[i]!.v));
    masses.push({ i, ordinal: st.ordinal, s, t, remaining: r, slack: slack[i]!, take: 0 });
  });

  // Sweep the known masses in order until they fill the page: O(n log n) in the sites, so that a fleet of
  // hundreds of sites plans a page in well under a millisecond.
  const live = masses.filter((m) => m.remaining > 0);
  const xs = [...new Set(live.flatMap((m) => [m.s, m.t]))].sort((a, b) => a - b);
  const pointsAt = new Map<number, Mass[]>();
  for (const m of live) {
    if (m.s !== m.t) continue;
    const at = pointsAt.get(m.s);
    if (at) at.push(m);
    else pointsAt.set(m.s, [m]);
  }
  const spread = live.filter((m) => m.s < m.t);
  const rate = (m: Mass): number => m.remaining / (m.t - m.s);
  const byStart = [...spread].sort((p1, p2) => p1.s - p2.s);
  const byEnd = [...spread].sort((p1, p2) => p1.t - p2.t);
  let cum = 0;
  /** Where the page ends: a scalar, and for a point mass the ordinal at which it ends. */
  let endAt: { x: number; ordinal: number } | undefined;
  const partial = new Set<Mass>();
  let density = 0;
  let si = 0;
  let ei = 0;
  sweep: for (let j = 0; j < xs.length; j++) {
    const x = xs[j]!;
    // Spread masses active on [x, next x): those started at or before x and not ended at it.
    while (si < byStart.length && byStart[si]!.s === x) density += rate(byStart[si++]!);
    while (ei < byEnd.length && byEnd[ei]!.t === x) density -= rate(byEnd[ei++]!);
    for (const m of (pointsAt.get(x) ?? []).sort((p1, p2) => p1.ordinal - p2.ordinal)) {
      const take = Math.min(m.remaining, need - cum);
      m.take = take;
      cum += take;
      if (cum >= need) {
        endAt = { x, ordinal: m.ordinal };
        if (take < m.remaining) partial.add(m);
        break sweep;
      }
    }
    if (j + 1 === xs.length) break;
    const seg = density * (xs[j + 1]! - x);
    if (density > 0 && cum + seg >= need) {
      endAt = { x: x + (need - cum) / density, ordinal: Infinity };
      cum = need;
      break;
    }
    cum += seg;
  }
  // What each spread mass gives up to the page's end.
  const upTo = endAt ? endAt.x : Infinity;
  for (const m of spread) {
    if (m.s >= upTo) continue;
    m.take = upTo >= m.t ? m.remaining : (m.remaining * (upTo - m.s)) / (m.t - m.s);
    if (upTo < m.t) partial.add(m);
  }

  const chunks = new Array<number>(streams.length).fill(1);
  const known = masses.map((m) => m.take).reduce((a, b) => a + b, 0);
  // Open streams (no size or no range known) that may hold items of the page share what the known ones leave.
  const openInPage = open.filter((i) => {
    if (!endAt || !starts[i]!.has) return true;
    const s = scalar(starts[i]!.v);
    return s < endAt.x || (s === endAt.x && streams[i]!.ordinal < endAt.ordinal);
  });
  const openNeed = Math.max(1, endAt ? need : need - Math.floor(known));
  for (const i of openInPage) chunks[i] = cap(p.share(openNeed, openInPage.length + partial.size));
  // Estimated sizes before the page's end make what the later sites must give uncertain by as much.
  const uncertain = masses.reduce((u, m) => u + (m.take > 0 ? m.slack : 0), 0);
  for (const m of masses) {
    if (m.remaining === 0 || m.take <= 0) continue; // past the page, or expected to be done: the probe
    if (partial.has(m)) {
      // The one site the page ends in takes exactly what the others leave (no next item needed: the page ends in it);
      // where several interleave at the end, each gets its share with headroom, as without figures.
      const exact = partial.size === 1 && openInPage.length === 0;
      // (The share without figures bounds it: interleaving sites are never asked for more than they were before.)
      chunks[m.i] = exact
        ? cap(Math.min(need, m.take + uncertain))
        : cap(Math.min(m.remaining + 1, m.take + 4 * Math.sqrt(m.take) + 1, p.share(need, streams.length)) + uncertain);
    } else {
      // Wholly inside the page: all of it, and one more so that its answer says it ended (a short answer has no next).
      const last = endAt && m.t === endAt.x && m.ordinal === endAt.ordinal;
      chunks[m.i] = cap(Math.min(need, (last ? m.remaining : m.remaining + 1) + uncertain));
    }
  }
  return chunks;
}

/**
 * A monotone map of sort values onto numbers, for estimating how a range's
 * items spread: NULLs first, then numbers (and booleans), then strings —
 * ISO timestamps as instants, other strings by their first code units after
 * the prefix all the values share. Each kind is scaled into its own band so
 * that the order across kinds is kept. Negated for a descending order.
 */
export function scalarImage(values: unknown[], dir: 1 | -1): (v: unknown) => number {
  const strings = values.filter((v): v is string => typeof v === 'string');
  const iso = strings.length > 0 && strings.every((s) => ISO.test(s));
  let prefix = strings[0] ?? '';
  for (const s of strings) {
    let k = 0;
    while (k < prefix.length && k < s.length && prefix.charCodeAt(k) === s.charCodeAt(k)) k++;
    prefix = prefix.slice(0, k);
  }
  const inner = (v: unknown): { band: number; x: number } => {
    if (v === null || v === undefined) return { band: 0, x: 0 };
    if (typeof v === 'boolean' || typeof v === 'number') return { band: 1, x: Number(v) };
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    if (iso && ISO.test(s)) return { band: 2, x: Date.parse(s) };
    // Three UTF-16 units past the common prefix (48 bits, within a double's precision), each shifted by one so that
    // a shorter string sorts before its extensions.
    let x = 0;
    let scale = 1;
    for (let k = 0; k < 3; k++) {
      scale /= 65537;
      const c = s.length > prefix.length + k ? s.charCodeAt(prefix.length + k) + 1 : 0;
      x += c * scale;
    }
    // Strings that do not share the prefix (it is computed over the values given) still keep their order coarsely.
    if (!s.startsWith(prefix)) x = compareCodePoints(s, prefix) < 0 ? 0 : 1;
    return { band: 2, x };
  };
  const bands = new Map<number, { lo: number; hi: number }>();
  for (const v of values) {
    const { band, x } = inner(v);
    const b = bands.get(band);
    if (!b) bands.set(band, { lo: x, hi: x });
    else {
      b.lo = Math.min(b.lo, x);
      b.hi = Math.max(b.hi, x);
    }
  }
  return (v: unknown): number => {
    const { band, x } = inner(v);
    const b = bands.get(band);
    const span = b && b.hi > b.lo ? b.hi - b.lo : 1;
    const within = b ? Math.min(1, Math.max(0, (x - b.lo) / span)) : 0;
    return dir * (band * 2 + within);
  };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;
