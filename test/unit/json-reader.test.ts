/**
 * The one JSON reader (issue 16.2): what Python's json (Ironic) accepts, the
 * proxy reads the same way or calls unrepresentable; what it refuses, the
 * proxy refuses. Expectations below are Python 3.11's json.loads on the same
 * bytes; the validating pass agrees with JSON.parse on every standard
 * document (randomised).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_DEPTH, readJson, readJsonLoose, holdsUnrepresentable, scanJson, stripBom, UNREPRESENTABLE } from '../../src/ironic/json.js';

const b = (s: string | Buffer): Buffer => (Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'));
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** [bytes, Python's json.loads: 'ok' | 'err'] */
const PYTHON: Array<[Buffer, 'ok' | 'err']> = [
  [Buffer.concat([BOM, b('{"a": 1}')]), 'ok'],
  [Buffer.concat([BOM, BOM, b('{}')]), 'err'],
  [b('{"a": NaN}'), 'ok'],
  [b('{"a": Infinity}'), 'ok'],
  [b('{"a": -Infinity}'), 'ok'],
  [b('{"a": -NaN}'), 'err'],
  [b('{"a": nan}'), 'err'],
  [b('{"a": infinity}'), 'err'],
  [b('[1e400]'), 'ok'],
  [b('[1e308]'), 'ok'],
  [b('[1.5e-400]'), 'ok'],
  [b('[12345678901234567890]'), 'ok'],
  [b('[9007199254740993]'), 'ok'],
  [b('[1234567890123456]'), 'ok'],
  [b('{"a": "\\ud800"}'), 'ok'],
  [Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x20, 0x22, 0xff, 0x22, 0x7d]), 'err'],
  [b('{"a": 1, "a": 2}'), 'ok'],
  [b("{'a': 1}"), 'err'],
  [b('{"a": False}'), 'err'],
  [b('{"a": None}'), 'err'],
  [b("{'uuid': 'x', 'maintenance': False, 'extra': None}"), 'err'],
  [b('{"a": 1'), 'err'],
  [b('{"a": 1}}'), 'err'],
  [b('<html></html>'), 'err'],
  [b(''), 'err'],
  [b(' '), 'err'],
  [b('"x"'), 'ok'],
  [b('01'), 'err'],
  [b('-0'), 'ok'],
  [b('1.'), 'err'],
  [b('.5'), 'err'],
  [b('[1,]'), 'err'],
  [b('{"a":1,}'), 'err'],
  [b('{"a"\t:\n1\r}'), 'ok'],
  [b('{"a": "tab\there"}'), 'err'],
  [b('{"a": "\\x"}'), 'err'],
  [b('{"a": "\\u12"}'), 'err'],
  [b('\u0000{}'), 'err'],
  [b('{}\u0000'), 'err'],
  [b('[-]'), 'err'],
  [b('[1e]'), 'err'],
  [b('[1E+2]'), 'ok'],
  [b('[true, false, null]'), 'ok'],
  [b('[tru]'), 'err'],
  [b('{"__proto__": {"x": 1}}'), 'ok'],
  [b(`${'['.repeat(1001)}${']'.repeat(1001)}`), 'err'],
];

