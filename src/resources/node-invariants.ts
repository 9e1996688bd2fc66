/**
 * Invariants one Ironic keeps and independent sites cannot: a node name (and
 * uuid) is unique over all sites, and a node stays at its site — a conductor
 * group of another site is refused, never half-applied.
 */
import { badRequest, conflict, SiteErrorResponse, sitesUnavailable } from '../errors.js';
import { objectAnswer } from '../federation/ask.js';
import { fanOut } from '../federation/fanout.js';
import type { SiteClient } from '../sites/site-client.js';
import type { SiteRegistry } from '../sites/registry.js';
import type { Version } from '../ironic/microversion.js';
import { uuidKey, type WriteGuard } from '../coordination/reservations.js';
import { encodeSegment } from '../ironic/idents.js';

/**
 * Is `ident` (a name or uuid) a node at any site other than `except`?
 * A site that cannot be asked makes the answer unknown, and the write is
 * refused: a duplicate would be silent and permanent. With a `guard`, the
 * identifier is reserved first (held until the write is done), so that no
 * other write of it passes this check meanwhile.
 */
export async function assertNodeIdentFree(
  sites: readonly SiteClient[],
  ident: string,
  kind: 'name' | 'UUID',
  opts: { version: Version; requestId: string; except?: SiteClient; guard?: WriteGuard },
): Promise<void> {
  const taken = `A node with ${kind} ${ident} already exists.`;
  await opts.guard?.take(kind === 'name' ? `node:name:${ident}` : `node:uuid:${uuidKey(ident)}`, taken, `node ${kind} ${ident}`);
  const others = sites.filter((s) => s !== opts.except);
  // Found, absent (Ironic's 404), or could not ask (anything else): one reading for every engine (federation/ask.ts).
  const outcomes = await fanOut(others, async (site) =>
    objectAnswer(
      site,
      await site.request({ method: 'GET', path: `/v1/nodes/${encodeSegment(ident)}?fields=uuid`, version: opts.version, requestId: opts.requestId }),
    ),
  );
  for (const o of outcomes) {
    if (o.ok && o.value.found) throw conflict(taken);
  }
  // A client error (the identifier is invalid) is the same at every site: the write itself gets it from its site.
  const silent = outcomes.filter((o) => !o.ok && !(o.error instanceof SiteErrorResponse)).map((o) => o.site.name);
  if (silent.length > 0) throw sitesUnavailable(`Cannot verify that node ${kind} ${ident} is unused`, silent);
}

/** The site a conductor group belongs to, or Ironic's NoValidHost-style 400 naming the group. */
export function siteOfGroup(registry: SiteRegistry, group: string): SiteClient {
  const site = registry.siteForGroup(group);
  if (!site) {
    const known = registry.knownGroups().map((g) => `"${g}"`).join(', ');
    throw badRequest(
      `No valid host was found. Reason: conductor group "${group}" is not served by any site of this proxy (known groups: ${known}).`,
    );
  }
  return site;
}

export interface NodePatchEffects {
  /** The new name, when the patch sets one. */
  name?: string;
  /** The conductor group the patch moves the node to ('' when it removes it). */
  conductorGroup?: string;
}

/** Reads what a JSON Patch does to the fields with cross-site invariants; anything malformed is left to the site. */
export function patchEffects(patch: unknown): NodePatchEffects {
  const effects: NodePatchEffects = {};
  if (!Array.isArray(patch)) return effects;
  for (const op of patch) {
    if (!op || typeof op !== 'object') continue;
    const { op: verb, path, value } = op as { op?: unknown; path?: unknown; value?: unknown };
    if (typeof path !== 'string') continue;
    const field = path.replace(/\/+$/, '');
    if (field === '/name' && (verb === 'add' || verb === 'replace') && typeof value === 'string') effects.name = value;
    if (field === '/conductor_group') {
      if ((verb === 'add' || verb === 'replace') && typeof value === 'string') effects.conductorGroup = value;
      if (verb === 'remove') effects.conductorGroup = '';
    }
  }
  return effects;
}
