/**
 * Drift between sites in the global objects (chassis, deploy templates,
 * runbooks): every site should hold every object, with the same UUID and the
 * same fields. A site that was down, restored from a backup, or newly added
 * does not. `checkDrift` reads every site's full collection and compares by
 * UUID; `repairDrift` brings the sites in line; the proxy runs the check (never
 * the repair) at start-up, and `ironic-proxy-reconcile` runs both.
 *
 * The repair rule (docs/federation/global-objects.md):
 * - Presence wins: an object held by any reachable site is created, with its
 *   UUID, at the sites that lack it. The proxy never deletes half-way
 *   silently (a partial delete is answered with a 503 naming the sites that
 *   still hold it, and the client repeats it), while a site that missed
 *   creates — or joins the federation — must receive them; so a missing copy
 *   is treated as a missed create, never as a missed delete.
 * - Fields follow the majority of the sites that hold the object (field by
 *   field); a tie goes to the copy at the lowest-ordinal site, the site that
 *   listings are read from, i.e. what clients have been seeing.
 * - A site that does not answer is reported and left alone: nothing is
 *   concluded about it.
 */
import type { Logger } from './log.js';
import { CHASSIS } from './resources/chassis.js';
import { DEPLOY_TEMPLATES } from './resources/deploy-templates.js';
import { RUNBOOKS } from './resources/runbooks.js';
import type { GlobalFamily } from './federation/replicate.js';
import { reversePatch } from './federation/replicate.js';
import { newRequestId } from './http/request-id.js';
import { atLeast, type Version } from './ironic/microversion.js';
import type { SiteClient, SiteResponse } from './sites/site-client.js';
import { PageScan, type ScanLimits } from './federation/scan.js';

type Obj = Record<string, unknown>;

export const GLOBAL_FAMILIES: readonly GlobalFamily[] = [CHASSIS, DEPLOY_TEMPLATES, RUNBOOKS];

export interface FieldDrift {
  field: string;
  /** Each distinct value and the sites holding it. */
  values: Array<{ sites: string[]; value: unknown }>;
  /** What the repair sets everywhere. */
  chosen: unknown;
}

export interface ObjectDrift {
  family: string;
  uuid: string;
  name?: string;
  heldBy: string[];
  missingAt: string[];
  differing: FieldDrift[];
  /** The object as the repair writes it (the chosen value of every field). */
  target: Obj;
}

export interface DriftReport {
  families: string[];
  sites: string[];
  unreachable: Array<{ site: string; error: string }>;
  drift: ObjectDrift[];
}

export interface RepairAction {
  family: string;
  uuid: string;
  site: string;
  action: 'create' | 'update';
  ok: boolean;
  detail: string;
}

export interface DriftOptions {
  /** The version the requests use (the sites' common maximum). */
  version: Version;
  requestId?: string;
  /** Bounds of the loop over each site's pages (default: [proxy]scan_max_pages and scan_timeout's defaults). */
  scan?: ScanLimits;
}

/** The families a set of sites serves at `version`. */
export function familiesAt(version: Version): GlobalFamily[] {
  return GLOBAL_FAMILIES.filter((f) => atLeast(version, f.sinceMinor));
}

class SiteReadError extends Error {}

/** Global objects one site may hold in a drift check before it counts as flooding the proxy (they are few by nature). */
const MAX_GLOBAL_OBJECTS = 100_000;