describe('JSON as Ironic reads it', () => {
  test('accepted and refused as Python json.loads', () => {
    for (const [bytes, python] of PYTHON) {
      const scan = scanJson(stripBom(bytes));
      assert.equal(scan.valid, python === 'ok', `${JSON.stringify(bytes.toString('latin1'))}: ${scan.reason ?? 'valid'}`);
    }
  });

  test('one byte-order mark is skipped: the document reads as without it', () => {
    const read = readJson(Buffer.concat([BOM, b('{"name": "dup"}')]));
    assert.deepEqual(read, { ok: true, value: { name: 'dup' } });
    assert.equal(readJson(Buffer.concat([BOM, BOM, b('{}')])).ok, false);
    assert.equal(stripBom(b('{}')).length, 2);
  });

  test('NaN, ±Infinity, numbers beyond a double and integers beyond 2^53 are unrepresentable, not broken', () => {
    for (const [text, what] of [
      ['{"extra": {"x": NaN}}', 'NaN'],
      ['[Infinity]', 'Infinity'],
      ['[-Infinity]', '-Infinity'],
      ['{"a": 1e400}', 'number 1e400'],
      ['{"a": -1E+999}', 'number -1E+999'],
      ['[12345678901234567890]', 'integer 12345678901234567890'],
      ['[9007199254740993]', 'integer 9007199254740993'],
    ] as const) {
      const read = readJson(b(text));
      assert.equal(read.ok, false, text);
      assert.equal(!read.ok && read.kind, 'unrepresentable', text);
      assert.match(!read.ok ? read.reason : '', new RegExp(what.replace(/[+]/g, '\\+')), text);
    }
    // Within a double: read as numbers.
    for (const text of ['[1e308]', '[1.5e-400]', '[9007199254740991]', '[-9007199254740991]', '[0.1000000000000000055511151231257827]', '[1234567890123456.5]']) {
      const read = readJson(b(text));
      assert.ok(read.ok, text);
      assert.deepEqual(read.value, JSON.parse(text), text);
    }
  });

  test('what JSON.parse and Python read alike is read alike: duplicate keys, lone surrogates, __proto__', () => {
    const dup = readJson(b('{"a": 1, "a": 2}'));
    assert.deepEqual(dup.ok && dup.value, { a: 2 });
    const lone = readJson(b('{"a": "\\ud800"}'));
    assert.equal(lone.ok && (lone.value as { a: string }).a, '\ud800');
    const proto = readJson(b('{"__proto__": {"x": 1}}'));
    assert.ok(proto.ok);
    assert.equal(Object.getPrototypeOf(proto.value), Object.prototype);
    assert.deepEqual(Object.keys(proto.value as object), ['__proto__']);
    assert.equal(readJson(Buffer.from([0x22, 0xff, 0x22])).ok, false, 'undecodable bytes are refused as Python refuses them');
  });

  test('nesting deeper than Python can read is refused', () => {
    assert.equal(scanJson(b(`${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}`)).valid, true);
    assert.deepEqual(scanJson(b(`${'['.repeat(MAX_DEPTH + 1)}${']'.repeat(MAX_DEPTH + 1)}`)), { valid: false, reason: `nested deeper than ${MAX_DEPTH} levels` });
    assert.equal(scanJson(b('[1 2]')).reason, 'unexpected byte at 3', 'a syntax error after a deep one is not called deep');
    assert.equal(scanJson(b(`${'{"a":'.repeat(MAX_DEPTH + 1)}1${'}'.repeat(MAX_DEPTH + 1)}`)).valid, false);
  });

  test('the top-level kind is reported', () => {
    assert.equal(scanJson(b(' {"a": 1}')).top, 'object');
    assert.equal(scanJson(b('[1]')).top, 'array');
    assert.equal(scanJson(b('"s"')).top, 'string');
    assert.equal(scanJson(b('-1')).top, 'number');
    assert.equal(scanJson(b('null')).top, 'literal');
  });

  test('readJsonLoose: what can be held is built, each unrepresentable value has a placeholder', () => {
    const doc = readJsonLoose(b('{"nodes": [{"uuid": "a", "extra": {"x": NaN}}, {"uuid": "b", "n": 12345678901234567890}, {"uuid": "c", "s": "t\\u00e9\\n", "f": 1.5, "z": null, "t": true}]}')) as {
      nodes: Array<Record<string, unknown>>;
    };
    assert.equal((doc.nodes[0]!.extra as Record<string, unknown>).x, UNREPRESENTABLE);
    assert.equal(doc.nodes[1]!.n, UNREPRESENTABLE);
    assert.deepEqual(doc.nodes[2], { uuid: 'c', s: 'té\n', f: 1.5, z: null, t: true });
    assert.deepEqual(doc.nodes.map(holdsUnrepresentable), [true, true, false]);
    assert.equal(readJsonLoose(b('{"a": False}')), undefined);
    const proto = readJsonLoose(b('{"__proto__": 1}')) as object;
    assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  });

  test('the validating pass agrees with JSON.parse on random documents and their mutations', () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const value = (depth: number): unknown => {
      switch (rand(depth > 3 ? 5 : 7)) {
        case 0:
          return rand(2) === 0 ? rand(1000) - 500 : (rand(100000) - 50000) / 64;
        case 1:
          return ['', 'a', 'é', '"q"', '\\', '\n', '\u0001', '\ud83d\ude00', 'http://x/v1'][rand(9)];
        case 2:
          return [true, false, null][rand(3)];
        case 3:
        case 4:
          return rand(3) === 0 ? `s${rand(99)}` : rand(10);
        case 5:
          return Array.from({ length: rand(4) }, () => value(depth + 1));
        default:
          return Object.fromEntries(Array.from({ length: rand(4) }, () => [`k${rand(9)}`, value(depth + 1)]));
      }
    };
    const junk = ['{', '}', '[', ']', ',', ':', '"', '\\', 'N', 'I', '-', '.', 'e', '0', ' ', 't', 'x', '\u0000', '\n'];
    for (let n = 0; n < 3000; n++) {
      let text = JSON.stringify(value(0), null, rand(2) === 0 ? undefined : 1);
      if (rand(2) === 0) {
        const at = rand(text.length + 1);
        text = rand(2) === 0 ? text.slice(0, at) + junk[rand(junk.length)] + text.slice(at) : text.slice(0, at) + text.slice(at + 1);
      }
      let parsed = true;
      try {
        JSON.parse(text);
      } catch {
        parsed = false;
      }
      const scan = scanJson(b(text));
      // NaN/Infinity made by a mutation are valid to Python but not to JSON.parse: unrepresentable, then.
      assert.equal(scan.valid && !scan.unrepresentable, parsed, JSON.stringify(text));
    }
  });
});
