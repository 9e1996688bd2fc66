/**
 * In-memory node table with Ironic's (SQLite) ordering and keyset pagination.
 *
 * Nodes live in insertion (internal id) order. Listing by another sort key uses
 * a sorted copy cached per key and dropped on any write, so paging through
 * 10,000 nodes costs one sort per key, not one per page.
 *
 * Ordering is `ORDER BY key <dir>, id <dir>` with SQLite semantics: NULL sorts
 * lowest (first for asc, last for desc), integers/booleans before text, text by
 * code unit. Pagination reproduces oslo.db's `paginate_query` exactly,
 * including its NULL behaviour: with a non-NULL marker value, rows whose key is
 * NULL never match (so they are skipped on later desc pages), and with a NULL
 * marker value the key is ignored and only `id > marker.id` (asc) /
 * `id < marker.id` (desc) applies.
 */

import type { NodeRec } from './node-model.js';

/** A table row: an internal id (insertion order) and columns. */
export interface Row {
  [column: string]: unknown;
  id: number;
}

export type Cmp<T extends Row = NodeRec> = (a: T, b: T) => number;

/** SQLite type class for ordering: NULL < numeric < text. */
function typeRank(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number' || typeof v === 'boolean') return 1;
  return 2;
}

/** Compares two column values the way SQLite's ORDER BY does. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) return 0;
  if (ra === 1) return Number(a) - Number(b);
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Ascending (key, id) comparator. */
export function keyIdComparator<T extends Row = NodeRec>(key: string): Cmp<T> {
  if (key === 'id') return (a, b) => a.id - b.id;
  return (a, b) => compareValues(a[key], b[key]) || a.id - b.id;
}

export interface PageQuery<T extends Row = NodeRec> {
  sortKey: string;
  sortDir: 'asc' | 'desc';
  limit: number;
  marker?: T;
  filter?: (n: T) => boolean;
}

export class NodeStore {
  /** Nodes in id order. */
  private rows: NodeRec[] = [];
  private byUuid = new Map<string, NodeRec>();
  private byName = new Map<string, NodeRec>();
  private byInstance = new Map<string, NodeRec>();
  private sorted = new Map<string, NodeRec[]>();
  private nextId = 1;

  get size(): number {
    return this.rows.length;
  }

  allocateId(): number {
    return this.nextId++;
  }

  getByUuid(uuid: string): NodeRec | undefined {
    return this.byUuid.get(uuid);
  }

  getByName(name: string): NodeRec | undefined {
    return this.byName.get(name);
  }

  getByInstance(instanceUuid: string): NodeRec | undefined {
    return this.byInstance.get(instanceUuid);
  }

  insert(n: NodeRec): void {
    if (this.rows.length && n.id <= this.rows[this.rows.length - 1]!.id) {
      throw new Error('node ids must increase');
    }
    this.rows.push(n);
    this.byUuid.set(n.uuid, n);
    if (n.name !== null) this.byName.set(n.name, n);
    if (n.instance_uuid !== null) this.byInstance.set(n.instance_uuid, n);
    this.touch();
  }

  remove(n: NodeRec): void {
    const i = this.indexOfId(n.id);
    if (i >= 0) this.rows.splice(i, 1);
    this.byUuid.delete(n.uuid);
    if (n.name !== null && this.byName.get(n.name) === n) this.byName.delete(n.name);
    if (n.instance_uuid !== null && this.byInstance.get(n.instance_uuid) === n) this.byInstance.delete(n.instance_uuid);
    this.touch();
  }

  /** Call after changing fields of a stored node; keeps the unique indexes right. */
  updated(n: NodeRec, before: { name: string | null; instance_uuid: string | null }): void {
    if (before.name !== n.name) {
      if (before.name !== null && this.byName.get(before.name) === n) this.byName.delete(before.name);
      if (n.name !== null) this.byName.set(n.name, n);
    }
    if (before.instance_uuid !== n.instance_uuid) {
      if (before.instance_uuid !== null && this.byInstance.get(before.instance_uuid) === n) {
        this.byInstance.delete(before.instance_uuid);
      }
      if (n.instance_uuid !== null) this.byInstance.set(n.instance_uuid, n);
    }
    this.touch();
  }