async function readAll(site: SiteClient, family: GlobalFamily, opts: DriftOptions): Promise<Obj[]> {
  const out: Obj[] = [];
  let marker: string | undefined;
  const detail = family === CHASSIS ? `${family.collectionPath}/detail?` : `${family.collectionPath}?detail=True&`;
  // Bounded (pages, time, pages that lead back), and so is what is kept in memory.
  const scan = new PageScan(site.name, `reading ${family.collectionPath}`, opts.scan);
  for (;;) {
    scan.next(marker);
    const res = await site.request({
      method: 'GET',
      path: `${detail}limit=1000${marker ? `&marker=${marker}` : ''}`,
      version: opts.version,
      requestId: opts.requestId ?? newRequestId(),
    });
    if (res.status !== 200) throw new SiteReadError(`${family.collectionPath} answered ${res.status}`);
    let doc: Obj;
    try {
      doc = JSON.parse(res.body.toString('utf8')) as Obj;
    } catch {
      throw new SiteReadError(`${family.collectionPath} answered something that is not JSON`);
    }
    const items = doc[family.collectionKey];
    if (!Array.isArray(items)) throw new SiteReadError(`${family.collectionPath} answered without "${family.collectionKey}"`);
    if (out.length + items.length > MAX_GLOBAL_OBJECTS) throw new SiteReadError(`${family.collectionPath} has more than ${MAX_GLOBAL_OBJECTS} objects`);
    out.push(...(items as Obj[]));
    if (typeof doc.next !== 'string' || items.length === 0) return out;
    marker = String((items[items.length - 1] as Obj).uuid);
  }
}

