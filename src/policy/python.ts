/**
 * The few pieces of Python semantics oslo.policy's checks rest on, for values
 * that arrive here as JSON-like JavaScript values:
 *  - `str(value)`: a generic check compares its match with `str()` of the
 *    credential (`None` → 'None', `True` → 'True', lists as `['a', 'b']`);
 *  - `match % target`: `%(key)s` substitution, where a missing key makes the
 *    check false (oslo catches the KeyError) and a malformed format raises;
 *  - `ast.literal_eval(kind)`: a check's left side is a literal (`True`,
 *    `'member'`, `None`, `1`) when Python can read it as one, else a dotted path
 *    into the credentials — and a few spellings are a SyntaxError, which oslo
 *    does not catch;
 *  - truthiness (`creds.get('system')`, `if not rule`).
 *
 * Only what Ironic's rules and an operator's policy file can reach is modelled;
 * anything else is reported as `unsupported` so the enforcer refuses the policy
 * file at start-up rather than guess.
 */

/** A target value not known yet (the decision may then be 'unknown'). */
export const UNKNOWN: unique symbol = Symbol('ironic-proxy.policy.unknown');

/** A Python exception oslo.policy would let escape from `enforce()` (Ironic answers 500). */
export class PolicyEvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyEvaluationError';
  }
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Python's truthiness of a JSON-like value. */
export function pyTruthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '' || v === 0n) return false;
  if (typeof v === 'number' && Number.isNaN(v)) return true;
  if (Array.isArray(v)) return v.length > 0;
  if (isMapping(v)) return Object.keys(v).length > 0;
  return true;
}

/** `repr(float)`: the shortest round-trip digits, scientific below 1e-4 and from 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, expText] = Math.abs(x).toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const digits = mant.replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  if (digits.length <= intLen) return `${sign}${digits}${'0'.repeat(intLen - digits.length)}.0`;
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

/** `repr(str)`. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/** `str(value)`, or UNKNOWN when the value (or a part of it) is not known. */
export function pyStr(v: unknown): string | typeof UNKNOWN {
  return typeof v === 'string' ? v : pyRepr(v);
}

/** `repr(value)`, or UNKNOWN when the value (or a part of it) is not known. */
export function pyRepr(v: unknown): string | typeof UNKNOWN {
  if (v === UNKNOWN) return UNKNOWN;
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return pyStrRepr(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    // JSON does not tell 1 from 1.0; an integral number is taken as a Python int.
    if (Number.isInteger(v)) return BigInt(v).toString();
    return pyFloatRepr(v);
  }
  if (Array.isArray(v)) {
    const parts: string[] = [];
    for (const item of v) {
      const r = pyRepr(item);
      if (r === UNKNOWN) return UNKNOWN;
      parts.push(r);
    }
    return `[${parts.join(', ')}]`;
  }
  if (isMapping(v)) {
    const parts: string[] = [];
    for (const [k, item] of Object.entries(v)) {
      const r = pyRepr(item);
      if (r === UNKNOWN) return UNKNOWN;
      parts.push(`${pyStrRepr(k)}: ${r}`);
    }
    return `{${parts.join(', ')}}`;
  }
  return String(v);
}

// ---------------------------------------------------------------------------
// `match % target`

export type FormatPart =
  | { type: 'text'; text: string }
  | { type: 'key'; key: string; conversion: 's' | 'r' }
  /** Python raises ValueError here (e.g. a lone `%` at the end: "incomplete format"). */
  | { type: 'raise'; message: string }
  /** A conversion this engine does not model (width, `%d`, a bare `%s` on the mapping). */
  | { type: 'unsupported'; message: string };

/** Splits a check's match into literal text and `%(key)s` substitutions, as Python's `%` reads it. */
export function parseFormat(template: string): FormatPart[] {
  const parts: FormatPart[] = [];
  let text = '';
  let i = 0;
  const flushText = (): void => {
    if (text) parts.push({ type: 'text', text });
    text = '';
  };
  while (i < template.length) {
    const ch = template[i]!;
    if (ch !== '%') {
      text += ch;
      i++;
      continue;
    }
    i++;
    if (i >= template.length) {
      flushText();
      parts.push({ type: 'raise', message: 'incomplete format' });
      return parts;
    }
    if (template[i] === '%') {
      text += '%';
      i++;
      continue;
    }
    flushText();
    if (template[i] !== '(') {
      parts.push({ type: 'unsupported', message: `format "%${template.slice(i, i + 1)}" without a (key)` });
      return parts;
    }
    // Python counts nested parentheses in the key.
    let depth = 1;
    let j = i + 1;
    while (j < template.length && depth > 0) {
      if (template[j] === '(') depth++;
      else if (template[j] === ')') depth--;
      j++;
    }
    if (depth > 0) {
      parts.push({ type: 'raise', message: 'incomplete format key' });
      return parts;
    }
    const key = template.slice(i + 1, j - 1);
    const conv = template[j];
    if (conv === 's' || conv === 'r') {
      parts.push({ type: 'key', key, conversion: conv });
      i = j + 1;
      continue;
    }
    if (conv === undefined) {
      parts.push({ type: 'raise', message: 'incomplete format' });
      return parts;
    }
    parts.push({ type: 'unsupported', message: `format "%(${key})${conv}…" (only %(key)s and %(key)r are modelled)` });
    return parts;
  }
  flushText();
  return parts;
}

export const MISSING: unique symbol = Symbol('missing');

/**
 * `template % target`: the string, MISSING when a key is absent (oslo: KeyError,
 * the check is false), UNKNOWN when a substituted value is not known yet.
 */
