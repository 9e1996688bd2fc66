/**
 * The one JSON reader for every byte the proxy interprets — client bodies
 * and site answers — with Ironic's acceptance rules: Python's `json` as
 * webob hands it a request body (and as Ironic writes its answers).
 *
 * - One leading UTF-8 byte-order mark is skipped (Python: accepted; a second
 *   one is an error); the rest must be valid UTF-8 (Python refuses
 *   undecodable bytes).
 * - `NaN`, `Infinity`, `-Infinity`, number literals beyond a double
 *   (`1e400`) and integers beyond 2^53 are JSON to Python, which keeps them
 *   exactly. JavaScript cannot: `JSON.parse` refuses the words, turns
 *   `1e400` into Infinity (written back as `null`) and rounds large
 *   integers. The reader tells such documents apart ("unrepresentable")
 *   from broken ones ("syntax"), so that a client body holding them is
 *   refused before any site is touched, and a site document holding them is
 *   that site's 502 for that object (not a broken site).
 * - Everything else reads as `JSON.parse` reads it, which agrees with
 *   Python: duplicate keys (the last wins), escaped lone surrogates; nesting
 *   deeper than MAX_DEPTH is refused (Python's recursion gives up near it).
 *
 * `scanJson` checks a document without building it (the relay's hot path:
 * no allocation, a few µs for a node); `readJson` builds it; `readJsonLoose`
 * builds what it can, with a placeholder for each unrepresentable value (a
 * listing page: the other items stay usable).
 */
import { isUtf8 } from 'node:buffer';

export type JsonReading =
  | { ok: true; value: unknown }
  /** Not JSON to Python either (broken syntax, undecodable bytes): whoever reads it refuses it. */
  | { ok: false; kind: 'syntax'; reason: string }
  /** JSON to Python, holding values the proxy cannot carry faithfully (named in `reason`). */
  | { ok: false; kind: 'unrepresentable'; reason: string };

export interface JsonScan {
  /** Python's json reads it (NaN and friends included). */
  valid: boolean;
  /** Why it is not valid. */
  reason?: string;
  /** The first value it holds that the proxy cannot carry (e.g. `NaN`, `integer 18446744073709551615`). */
  unrepresentable?: string;
  /** The kind of the top-level value. */
  top?: 'object' | 'array' | 'string' | 'number' | 'literal';
  /**
   * With `ids`: the top-level object's "uuid" and "name" — the string, null
   * when the key holds anything else, undefined when there is no such key.
   */
  uuid?: string | null;
  name?: string | null;
}

/** What stands for an unrepresentable value in `readJsonLoose`'s result. */
export const UNREPRESENTABLE: unique symbol = Symbol('unrepresentable JSON value');

/**
 * Python's json gives up on deep nesting (RecursionError: below 996 levels,
 * fewer inside Ironic's own call stack); the proxy draws the line here.
 */
export const MAX_DEPTH = 512;

const BOM_0 = 0xef;
const BOM_1 = 0xbb;
const BOM_2 = 0xbf;

/** The bytes without one leading UTF-8 byte-order mark (as Python reads them); the same buffer when there is none. */
export function stripBom(bytes: Buffer): Buffer {
  return bytes.length >= 3 && bytes[0] === BOM_0 && bytes[1] === BOM_1 && bytes[2] === BOM_2 ? bytes.subarray(3) : bytes;
}

/**
 * Checks a document as Python's json would read it, without building it.
 * `bytes` must already be without its byte-order mark (see stripBom).
 */
export function scanJson(bytes: Uint8Array, opts: { ids?: boolean } = {}): JsonScan {
  if (!isUtf8(bytes)) return { valid: false, reason: 'not UTF-8' };
  unrepresentable = undefined;
  tooDeep = false;
  capturing = opts.ids === true;
  capturedKey = 0;
  topUuid = topName = undefined;
  const at = validate(bytes);
  capturing = false;
  capturedKey = 0;
  if (at >= 0) {
    const reason = tooDeep ? `nested deeper than ${MAX_DEPTH} levels` : at >= bytes.length ? 'unexpected end' : `unexpected byte at ${at}`;
    return { valid: false, reason };
  }
  const scan: JsonScan = { valid: true, top: topKind(bytes), unrepresentable };
  if (opts.ids) {
    scan.uuid = topUuid;
    scan.name = topName;
  }
  return scan;
}