/** A canonical text of a JSON value (object keys sorted), to compare values. */
export function canonical(v: unknown): string {
  if (v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Obj)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export async function checkDrift(sites: readonly SiteClient[], opts: DriftOptions): Promise<DriftReport> {
  const ordered = [...sites].sort((a, b) => a.ordinal - b.ordinal);
  const families = familiesAt(opts.version);
  const unreachable: DriftReport['unreachable'] = [];
  const reads = await Promise.all(
    ordered.map(async (site) => {
      try {
        const byFamily = new Map<GlobalFamily, Obj[]>();
        for (const f of families) byFamily.set(f, await readAll(site, f, opts));
        return { site, byFamily };
      } catch (err) {
        unreachable.push({ site: site.name, error: (err as Error).message });
        return undefined;
      }
    }),
  );
  const answered = reads.filter((r): r is NonNullable<typeof r> => r !== undefined);
  const drift: ObjectDrift[] = [];
  for (const family of families) {
    const copies = new Map<string, Array<{ site: SiteClient; obj: Obj }>>();
    for (const r of answered) {
      for (const obj of r.byFamily.get(family) ?? []) {
        const uuid = String(obj.uuid);
        let list = copies.get(uuid);
        if (!list) copies.set(uuid, (list = []));
        list.push({ site: r.site, obj });
      }
    }
    for (const [uuid, held] of copies) {
      const missingAt = answered.filter((r) => !held.some((h) => h.site === r.site)).map((r) => r.site.name);
      const differing: FieldDrift[] = [];
      const target: Obj = { uuid };
      for (const field of family.fields) {
        const groups = new Map<string, { sites: SiteClient[]; value: unknown }>();
        for (const h of held) {
          const k = canonical(h.obj[field]);
          const g = groups.get(k);
          if (g) g.sites.push(h.site);
          else groups.set(k, { sites: [h.site], value: h.obj[field] });
        }
        // Majority; a tie goes to the group with the lowest-ordinal site (held is in ordinal order).
        const chosen = [...groups.values()].reduce((best, g) => (g.sites.length > best.sites.length ? g : best));
        target[field] = chosen.value;
        if (groups.size > 1) {
          differing.push({ field, values: [...groups.values()].map((g) => ({ sites: g.sites.map((s) => s.name), value: g.value })), chosen: chosen.value });
        }
      }
      if (missingAt.length === 0 && differing.length === 0) continue;
      const name = typeof target.name === 'string' ? target.name : undefined;
      drift.push({ family: family.collectionKey, uuid, name, heldBy: held.map((h) => h.site.name), missingAt, differing, target });
    }
  }
  return { families: families.map((f) => f.collectionKey), sites: ordered.map((s) => s.name), unreachable, drift };
}

export async function repairDrift(sites: readonly SiteClient[], report: DriftReport, opts: DriftOptions): Promise<RepairAction[]> {
  const actions: RepairAction[] = [];
  const byName = new Map(sites.map((s) => [s.name, s]));
  for (const d of report.drift) {
    const family = GLOBAL_FAMILIES.find((f) => f.collectionKey === d.family)!;
    const jobs: Array<Promise<RepairAction>> = [];
    for (const siteName of d.missingAt) {
      const body: Obj = { uuid: d.uuid };
      for (const f of family.fields) if (d.target[f] !== null && d.target[f] !== undefined) body[f] = d.target[f];
      jobs.push(act(byName.get(siteName)!, family, d, 'create', 'POST', family.collectionPath, body, 201, opts));
    }
    const stale = new Map<string, string[]>();
    for (const fd of d.differing) {
      for (const v of fd.values) {
        if (canonical(v.value) === canonical(fd.chosen)) continue;
        for (const s of v.sites) stale.set(s, [...(stale.get(s) ?? []), fd.field]);
      }
    }
    for (const [siteName, fields] of stale) {
      const patch = reversePatch(fields, d.target);
      jobs.push(act(byName.get(siteName)!, family, d, 'update', 'PATCH', `${family.collectionPath}/${d.uuid}`, patch, 200, opts));
    }
    actions.push(...(await Promise.all(jobs)));
  }
  return actions;
}

async function act(
  site: SiteClient,
  family: GlobalFamily,
  d: ObjectDrift,
  action: RepairAction['action'],
  method: string,
  path: string,
  body: unknown,
  expect: number,
  opts: DriftOptions,
): Promise<RepairAction> {
  const base = { family: family.collectionKey, uuid: d.uuid, site: site.name, action };
  let res: SiteResponse;
  try {
    res = await site.request({
      method,
      path,
      version: opts.version,
      requestId: opts.requestId ?? newRequestId(),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (err) {
    return { ...base, ok: false, detail: (err as Error).message };
  }
  const ok = res.status === expect;
  return { ...base, ok, detail: ok ? (action === 'create' ? 'created' : `set ${(body as Obj[]).map((o) => String(o.path).slice(1)).join(', ')}`) : `answered ${res.status}: ${res.body.toString('utf8').slice(0, 300)}` };
}

/** One line per finding, for people. */
export function formatDrift(report: DriftReport): string[] {
  const lines: string[] = [];
  for (const u of report.unreachable) lines.push(`site ${u.site}: not checked (${u.error})`);
  for (const d of report.drift) {
    const label = `${d.family} ${d.uuid}${d.name ? ` (${d.name})` : ''}`;
    if (d.missingAt.length > 0) lines.push(`${label}: missing at ${d.missingAt.join(', ')} (held by ${d.heldBy.join(', ')})`);
    for (const f of d.differing) {
      lines.push(`${label}: ${f.field} differs: ${f.values.map((v) => `${v.sites.join('+')}=${JSON.stringify(v.value)}`).join(' / ')}`);
    }
  }
  return lines;
}

/**
 * The start-up check: reports drift as a warning (no repair), never fails
 * start-up. Call it once the sites' versions are known, e.g. in start.ts
 * after `registry.refreshAll()`: `void startupDriftCheck(services.registry.sites, services.internalVersion(), log)`.
 */
export async function startupDriftCheck(sites: readonly SiteClient[], version: Version, log: Logger, scan?: ScanLimits): Promise<DriftReport | undefined> {
  try {
    const report = await checkDrift(sites, { version, scan });
    if (report.unreachable.length > 0) {
      log.warn({ sites: report.unreachable }, 'global objects (chassis, deploy templates, runbooks) not checked for drift at some sites');
    }
    if (report.drift.length > 0) {
      log.warn(
        { drift: formatDrift(report).filter((l) => !l.startsWith('site ')), objects: report.drift.length },
        'global objects differ between sites; run ironic-proxy-reconcile --repair to bring them in line',
      );
    }
    return report;
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'global object drift check failed');
    return undefined;
  }
}
