/**
 * The simulator's ordering and keyset pagination must be SQLite's ORDER BY and
 * oslo.db's paginate_query, including the NULL behaviour real Ironic shows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { NodeRec } from '../../src/sim/node-model.js';
import { blankNode } from '../../src/sim/seed.js';
import { compareValues, NodeStore } from '../../src/sim/store.js';

function node(id: number, fields: Partial<NodeRec> = {}): NodeRec {
  const n = blankNode(id, `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`, 'fake-hardware', `2024-01-01T00:00:${String(id).padStart(2, '0')}.000001+00:00`);
  return Object.assign(n, fields);
}

function store(nodes: NodeRec[]): NodeStore {
  const s = new NodeStore();
  for (const n of nodes) {
    s.allocateId();
    s.insert(n);
  }
  return s;
}

const ids = (ns: NodeRec[]): number[] => ns.map((n) => n.id);

/** Follows pages like a client, marker = last row of each page. */
function pageAll(s: NodeStore, sortKey: string, sortDir: 'asc' | 'desc', limit: number): number[] {
  const out: number[] = [];
  let marker: NodeRec | undefined;
  for (let i = 0; i < 1000; i++) {
    const page = s.page({ sortKey, sortDir, limit, marker });
    out.push(...ids(page));
    if (page.length < limit) return out;
    marker = page[page.length - 1];
  }
  throw new Error('no end');
}

describe('sim store: SQLite value order', () => {
  it('puts NULL lowest, numbers and booleans before text, text by code unit', () => {
    const vals: unknown[] = ['b', null, 2, 'B', true, 'a', false, 10, ''];
    const sorted = [...vals].sort(compareValues);
    assert.deepEqual(sorted, [null, false, true, 2, 10, '', 'B', 'a', 'b']);
  });
});

describe('sim store: ORDER BY key, id', () => {
  const s = store([
    node(1, { name: 'b', maintenance: true }),
    node(2, { name: null, maintenance: false }),
    node(3, { name: 'a', maintenance: true }),
    node(4, { name: 'b', maintenance: false }),
    node(5, { name: null, maintenance: false }),
  ]);

  it('asc: NULLs first, ties by id', () => {
    assert.deepEqual(ids(s.page({ sortKey: 'name', sortDir: 'asc', limit: 100 })), [2, 5, 3, 1, 4]);
  });

  it('desc: NULLs last, ties by id descending', () => {
    assert.deepEqual(ids(s.page({ sortKey: 'name', sortDir: 'desc', limit: 100 })), [4, 1, 3, 5, 2]);
  });

  it('booleans compare as 0/1', () => {
    assert.deepEqual(ids(s.page({ sortKey: 'maintenance', sortDir: 'asc', limit: 100 })), [2, 4, 5, 1, 3]);
    assert.deepEqual(pageAll(s, 'maintenance', 'desc', 2), [3, 1, 5, 4, 2]);
  });

  it('default key is the internal id', () => {
    assert.deepEqual(pageAll(s, 'id', 'asc', 2), [1, 2, 3, 4, 5]);
    assert.deepEqual(pageAll(s, 'id', 'desc', 3), [5, 4, 3, 2, 1]);
  });

  it('filters apply before the limit', () => {
    const page = s.page({ sortKey: 'id', sortDir: 'asc', limit: 2, filter: (n) => !n.maintenance });
    assert.deepEqual(ids(page), [2, 4]);
  });
});

describe('sim store: oslo.db keyset pagination with NULLs', () => {
  const s = store([
    node(1, { name: 'b' }),
    node(2, { name: null }),
    node(3, { name: 'a' }),
    node(4, { name: 'b' }),
    node(5, { name: null }),
  ]);

  it('desc: a non-NULL marker excludes every NULL row (they are never reached)', () => {
    assert.deepEqual(pageAll(s, 'name', 'desc', 1), [4, 1, 3]);
    // a page that ends on a NULL row continues with id < marker.id in key order:
    // rows repeat ([4, 1, 3, 5] then [4, 1, 3, 2] then [1])
    assert.deepEqual(pageAll(s, 'name', 'desc', 4), [4, 1, 3, 5, 4, 1, 3, 2, 1]);
  });

  it('asc: a NULL marker ignores the key and continues with id > marker.id in key order', () => {
    // first page [2]; then WHERE id > 2 ORDER BY name, id → 5 (NULL), 3, 4
    assert.deepEqual(ids(s.page({ sortKey: 'name', sortDir: 'asc', limit: 10, marker: s.getByUuid(node(2).uuid) })), [5, 3, 4]);
    // page size 1 walks 2 → 5 → (id > 5: nothing)
    assert.deepEqual(pageAll(s, 'name', 'asc', 1), [2, 5]);
  });

  it('asc with non-NULL markers works as expected', () => {
    assert.deepEqual(ids(s.page({ sortKey: 'name', sortDir: 'asc', limit: 10, marker: s.getByUuid(node(3).uuid) })), [1, 4]);
  });

  it('the marker only supplies a position: it need not match the filter', () => {
    const page = s.page({
      sortKey: 'name',
      sortDir: 'asc',
      limit: 10,
      marker: s.getByUuid(node(3).uuid),
      filter: (n) => n.id !== 3,
    });
    assert.deepEqual(ids(page), [1, 4]);
  });
});

describe('sim store: cached sort orders follow writes', () => {
  it('re-sorts after an update and after insert/remove', () => {
    const a = node(1, { name: 'x' });
    const b = node(2, { name: 'y' });
    const s = store([a, b]);
    assert.deepEqual(ids(s.page({ sortKey: 'name', sortDir: 'asc', limit: 10 })), [1, 2]);
    const before = { name: a.name, instance_uuid: a.instance_uuid };
    a.name = 'z';
    s.updated(a, before);
    assert.deepEqual(ids(s.page({ sortKey: 'name', sortDir: 'asc', limit: 10 })), [2, 1]);
    assert.equal(s.getByName('z'), a);
    assert.equal(s.getByName('x'), undefined);
    const c = node(3, { name: 'a' });
    s.allocateId();
    s.insert(c);
    assert.deepEqual(ids(s.page({ sortKey: 'name', sortDir: 'asc', limit: 10 })), [3, 2, 1]);
    s.remove(b);
    assert.deepEqual(ids(s.page({ sortKey: 'name', sortDir: 'asc', limit: 10 })), [3, 1]);
    assert.equal(s.getByUuid(b.uuid), undefined);
  });

  it('pages 10,000 nodes by a non-id key without re-sorting per page', () => {
    const nodes: NodeRec[] = [];
    for (let i = 1; i <= 10_000; i++) nodes.push(node(i, { name: `n-${(i * 7919) % 10_000}`, resource_class: i % 5 ? `rc${i % 3}` : null }));
    const s = store(nodes);
    const t0 = performance.now();
    const seen = pageAll(s, 'name', 'asc', 100);
    const ms = performance.now() - t0;
    assert.equal(seen.length, 10_000);
    assert.equal(new Set(seen).size, 10_000);
    assert.ok(ms < 2000, `paging took ${ms.toFixed(0)} ms`);
    // and the order is right
    const names = seen.map((id) => nodes[id - 1]!.name!);
    assert.deepEqual(names, [...names].sort());
  });
});
