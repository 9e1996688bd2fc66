import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { configureCursorKey, cursorBinding, decodeCursor, decodeCursorState, DONE, encodeCursor, START, type Position } from '../../src/federation/cursor.js';

const SITES = ['loc1', 'loc2', 'loc3', 'loc4', 'loc5', 'loc6'];
const PARTS = { path: '/v1/nodes', signature: 'sort_key=name&sort_dir=asc&detail=false', sites: SITES, marker: 'node-0042' };
const binding = cursorBinding(PARTS);

const MIXED: Position[] = [
  START,
  DONE,
  { kind: 'after', marker: '1be26c0b-03f2-4d2e-ae87-c02d7f33c123' },
  { kind: 'after', marker: 'compute-17.rack-3.example.com' },
  { kind: 'after', marker: '1BE26C0B-03F2-4D2E-AE87-C02D7F33C123' },
  { kind: 'after', marker: 'ünïcødé~name_1' },
];

describe('cursor encoding', () => {
  test('mixed positions round-trip exactly', () => {
    const text = encodeCursor(binding, MIXED);
    assert.deepEqual(decodeCursor(text, binding, MIXED.length), MIXED);
  });

  test('planning hints (offsets, the page boundary) round-trip, signed with the positions', () => {
    const hints = { offsets: [0, undefined, 5, 200_000, 127, 128], boundary: { value: 'node-0042', ordinal: 3 } };
    const text = encodeCursor(binding, MIXED, hints);
    assert.deepEqual(decodeCursorState(text, binding, MIXED.length), { positions: MIXED, hints });
    assert.deepEqual(decodeCursor(text, binding, MIXED.length), MIXED);
    // Sealed: the sort value (which the client's `fields` may not show) and the counts are not readable in it.
    assert.ok(!Buffer.from(text, 'base64url').includes('node-0042'), 'the boundary value is not in clear');
    const none = encodeCursor(binding, MIXED, { offsets: MIXED.map(() => undefined) });
    assert.deepEqual(decodeCursorState(none, binding, MIXED.length)?.hints, { offsets: MIXED.map(() => undefined), boundary: undefined });
    const raw = Buffer.from(text, 'base64url');
    for (let i = 1; i < raw.length; i++) {
      const edited = Buffer.from(raw);
      edited[i]! ^= 0x01;
      assert.equal(decodeCursorState(edited.toString('base64url'), binding, MIXED.length), undefined, `byte ${i} flipped`);
    }
  });

  test('hyphenless uuid and empty text markers round-trip', () => {
    const positions: Position[] = [
      { kind: 'after', marker: '1be26c0b03f24d2eae87c02d7f33c123' },
      { kind: 'after', marker: '' },
    ];
    assert.deepEqual(decodeCursor(encodeCursor(binding, positions), binding, 2), positions);
  });

  test('output is base64url only (safe in a query string without escaping)', () => {
    for (let i = 0; i < 50; i++) {
      const positions: Position[] = SITES.map((_, j) =>
        (i + j) % 3 === 0 ? START : (i + j) % 3 === 1 ? { kind: 'after', marker: randomUUID() } : { kind: 'after', marker: `h?&=/+ ${i}` },
      );
      const text = encodeCursor(binding, positions);
      assert.match(text, /^[A-Za-z0-9_-]+$/);
      assert.equal(encodeURIComponent(text), text);
    }
  });

  test('a lower-case uuid is stored compactly (16 bytes), a name as text', () => {
    const uuid = encodeCursor(binding, [{ kind: 'after', marker: randomUUID() }]);
    const name = encodeCursor(binding, [{ kind: 'after', marker: 'x'.repeat(36) }]);
    // 1 format byte + tag + 16 bytes + 16 bytes of MAC = 34 bytes = 46 base64 chars
    assert.equal(uuid.length, 46);
    assert.ok(name.length > uuid.length);
  });

  test('100 sites all after a uuid stay under 2.5 KB', () => {
    const sites = Array.from({ length: 100 }, (_, i) => `site-${i}`);
    const b = cursorBinding({ ...PARTS, sites });
    const positions: Position[] = sites.map(() => ({ kind: 'after', marker: randomUUID() }));
    const text = encodeCursor(b, positions);
    assert.ok(text.length < 2500, `cursor is ${text.length} bytes`);
    assert.deepEqual(decodeCursor(text, b, 100), positions);
  });
});

