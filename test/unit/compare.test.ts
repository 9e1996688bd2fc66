import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareValues } from '../../src/federation/compare.js';

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** Asserts a < b strictly, in both argument orders. */
function assertBefore(a: unknown, b: unknown): void {
  assert.equal(sign(compareValues(a, b)), -1, `${JSON.stringify(a)} should sort before ${JSON.stringify(b)}`);
  assert.equal(sign(compareValues(b, a)), 1, `${JSON.stringify(b)} should sort after ${JSON.stringify(a)}`);
}

function assertSame(a: unknown, b: unknown): void {
  assert.equal(compareValues(a, b), 0, `${JSON.stringify(a)} should equal ${JSON.stringify(b)}`);
  assert.equal(compareValues(b, a), 0);
}

describe('compareValues', () => {
  test('NULL (and a missing value) sorts first', () => {
    for (const v of [false, 0, -1e9, '', 'a', '2020-01-01T00:00:00+00:00']) {
      assertBefore(null, v);
      assertBefore(undefined, v);
    }
    assertSame(null, undefined);
    assertSame(null, null);
  });

  test('booleans: false < true, and they order like 0/1', () => {
    assertBefore(false, true);
    assertSame(true, true);
    assertSame(false, 0);
    assertSame(true, 1);
    assertBefore(true, 2);
  });

  test('numbers numerically, not as text', () => {
    assertBefore(2, 10);
    assertBefore(-5, -1);
    assertBefore(1.5, 2);
    assertSame(3, 3);
  });

  test('ISO timestamps as instants across offsets', () => {
    // 10:00+02:00 is 08:00Z, earlier than 09:00Z although its text sorts later.
    assertBefore('2024-05-01T10:00:00+02:00', '2024-05-01T09:00:00+00:00');
    assertBefore('2024-05-01T09:00:00Z', '2024-05-01T08:30:00-01:00');
    assertBefore('2024-05-02T00:30:00+00:00', '2024-05-01T23:30:00-02:00');
  });

  test('ISO timestamps with differing fractional precision', () => {
    // Python isoformat drops the fraction when microseconds are 0.
    assertBefore('2024-05-01T09:00:00+00:00', '2024-05-01T09:00:00.000001+00:00');
    assertBefore('2024-05-01T09:00:00.05+00:00', '2024-05-01T09:00:00.1+00:00');
    assertBefore('2024-05-01T09:00:00.999999+00:00', '2024-05-01T09:00:01+00:00');
    assertBefore('2024-05-01T09:00:00.123455+00:00', '2024-05-01T09:00:00.123456+00:00');
    assertBefore('2024-05-01T10:00:00.1+01:00', '2024-05-01T09:00:00.9Z');
  });

  test('sub-millisecond instants across zone spellings', () => {
    // Same instant to the millisecond; the microsecond decides.
    assertBefore('2024-05-01T09:00:00Z', '2024-05-01T09:00:00.000001Z');
    assertBefore('2024-05-01T10:00:00+01:00', '2024-05-01T09:00:00.000001+00:00');
  });

  test('strings by code point (SQLite BINARY collation = UTF-8 byte order)', () => {
    assertBefore('Z', 'a');
    assertBefore('a', 'b');
    assertBefore('node-10', 'node-9');
    assertBefore('abc', 'abcd');
    assertBefore('é', 'ø');
    // U+FF5E FULLWIDTH TILDE < U+1F600 (an astral code point), although its UTF-16 code unit is larger.
    assertBefore('\uFF5E', '\u{1F600}');
    assertBefore('x\uFFFD', 'x\u{10000}');
  });

  // (Array.prototype.sort never hands `undefined` to the comparator, so it is left out here.)
  test('mixed types: null < booleans/numbers < strings, and the order does not depend on input order', () => {
    const values: unknown[] = [
      'b',
      3,
      null,
      true,
      '2024-01-01T00:00:00+00:00',
      false,
      -2,
      'a',
      '10',
      0.5,
      '2023-12-31T23:00:00+00:00',
    ];
    const expected = [null, -2, false, 0.5, true, 3, '10', '2023-12-31T23:00:00+00:00', '2024-01-01T00:00:00+00:00', 'a', 'b'];
    const canon = (arr: unknown[]): string[] => arr.map((v) => JSON.stringify(v));
    for (let i = 0; i < 20; i++) {
      const shuffled = [...values];
      for (let j = shuffled.length - 1; j > 0; j--) {
        const k = (i * 7 + j * 13) % (j + 1);
        [shuffled[j], shuffled[k]] = [shuffled[k], shuffled[j]];
      }
      assert.deepEqual(canon(shuffled.sort(compareValues)), canon(expected));
    }
  });

  test('antisymmetric and transitive over a realistic mixed sample', () => {
    const sample: unknown[] = [
      null, false, true, 0, 1, 7, 'a', 'B', 'node-1', 'node-10', '',
      '2024-05-01T09:00:00+00:00', '2024-05-01T09:00:00.5+00:00', '2024-05-01T08:00:00+00:00',
    ];
    for (const a of sample) {
      for (const b of sample) {
        assert.equal(sign(compareValues(a, b)), 0 - sign(compareValues(b, a)), `${String(a)} vs ${String(b)}`);
        for (const c of sample) {
          if (compareValues(a, b) < 0 && compareValues(b, c) < 0) {
            assert.ok(compareValues(a, c) < 0, `${String(a)} < ${String(b)} < ${String(c)} but not ${String(a)} < ${String(c)}`);
          }
        }
      }
    }
  });
});

test('timestamps written alike are ordered by their text exactly as by their instants (randomised)', () => {
  const micros = (iso: string): number => {
    const m = /\.(\d+)/.exec(iso);
    return Date.parse(m ? iso.replace(m[0], '') : iso) * 1000 + (m ? Number(m[1]!.padEnd(6, '0').slice(0, 6)) : 0);
  };
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const zones = ['+00:00', 'Z', '+02:00', '-0530', ''];
  const make = (zone: string, digits: number): string => {
    const t = new Date(Date.UTC(2020, 0, 1) + Math.floor(rand() * 4e9)).toISOString().slice(0, 19);
    const frac = digits > 0 ? `.${String(Math.floor(rand() * 10 ** digits)).padStart(digits, '0')}` : '';
    return `${t}${frac}${zone}`;
  };
  for (let k = 0; k < 3000; k++) {
    const zone = zones[Math.floor(rand() * zones.length)]!;
    const digits = [0, 3, 6, 7][Math.floor(rand() * 4)]!;
    const a = make(zone, digits);
    const b = rand() < 0.2 ? a : make(rand() < 0.8 ? zone : zones[Math.floor(rand() * zones.length)]!, rand() < 0.8 ? digits : 6);
    assert.equal(sign(compareValues(a, b)), sign(micros(a) - micros(b)), `${a} vs ${b}`);
  }
});