export function applyFormat(
  parts: readonly FormatPart[],
  target: Record<string, unknown>,
): string | typeof MISSING | typeof UNKNOWN {
  let out = '';
  let unknown = false;
  for (const p of parts) {
    switch (p.type) {
      case 'text':
        out += p.text;
        break;
      case 'key': {
        if (!hasOwn(target, p.key) || target[p.key] === undefined) return MISSING;
        const v = p.conversion === 's' ? pyStr(target[p.key]) : pyRepr(target[p.key]);
        if (v === UNKNOWN) unknown = true;
        else out += v;
        break;
      }
      case 'raise':
        throw new PolicyEvaluationError(`ValueError in a check's format: ${p.message}`);
      case 'unsupported':
        throw new PolicyEvaluationError(`unsupported format in a check: ${p.message}`);
    }
  }
  return unknown ? UNKNOWN : out;
}

// ---------------------------------------------------------------------------
// `ast.literal_eval(kind)`

export type KindReading =
  /** A Python literal; the check compares the match with this `str()` form. */
  | { type: 'literal'; value: string }
  /** Not a literal (ValueError): a dotted path into the credentials. */
  | { type: 'path'; segments: string[] }
  /** A SyntaxError in Python, which oslo does not catch. */
  | { type: 'raise'; message: string }
  | { type: 'unsupported'; message: string };

const KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def',
  'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is',
  'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
]);
const IDENT = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*$/u;
const DEC_INT = /^(?:[1-9](?:_?\d)*|0(?:_?0)*)$/;
const HEX_INT = /^0[xX](?:_?[0-9a-fA-F])+$/;
const OCT_INT = /^0[oO](?:_?[0-7])+$/;
const BIN_INT = /^0[bB](?:_?[01])+$/;
const DIGITS = String.raw`\d(?:_?\d)*`;
const FLOAT = new RegExp(
  String.raw`^(?:(?:${DIGITS})?\.${DIGITS}|${DIGITS}\.?)(?:[eE][+-]?${DIGITS})?$`,
);
const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '',
};

function readNumber(text: string): KindReading | undefined {
  let sign = '';
  let body = text;
  if (body[0] === '+' || body[0] === '-') {
    sign = body[0];
    body = body.slice(1);
  }
  const plain = body.replace(/_/g, '');
  let n: bigint | undefined;
  if (DEC_INT.test(body)) n = BigInt(plain);
  else if (HEX_INT.test(body) || OCT_INT.test(body) || BIN_INT.test(body)) n = BigInt(plain.toLowerCase());
  if (n !== undefined) return { type: 'literal', value: (sign === '-' ? -n : n).toString() };
  if (/^\d/.test(body) && /^\d+$/.test(plain) && !DEC_INT.test(body)) {
    return { type: 'raise', message: 'leading zeros in decimal integer literals are not permitted' };
  }
  if (FLOAT.test(body) && /[.eE]/.test(body)) {
    const x = Number(plain);
    return { type: 'literal', value: pyFloatRepr(sign === '-' ? -x : x) };
  }
  return undefined;
}

function readString(text: string): KindReading | undefined {
  const m = /^([rRuUbB]{0,2})(['"])([\s\S]*)\2$/.exec(text);
  if (!m) return undefined;
  const prefix = m[1]!.toLowerCase();
  if (!['', 'r', 'u', 'b', 'br', 'rb'].includes(prefix)) return undefined;
  const quote = m[2]!;
  const body = m[3]!;
  if (quote.repeat(2) === body.slice(0, 2) || body.includes(quote + quote)) {
    return { type: 'unsupported', message: 'adjacent or triple-quoted string literals' };
  }
  const raw = prefix.includes('r');
  let value = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === quote) return { type: 'unsupported', message: 'several string literals' };
    if (ch !== '\\') {
      value += ch;
      continue;
    }
    const next = body[i + 1];
    if (next === undefined) return { type: 'raise', message: 'unterminated string literal' };
    if (raw) {
      value += ch + next;
      i++;
      continue;
    }
    if (next in SIMPLE_ESCAPES) {
      value += SIMPLE_ESCAPES[next];
      i++;
      continue;
    }
    const hex = /^x([0-9a-fA-F]{2})/.exec(body.slice(i + 1));
    if (hex) {
      value += String.fromCharCode(parseInt(hex[1]!, 16));
      i += 3;
      continue;
    }
    return { type: 'unsupported', message: `escape "\\${next}" in a string literal` };
  }
  if (prefix.includes('b')) {
    if (/[^\x20-\x7e]/.test(value)) return { type: 'unsupported', message: 'non-ASCII bytes literal' };
    const r = pyStrRepr(value);
    return { type: 'literal', value: `b${r}` };
  }
  return { type: 'literal', value };
}

/** How oslo's GenericCheck reads the left side of `kind:match`. */
export function readKind(kind: string): KindReading {
  if (kind === 'True' || kind === 'False' || kind === 'None') return { type: 'literal', value: kind };
  const str = readString(kind);
  if (str) return str;
  const num = readNumber(kind);
  if (num) return num;
  const segments = kind.split('.');
  if (segments.every((s) => IDENT.test(s))) {
    const bad = segments.findIndex((s, i) => KEYWORDS.has(s) && !(i === 0 && ['True', 'False', 'None'].includes(s)));
    if (bad >= 0) return { type: 'raise', message: `invalid syntax ("${segments[bad]}" is a Python keyword)` };
    return { type: 'path', segments };
  }
  return { type: 'unsupported', message: `check kind "${kind}" (neither a Python literal nor a dotted name)` };
}
