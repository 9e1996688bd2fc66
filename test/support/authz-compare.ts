/**
 * Comparison helpers of the authorisation differential suite
 * (test/integration/authz-differential.test.ts): normalising Ironic answers
 * so that a site's and the proxy's can be compared, a short diff, merging
 * the answers of several sites the way one Ironic would have answered, the
 * mismatch table, and a small promise pool.
 */

/** What is left of an answer after normalisation. */
export interface Answer {
  status: number;
  body: unknown;
}

const ORIGIN_RE = /https?:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):\d+/g;

/** Keys dropped at any depth: they differ between two reads of one object for reasons that are not authorisation. */
const DROPPED_KEYS = new Set(['updated_at']);

/**
 * Link hrefs (any string) lose their origin; `updated_at` goes; an
 * `error_message` (a JSON string in Ironic) is parsed and loses `debuginfo`.
 */
export function normalize(v: unknown, key?: string): unknown {
  if (typeof v === 'string') {
    if (key === 'error_message') {
      try {
        const e = JSON.parse(v) as Record<string, unknown>;
        return { faultcode: e.faultcode, faultstring: typeof e.faultstring === 'string' ? e.faultstring.replace(ORIGIN_RE, 'ORIGIN') : e.faultstring };
      } catch {
        /* not JSON: compared as text */
      }
    }
    return v.replace(ORIGIN_RE, 'ORIGIN');
  }
  if (Array.isArray(v)) return v.map((x) => normalize(x));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      if (DROPPED_KEYS.has(k)) continue;
      out[k] = normalize((v as Record<string, unknown>)[k], k);
    }
    return out;
  }
  return v;
}

/** The array-valued key of a collection answer ({"nodes": [...]}), if any. */
export function collectionKey(body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  return Object.keys(body as object).find((k) => Array.isArray((body as Record<string, unknown>)[k]));
}

function itemKey(x: unknown): string {
  if (x && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    for (const k of ['uuid', 'hostname', 'name']) if (typeof o[k] === 'string') return o[k] as string;
  }
  return JSON.stringify(x);
}

/** Items of every array in a collection answer sorted by uuid / hostname / name (merged listings have no common order). */
export function sortCollections(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const out: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const [k, v] of Object.entries(out)) {
    if (Array.isArray(v) && k !== 'links') out[k] = [...v].sort((a, b) => (itemKey(a) < itemKey(b) ? -1 : itemKey(a) > itemKey(b) ? 1 : 0));
  }
  return out;
}

/**
 * What one Ironic holding every site's objects would answer to a listing:
 * the items of all sites (when all answered 2xx), else the first site's
 * error. `sitesAgree` is false when the sites answered different statuses.
 */
export function mergeUnion(answers: Answer[]): { merged: Answer; sitesAgree: boolean } {
  const sitesAgree = answers.every((a) => a.status === answers[0]!.status);
  const first = answers[0]!;
  if (!answers.every((a) => a.status >= 200 && a.status < 300)) {
    return { merged: answers.find((a) => a.status >= 300) ?? first, sitesAgree };
  }
  const key = answers.map((a) => collectionKey(a.body)).find((k) => k !== undefined);
  if (!key) return { merged: first, sitesAgree };
  const items: unknown[] = [];
  for (const a of answers) items.push(...(((a.body as Record<string, unknown>)[key] as unknown[]) ?? []));
  return { merged: { status: first.status, body: { ...(first.body as object), [key]: items } }, sitesAgree };
}

/**
 * Drivers as the proxy documents them (src/resources/drivers.ts): the union
 * by name, `hosts` of every site that has the driver, in site order.
 */
export function mergeDrivers(answers: Answer[]): { merged: Answer; sitesAgree: boolean } {
  const sitesAgree = answers.every((a) => a.status === answers[0]!.status);
  if (!answers.every((a) => a.status === 200)) return { merged: answers.find((a) => a.status !== 200)!, sitesAgree };
  const mergeOne = (ds: Record<string, unknown>[]): Record<string, unknown> => {
    const hosts = ds.flatMap((d) => (Array.isArray(d.hosts) ? (d.hosts as string[]) : []));
    return { ...ds[0]!, hosts };
  };
  const bodies = answers.map((a) => a.body as Record<string, unknown>);
  if (Array.isArray(bodies[0]!.drivers)) {
    const byName = new Map<string, Record<string, unknown>[]>();
    for (const b of bodies) for (const d of b.drivers as Record<string, unknown>[]) byName.set(d.name as string, [...(byName.get(d.name as string) ?? []), d]);
    return { merged: { status: 200, body: { ...bodies[0]!, drivers: [...byName.values()].map(mergeOne) } }, sitesAgree };
  }
  return { merged: { status: 200, body: mergeOne(bodies) }, sitesAgree };
}

/** Shards as one Ironic holding every node would count them: per shard name, the sum of the sites' counts. */
export function mergeShards(answers: Answer[]): { merged: Answer; sitesAgree: boolean } {
  const sitesAgree = answers.every((a) => a.status === answers[0]!.status);
  if (!answers.every((a) => a.status === 200)) return { merged: answers.find((a) => a.status !== 200)!, sitesAgree };
  const counts = new Map<string, number>();
  for (const a of answers) {
    for (const sh of ((a.body as { shards?: Array<{ name: string; count: number }> }).shards ?? [])) counts.set(sh.name, (counts.get(sh.name) ?? 0) + sh.count);
  }
  return { merged: { status: 200, body: { shards: [...counts].map(([name, count]) => ({ count, name })) } }, sitesAgree };
}