/** Reads a document as Ironic would (one leading byte-order mark skipped). */
export function readJson(bytes: Buffer): JsonReading {
  const body = stripBom(bytes);
  const scan = scanJson(body);
  if (!scan.valid) return { ok: false, kind: 'syntax', reason: scan.reason ?? 'not JSON' };
  if (scan.unrepresentable) return { ok: false, kind: 'unrepresentable', reason: `it holds ${scan.unrepresentable}` };
  // Valid, and nothing JSON.parse reads differently: its (native) reading is Python's.
  return { ok: true, value: JSON.parse(body.toString('utf8')) };
}

/**
 * Reads a document that Python reads, building what JavaScript can hold and
 * UNREPRESENTABLE in place of each value it cannot; undefined when it is not
 * JSON at all. Slow (a parser in JavaScript): for the rare document that
 * readJson calls unrepresentable.
 */
export function readJsonLoose(bytes: Buffer): unknown {
  const body = stripBom(bytes);
  if (!isUtf8(body)) return undefined;
  const s = new Builder(body);
  try {
    s.ws();
    const value = s.value(0);
    s.ws();
    if (s.i !== body.length) return undefined;
    return value;
  } catch (err) {
    if (err instanceof ScanError) return undefined;
    throw err;
  }
}

/** Does this value (read by readJsonLoose) hold an unrepresentable value anywhere? */
export function holdsUnrepresentable(value: unknown): boolean {
  if (value === UNREPRESENTABLE) return true;
  if (Array.isArray(value)) return value.some(holdsUnrepresentable);
  if (value !== null && typeof value === 'object') return Object.values(value).some(holdsUnrepresentable);
  return false;
}

class ScanError extends Error {}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= ZERO && c <= NINE;

/** 1 for the bytes a string may hold as they are (not a quote, a backslash or a control character). */
const STRING_PLAIN = new Uint8Array(256).map((_, c) => (c >= 0x20 && c !== QUOTE && c !== BACKSLASH ? 1 : 0));
/** 1 for hexadecimal digits. */
const HEX = new Uint8Array(256).map((_, c) => ((c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66) ? 1 : 0));

/** Integers up to this many digits are exact in a double (2^53 has 16 digits). */
const SAFE_DIGITS = 15;

/** A recursive-descent reader that builds the document (readJsonLoose: the rare, slow path). */
class Builder {
  i = 0;

  constructor(readonly b: Uint8Array) {}

  fail(what: string): never {
    throw new ScanError(`${what} at byte ${this.i}`);
  }

  ws(): void {
    const b = this.b;
    let i = this.i;
    for (;;) {
      const c = b[i];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.i = i;
  }

  value(depth: number): unknown {
    const c = this.b[this.i];
    switch (c) {
      case OPEN_BRACE:
        return this.object(depth + 1);
      case OPEN_BRACKET:
        return this.array(depth + 1);
      case QUOTE:
        return this.string();
      case 0x74: // t
        return this.word('true', true);
      case 0x66: // f
        return this.word('false', false);
      case 0x6e: // n
        return this.word('null', null);
      case 0x4e: // N
        return this.special('NaN');
      case 0x49: // I
        return this.special('Infinity');
      case MINUS:
        if (this.b[this.i + 1] === 0x49) {
          this.i++;
          return this.special('Infinity');
        }
        return this.number();
      default:
        if (isDigit(c)) return this.number();
        return this.fail(c === undefined ? 'unexpected end' : 'expecting a value');
    }
  }

  private word(text: string, value: unknown): unknown {
    const b = this.b;
    for (let k = 0; k < text.length; k++) {
      if (b[this.i + k] !== text.charCodeAt(k)) this.fail('expecting a value');
    }
    this.i += text.length;
    return value;
  }

  private special(text: string): unknown {
    this.word(text, undefined);
    return UNREPRESENTABLE;
  }

  private object(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail('nested too deeply');
    const b = this.b;
    const out: Record<string, unknown> = {};
    this.i++;
    this.ws();
    if (b[this.i] === CLOSE_BRACE) {
      this.i++;
      return out;
    }
    for (;;) {
      if (b[this.i] !== QUOTE) this.fail('expecting a property name in double quotes');
      const key = this.string() as string;
      this.ws();
      if (b[this.i] !== COLON) this.fail("expecting ':'");
      this.i++;
      this.ws();
      const v = this.value(depth);
      // As JSON.parse: "__proto__" is an own property like any other; the last duplicate wins.
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.ws();
      const c = b[this.i];
      if (c === COMMA) {
        this.i++;
        this.ws();
        continue;
      }
      if (c === CLOSE_BRACE) {
        this.i++;
        return out;
      }
      this.fail("expecting ',' or '}'");
    }
  }

  private array(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail('nested too deeply');
    const b = this.b;
    const out: unknown[] = [];
    this.i++;
    this.ws();
    if (b[this.i] === CLOSE_BRACKET) {
      this.i++;
      return out;
    }
    for (;;) {
      const v = this.value(depth);
      out.push(v);
      this.ws();
      const c = b[this.i];
      if (c === COMMA) {
        this.i++;
        this.ws();
        continue;
      }
      if (c === CLOSE_BRACKET) {
        this.i++;
        return out;
      }
      this.fail("expecting ',' or ']'");
    }
  }

  private string(): unknown {
    const b = this.b;
    const start = this.i;
    let i = start + 1;
    let escaped = false;
    for (;;) {
      // The common bytes of a string cost one table look-up each.
      while (STRING_PLAIN[b[i]!] === 1) i++;
      const c = b[i];
      if (c === QUOTE) break;
      if (c === undefined) {
        this.i = i;
        this.fail('unterminated string');
      }
      if (c === BACKSLASH) {
        escaped = true;
        const e = b[i + 1];
        if (e === 0x75 /* u */) {
          for (let k = 2; k < 6; k++) {
            if (HEX[b[i + k]!] !== 1) {
              this.i = i;
              this.fail('invalid \\u escape');
            }
          }
          i += 6;
          continue;
        }
        if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          i += 2;
          continue;
        }
        this.i = i;
        this.fail('invalid escape');
      }
      // Python's json (strict) refuses raw control characters in strings, as JSON.parse does.
      this.i = i;
      this.fail('control character in string');
    }
    this.i = i + 1;
    const raw = Buffer.from(b.buffer, b.byteOffset + start, i + 1 - start);
    return escaped ? (JSON.parse(raw.toString('utf8')) as string) : raw.toString('utf8', 1, raw.length - 1);
  }