describe('cursor binding', () => {
  const text = encodeCursor(binding, MIXED);

  test('the same parts give the same binding', () => {
    assert.ok(cursorBinding({ ...PARTS, sites: [...SITES] }).equals(binding));
  });

  test('another marker beside it is refused', () => {
    assert.equal(decodeCursor(text, cursorBinding({ ...PARTS, marker: 'node-0043' }), MIXED.length), undefined);
  });

  test('other sites (other set or other order) are refused', () => {
    assert.equal(decodeCursor(text, cursorBinding({ ...PARTS, sites: [...SITES.slice(0, 5), 'loc7'] }), MIXED.length), undefined);
    assert.equal(decodeCursor(text, cursorBinding({ ...PARTS, sites: [...SITES].reverse() }), MIXED.length), undefined);
  });

  test('another listing signature or path is refused', () => {
    assert.equal(decodeCursor(text, cursorBinding({ ...PARTS, signature: 'sort_key=name&sort_dir=desc&detail=false' }), MIXED.length), undefined);
    assert.equal(decodeCursor(text, cursorBinding({ ...PARTS, path: '/v1/ports' }), MIXED.length), undefined);
  });

  test('a wrong site count is refused', () => {
    assert.equal(decodeCursor(text, binding, MIXED.length - 1), undefined);
    assert.equal(decodeCursor(text, binding, MIXED.length + 1), undefined);
  });
});

describe('cursor decoding of bad input', () => {
  const positions: Position[] = [
    { kind: 'after', marker: randomUUID() },
    { kind: 'after', marker: 'host-1.example.com' },
    { kind: 'after', marker: randomUUID() },
  ];
  const text = encodeCursor(binding, positions);

  test('every truncation is refused', () => {
    for (let n = 0; n < text.length; n++) {
      assert.equal(decodeCursor(text.slice(0, n), binding, positions.length), undefined, `truncated to ${n}`);
    }
  });

  test('truncated bytes inside a text or uuid entry are refused, whatever the site count', () => {
    const raw = Buffer.from(text, 'base64url');
    for (let n = 0; n < raw.length; n++) {
      const cut = raw.subarray(0, n).toString('base64url');
      for (const count of [0, 1, 2, 3]) {
        const decoded = cut === '' ? undefined : decodeCursor(cut, binding, count);
        if (decoded !== undefined) {
          // A cut exactly at an entry boundary is a well-formed shorter cursor: it must decode to a prefix.
          assert.deepEqual(decoded, positions.slice(0, count), `cut at ${n} bytes, count ${count}`);
        }
      }
    }
  });

  test('garbage is refused', () => {
    for (const junk of ['', '!!!!', 'not a cursor', 'abc=', '%41%42', 'AAAAAAAAAAAAAAAA', 'AQ', text + '*']) {
      assert.equal(decodeCursor(junk, binding, positions.length), undefined, JSON.stringify(junk));
    }
  });

  test('an unknown format byte or entry tag is refused', () => {
    const raw = Buffer.from(text, 'base64url');
    const wrongFormat = Buffer.from(raw);
    wrongFormat[0] = 1;
    assert.equal(decodeCursor(wrongFormat.toString('base64url'), binding, positions.length), undefined);
    const wrongTag = Buffer.from(raw);
    wrongTag[1] = 9;
    assert.equal(decodeCursor(wrongTag.toString('base64url'), binding, positions.length), undefined);
  });

  test('extra trailing bytes are refused', () => {
    const raw = Buffer.concat([Buffer.from(text, 'base64url'), Buffer.from([7, 7])]);
    assert.equal(decodeCursor(raw.toString('base64url'), binding, positions.length), undefined);
  });
});

describe('cursor signature (keyed MAC)', () => {
  const positions: Position[] = [
    { kind: 'after', marker: '1be26c0b-03f2-4d2e-ae87-c02d7f33c123' },
    { kind: 'after', marker: 'host-1.example.com' },
    DONE,
  ];

  test('an edited position is refused, whichever byte is changed', () => {
    const raw = Buffer.from(encodeCursor(binding, positions), 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const edited = Buffer.from(raw);
      edited[i] = edited[i]! ^ 0x01;
      assert.equal(decodeCursor(edited.toString('base64url'), binding, positions.length), undefined, `byte ${i} flipped`);
    }
  });

  test('a cursor built by someone without the key (valid layout, any MAC) is refused', () => {
    // What an attacker can build from public values: the format, the positions of its choice, a guessed MAC.
    const forged = Buffer.concat([Buffer.from([2, 3, 0, 9]), Buffer.from("x' OR 1", 'utf8').subarray(0, 9), Buffer.alloc(16)]);
    assert.equal(decodeCursor(forged.toString('base64url'), binding, 1), undefined);
  });

  test('replicas with the same [proxy]cursor_secret accept each other\'s cursors; another secret does not', () => {
    try {
      configureCursorKey('shared secret of the fleet');
      const text = encodeCursor(binding, positions);
      configureCursorKey('another fleet');
      assert.equal(decodeCursor(text, binding, positions.length), undefined);
      configureCursorKey('shared secret of the fleet');
      assert.deepEqual(decodeCursor(text, binding, positions.length), positions);
    } finally {
      configureCursorKey(undefined);
    }
  });

  test('without a secret, the key is random and the warning says replicas cannot share cursors', () => {
    const warnings: string[] = [];
    configureCursorKey(undefined, { warn: (m) => warnings.push(m) });
    const text = encodeCursor(binding, positions);
    configureCursorKey(undefined);
    assert.equal(decodeCursor(text, binding, positions.length), undefined, 'another process (another random key) refuses it');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /cursor_secret is not set.*replicas cannot continue each other's cursors/);
  });
});