  /** Drops cached sort orders (any field may have changed). */
  /**
   * Bumped by every write. Anything derived from node contents (sorted orders,
   * rendered JSON) is valid only for the epoch it was computed in.
   */
  epoch = 0;

  touch(): void {
    this.epoch++;
    if (this.sorted.size) this.sorted.clear();
  }

  all(): readonly NodeRec[] {
    return this.rows;
  }

  getById(id: number | null | undefined): NodeRec | undefined {
    if (id === null || id === undefined) return undefined;
    const i = this.indexOfId(id);
    return i < 0 ? undefined : this.rows[i];
  }

  private indexOfId(id: number): number {
    let lo = 0;
    let hi = this.rows.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.rows[mid]!.id;
      if (v === id) return mid;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** All nodes in ascending (key, id) order; cached until the next write. */
  sortedBy(key: string): readonly NodeRec[] {
    if (key === 'id') return this.rows;
    let s = this.sorted.get(key);
    if (!s) {
      s = this.rows.slice().sort(keyIdComparator(key));
      this.sorted.set(key, s);
    }
    return s;
  }

  /**
   * One page, as `SELECT … WHERE <filters> AND <keyset after marker> ORDER BY
   * key, id LIMIT n` would return it.
   */
  page(q: PageQuery): NodeRec[] {
    return keysetPage(this.sortedBy(q.sortKey), q);
  }
}

/**
 * One page of rows already ordered by (sortKey, id) ascending, as `SELECT …
 * WHERE <filters> AND <keyset after marker> ORDER BY key, id LIMIT n` would
 * return it. Shared by every simulated table.
 */
export function keysetPage<T extends Row>(order: readonly T[], q: PageQuery<T>): T[] {
  const { sortKey, sortDir, limit, marker, filter } = q;
  const out: T[] = [];
  const take = (n: T): boolean => {
    if (!filter || filter(n)) out.push(n);
    return out.length >= limit;
  };
  const asc = sortDir === 'asc';
  if (!marker) {
    if (asc) {
      for (let i = 0; i < order.length; i++) if (take(order[i]!)) break;
    } else {
      for (let i = order.length - 1; i >= 0; i--) if (take(order[i]!)) break;
    }
    return out;
  }
  const mv = sortKey === 'id' ? marker.id : marker[sortKey];
  if (mv === null || mv === undefined) {
    // oslo.db drops the sort-key criterion when the marker's value is NULL:
    // the filter is only id > marker.id (asc) / id < marker.id (desc).
    if (asc) {
      for (let i = 0; i < order.length; i++) {
        const n = order[i]!;
        if (n.id > marker.id && take(n)) break;
      }
    } else {
      for (let i = order.length - 1; i >= 0; i--) {
        const n = order[i]!;
        if (n.id < marker.id && take(n)) break;
      }
    }
    return out;
  }
  const cmp = keyIdComparator<T>(sortKey);
  // first index whose (key, id) is > the marker's
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cmp(order[mid]!, marker) <= 0) lo = mid + 1;
    else hi = mid;
  }
  if (asc) {
    for (let i = lo; i < order.length; i++) {
      const n = order[i]!;
      // (key > mv) OR (key = mv AND id > mid): NULL keys never match
      if (sortKey !== 'id' && (n[sortKey] === null || n[sortKey] === undefined)) continue;
      if (take(n)) break;
    }
  } else {
    // rows strictly before the marker in ascending order
    let start = lo - 1;
    while (start >= 0 && cmp(order[start]!, marker) >= 0) start--;
    for (let i = start; i >= 0; i--) {
      const n = order[i]!;
      if (sortKey !== 'id' && (n[sortKey] === null || n[sortKey] === undefined)) break;
      if (take(n)) break;
    }
  }
  return out;
}