  private number(): unknown {
    const b = this.b;
    const start = this.i;
    let i = start;
    if (b[i] === MINUS) i++;
    if (b[i] === ZERO) i++;
    else if (isDigit(b[i])) while (isDigit(b[i])) i++;
    else {
      this.i = i;
      this.fail('expecting a digit');
    }
    const intEnd = i;
    let plain = true;
    let exponent = false;
    if (b[i] === DOT) {
      plain = false;
      i++;
      if (!isDigit(b[i])) {
        this.i = i;
        this.fail('expecting a digit after the decimal point');
      }
      while (isDigit(b[i])) i++;
    }
    if (b[i] === LOWER_E || b[i] === UPPER_E) {
      plain = false;
      exponent = true;
      i++;
      if (b[i] === PLUS || b[i] === MINUS) i++;
      if (!isDigit(b[i])) {
        this.i = i;
        this.fail('expecting a digit in the exponent');
      }
      while (isDigit(b[i])) i++;
    }
    this.i = i;
    const digits = intEnd - start - (b[start] === MINUS ? 1 : 0);
    const text = Buffer.from(b.buffer, b.byteOffset + start, i - start).toString('latin1');
    if ((digits > SAFE_DIGITS || exponent) && numberProblem(text, plain)) return UNREPRESENTABLE;
    return Number(text);
  }
}

function topKind(b: Uint8Array): JsonScan['top'] {
  let i = 0;
  while (WS[b[i]!] === 1) i++;
  const c = b[i];
  if (c === OPEN_BRACE) return 'object';
  if (c === OPEN_BRACKET) return 'array';
  if (c === QUOTE) return 'string';
  if (c === MINUS || isDigit(c) || c === 0x4e /* N */ || c === 0x49 /* I */) return 'number';
  return 'literal';
}

const WS = new Uint8Array(256).map((_, c) => (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 ? 1 : 0));
const DIGIT = new Uint8Array(256).map((_, c) => (c >= ZERO && c <= NINE ? 1 : 0));
const CONTAINER_OBJECT = 1;
const CONTAINER_ARRAY = 2;
/** The open containers of the document being validated (validation is synchronous: one stack serves all). */
const stack = new Uint8Array(MAX_DEPTH + 1);
/** What validate() found that the proxy cannot carry. */
let unrepresentable: string | undefined;
/** Whether validate() notes the top-level uuid and name (scanJson's `ids`), the key being read, and what was found. */
let capturing = false;
let capturedKey = 0;
let topUuid: string | null | undefined;
let topName: string | null | undefined;
const KEY_UUID = 1;
const KEY_NAME = 2;
const UUID_KEY = Buffer.from('"uuid"');
const NAME_KEY = Buffer.from('"name"');