/** Up to `max` differences between two normalised values, as `path: site=… proxy=…`. */
export function diff(a: unknown, b: unknown, max = 4, at = '$', out: string[] = []): string[] {
  if (out.length >= max) return out;
  if (JSON.stringify(a) === JSON.stringify(b)) return out;
  const show = (v: unknown): string => {
    const s = v === undefined ? '(absent)' : JSON.stringify(v);
    return s.length > 90 ? s.slice(0, 87) + '...' : s;
  };
  if (Array.isArray(a) && Array.isArray(b)) {
    const ka = a.map(itemKey);
    const kb = b.map(itemKey);
    const missing = ka.filter((k) => !kb.includes(k));
    const extra = kb.filter((k) => !ka.includes(k));
    if (missing.length || extra.length) {
      out.push(`${at}: ${a.length} vs ${b.length} items${missing.length ? `; proxy lacks ${missing.join(' ')}` : ''}${extra.length ? `; proxy adds ${extra.join(' ')}` : ''}`);
      return out;
    }
    for (let i = 0; i < a.length && out.length < max; i++) diff(a[i], b[i], max, `${at}[${ka[i]?.length && ka[i]!.length < 40 ? ka[i] : i}]`, out);
    return out;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
    for (const k of keys) {
      if (out.length >= max) break;
      diff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], max, `${at}.${k}`, out);
    }
    return out;
  }
  out.push(`${at}: site=${show(a)} proxy=${show(b)}`);
  return out;
}

/** Runs `fn` over `items` with at most `n` at a time; results in order. */
export async function pool<T, R>(items: readonly T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return results;
}

// ---------------------------------------------------------------------------
// The mismatch table.

export type MismatchKind =
  /** A read whose status or normalised body differs. */
  | 'read'
  /** A write Ironic refused: the proxy's status or body differs (but it refused too). */
  | 'write-refused'
  /** A write Ironic refused and the proxy did NOT refuse (2xx/3xx). */
  | 'PROXY-ALLOWED'
  /** A write the proxy made changed the object at the site although Ironic refused it. */
  | 'SITE-CHANGED'
  /** A write Ironic allows: the proxy's status differs. */
  | 'write-allowed'
  /** A request form the proxy may refuse: it served something Ironic refused, or served it differently. */
  | 'attack-form'
  /** The proxy's 2xx answer carries a fixture the user cannot see directly. */
  | 'LEAK'
  /** The sites disagree (harness problem), or a request failed at transport level. */
  | 'harness';

export interface Mismatch {
  kind: MismatchKind;
  user: string;
  method: string;
  /** Path template (placeholders, readable). */
  path: string;
  version: string;
  site: string;
  proxy: string;
  summary: string;
  /** Longer detail for the file. */
  detail?: string;
}

function pad(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s.padEnd(n);
}

/** One row per (kind, request, outcome), users collapsed into one cell. */
export function groupMismatches(ms: Mismatch[]): Array<Omit<Mismatch, 'user' | 'detail'> & { users: string[] }> {
  const groups = new Map<string, Omit<Mismatch, 'user' | 'detail'> & { users: string[] }>();
  for (const m of ms) {
    const key = [m.kind, m.method, m.path, m.version, m.site, m.proxy, m.summary].join('\u0000');
    const g = groups.get(key);
    if (g) g.users.push(m.user);
    else groups.set(key, { kind: m.kind, method: m.method, path: m.path, version: m.version, site: m.site, proxy: m.proxy, summary: m.summary, users: [m.user] });
  }
  const order: MismatchKind[] = ['SITE-CHANGED', 'PROXY-ALLOWED', 'LEAK', 'attack-form', 'write-refused', 'write-allowed', 'read', 'harness'];
  return [...groups.values()].sort(
    (a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.path.localeCompare(b.path) || a.method.localeCompare(b.method) || a.version.localeCompare(b.version),
  );
}

export function renderTable(ms: Mismatch[], opts: { width?: number; maxRows?: number } = {}): string {
  const rows = groupMismatches(ms);
  const shown = opts.maxRows !== undefined ? rows.slice(0, opts.maxRows) : rows;
  const head = `${pad('kind', 14)} ${pad('users', 30)} ${pad('method', 6)} ${pad('path', 62)} ${pad('ver', 4)} ${pad('site', 5)} ${pad('proxy', 5)} body diff`;
  const lines = [head, '-'.repeat(Math.min(opts.width ?? 200, head.length + 40))];
  for (const r of shown) {
    lines.push(
      `${pad(r.kind, 14)} ${pad(r.users.join(','), 30)} ${pad(r.method, 6)} ${pad(r.path, 62)} ${pad(r.version, 4)} ${pad(r.site, 5)} ${pad(r.proxy, 5)} ${r.summary}`,
    );
  }
  if (shown.length < rows.length) lines.push(`... ${rows.length - shown.length} more rows (see the file)`);
  return lines.join('\n');
}