/** At a top-level key (whitespace first): is it "uuid" or "name"? (Its value, if a string, is then captured.) */
function noteTopKey(b: Uint8Array, i: number): void {
  while (WS[b[i]!] === 1) i++;
  // Both keys are four letters: most keys are told apart by where their closing quote is not.
  capturedKey = b[i + 5] !== QUOTE ? 0 : matches(b, i, UUID_KEY) ? KEY_UUID : matches(b, i, NAME_KEY) ? KEY_NAME : 0;
  // An escaped key (`"\u0075uid"`) is "uuid" to every parser that reads the document: decoded, it counts as one.
  if (capturedKey === 0 && b[i] === QUOTE && escapedKey(b, i)) capturedKey = decodedKeyKind(b, i);
  if (capturedKey === KEY_UUID) topUuid = null;
  else if (capturedKey === KEY_NAME) topName = null;
}

/** Does the key whose opening quote is at `at` hold an escape? (Keys are short: a byte loop.) */
function escapedKey(b: Uint8Array, at: number): boolean {
  for (let k = at + 1; k < b.length && b[k] !== QUOTE; k++) if (b[k] === BACKSLASH) return true;
  return false;
}

/** KEY_UUID, KEY_NAME or 0 for the escaped key at `at`, decoded (a key that is not a valid string is validate's to refuse). */
function decodedKeyKind(b: Uint8Array, at: number): number {
  const end = string(b, at);
  if (end < 0) return 0;
  const key = JSON.parse(Buffer.from(b.buffer, b.byteOffset + at, end - at).toString('utf8')) as string;
  return key === 'uuid' ? KEY_UUID : key === 'name' ? KEY_NAME : 0;
}

/** The string value [at, end) of the top-level key just noted. */
function captureValue(b: Uint8Array, at: number, end: number): void {
  const raw = Buffer.from(b.buffer, b.byteOffset + at, end - at);
  const text = raw.includes(BACKSLASH) ? (JSON.parse(raw.toString('utf8')) as string) : raw.toString('utf8', 1, raw.length - 1);
  if (capturedKey === KEY_UUID) topUuid = text;
  else topName = text;
  capturedKey = 0;
}

/**
 * The validating pass: one loop over the bytes with local state and table
 * look-ups (several times faster than a recursive descent in JavaScript,
 * and than JSON.parse, which also builds the document). Returns -1 when the
 * bytes are one JSON document as Python reads it, else where it breaks.
 */
/** Set by `validate` when it stopped at MAX_DEPTH (the reason differs from a syntax error). */
let tooDeep = false;

function validate(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  let depth = 0;
  for (;;) {
    // A value is expected at i.
    while (WS[b[i]!] === 1) i++;
    const c = b[i];
    if (c === OPEN_BRACE) {
      if (depth >= MAX_DEPTH) return ((tooDeep = true), i);
      i++;
      while (WS[b[i]!] === 1) i++;
      if (b[i] === CLOSE_BRACE) i++;
      else {
        stack[depth++] = CONTAINER_OBJECT;
        if (depth === 1 && capturing) noteTopKey(b, i);
        i = key(b, i);
        if (i < 0) return -i - 1;
        continue;
      }
    } else if (c === OPEN_BRACKET) {
      if (depth >= MAX_DEPTH) return ((tooDeep = true), i);
      i++;
      while (WS[b[i]!] === 1) i++;
      if (b[i] === CLOSE_BRACKET) i++;
      else {
        stack[depth++] = CONTAINER_ARRAY;
        continue;
      }
    } else if (c === QUOTE) {
      const at = i;
      i = string(b, i);
      if (i < 0) return -i - 1;
      if (capturedKey !== 0 && depth === 1) captureValue(b, at, i);
    } else if (c === 0x74 /* t */) {
      if (b[i + 1] !== 0x72 || b[i + 2] !== 0x75 || b[i + 3] !== 0x65) return i;
      i += 4;
    } else if (c === 0x66 /* f */) {
      if (b[i + 1] !== 0x61 || b[i + 2] !== 0x6c || b[i + 3] !== 0x73 || b[i + 4] !== 0x65) return i;
      i += 5;
    } else if (c === 0x6e /* n */) {
      if (b[i + 1] !== 0x75 || b[i + 2] !== 0x6c || b[i + 3] !== 0x6c) return i;
      i += 4;
    } else if (c === 0x4e /* N */) {
      if (b[i + 1] !== 0x61 || b[i + 2] !== 0x4e) return i;
      i += 3;
      unrepresentable ??= 'NaN';
    } else if (c === 0x49 /* I */ || (c === MINUS && b[i + 1] === 0x49)) {
      const at = c === MINUS ? i + 1 : i;
      if (!matches(b, at, INFINITY)) return i;
      unrepresentable ??= c === MINUS ? '-Infinity' : 'Infinity';
      i = at + INFINITY.length;
    } else if (c === MINUS || DIGIT[c!] === 1) {
      i = number(b, i);
      if (i < 0) return -i - 1;
    } else return i;

    // After a value: a comma (then the next key or value), the end of containers, or the end of the document.
    for (;;) {
      while (WS[b[i]!] === 1) i++;
      if (depth === 0) return i === n ? -1 : i;
      const d = b[i];
      const top = stack[depth - 1];
      if (d === COMMA) {
        i++;
        if (top === CONTAINER_OBJECT) {
          if (depth === 1 && capturing) noteTopKey(b, i);
          i = key(b, i);
          if (i < 0) return -i - 1;
        }
        break;
      }
      if ((top === CONTAINER_OBJECT && d === CLOSE_BRACE) || (top === CONTAINER_ARRAY && d === CLOSE_BRACKET)) {
        i++;
        depth--;
        continue;
      }
      return i;
    }
  }
}

const INFINITY = Buffer.from('Infinity');

function matches(b: Uint8Array, at: number, word: Uint8Array): boolean {
  for (let k = 0; k < word.length; k++) if (b[at + k] !== word[k]) return false;
  return true;
}

/** A property name and its colon, from i (whitespace first); the position of its value, or -(failure position)-1. */
function key(b: Uint8Array, i: number): number {
  while (WS[b[i]!] === 1) i++;
  if (b[i] !== QUOTE) return -i - 1;
  i = string(b, i);
  if (i < 0) return i;
  while (WS[b[i]!] === 1) i++;
  if (b[i] !== COLON) return -i - 1;
  return i + 1;
}

/** A string starting at its quote; the position after it, or -(failure position)-1. */
function string(b: Uint8Array, i: number): number {
  i++;
  for (;;) {
    // The common bytes of a string cost one table look-up each.
    while (STRING_PLAIN[b[i]!] === 1) i++;
    const c = b[i];
    if (c === QUOTE) return i + 1;
    if (c !== BACKSLASH) return -i - 1; // a control character (Python's strict json refuses it, as JSON.parse does) or the end
    const e = b[i + 1];
    if (e === 0x75 /* u */) {
      if (HEX[b[i + 2]!] !== 1 || HEX[b[i + 3]!] !== 1 || HEX[b[i + 4]!] !== 1 || HEX[b[i + 5]!] !== 1) return -i - 1;
      i += 6;
    } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
      i += 2;
    } else return -i - 1;
  }
}

/** A number from i; the position after it, or -(failure position)-1. Notes numbers a double cannot hold. */
function number(b: Uint8Array, i: number): number {
  const start = i;
  if (b[i] === MINUS) i++;
  if (b[i] === ZERO) i++;
  else if (DIGIT[b[i]!] === 1) while (DIGIT[b[i]!] === 1) i++;
  else return -i - 1;
  const digits = i - start - (b[start] === MINUS ? 1 : 0);
  let plain = true;
  let exponent = false;
  if (b[i] === DOT) {
    plain = false;
    i++;
    if (DIGIT[b[i]!] !== 1) return -i - 1;
    while (DIGIT[b[i]!] === 1) i++;
  }
  if (b[i] === LOWER_E || b[i] === UPPER_E) {
    plain = false;
    exponent = true;
    i++;
    if (b[i] === PLUS || b[i] === MINUS) i++;
    if (DIGIT[b[i]!] !== 1) return -i - 1;
    while (DIGIT[b[i]!] === 1) i++;
  }
  // Only long integers and exponents can fall outside a double (a fraction's extra digits round as Python's do).
  if (digits > SAFE_DIGITS || exponent) {
    const text = Buffer.from(b.buffer, b.byteOffset + start, i - start).toString('latin1');
    const why = numberProblem(text, plain);
    if (why) unrepresentable ??= why;
  }
  return i;
}

/** Why a number literal cannot be carried by a double (undefined: it can). */
function numberProblem(text: string, plain: boolean): string | undefined {
  const n = Number(text);
  if (Number.isFinite(n) && !(plain && !Number.isSafeInteger(n))) return undefined;
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return plain ? `integer ${shown}` : `number ${shown}`;
}
