/**
 * Makes a site's answer point at the proxy, touching only the places where
 * Ironic puts links:
 *
 * - `next`: a string member of the top-level object;
 * - link objects (`{"href": …, "rel": …}`) in a list that is a member of
 *   the top-level object (`links`, `ports`, `states`, a driver's
 *   `properties`…), of an item of a top-level list (a listing's items, the
 *   root's `versions`), or of the root's `default_version`.
 *
 * Nothing else is a link: user data (`extra`, `driver_info`, `properties`,
 * `instance_info`…, a dictionary at any depth) keeps every `href` and `next`
 * it holds, whatever they say. A link whose base is one of the answering
 * site's bases gets the proxy's base instead; a link that points anywhere
 * else (another host, `//evil.example`, `javascript:`) is neutralised to an
 * empty string: a client following it stays on the proxy, or stops.
 */

/** Lists of dictionaries that are user data, never links (deploy template and runbook steps). */
const NOT_LINK_LISTS = new Set(['steps', 'clean_steps', 'deploy_steps', 'service_steps']);

/** Replaces `fromBase` by `toBase` at the start of `url` when it is followed by a path, query or nothing. */
export function rebase(url: string, fromBases: readonly string[], toBase: string): string {
  return relink(url, fromBases, toBase) ?? url;
}

/** `url` on the proxy's base when it starts with one of the site's bases (at a boundary), else undefined (a foreign link). */
export function relink(url: string, fromBases: readonly string[], toBase: string): string | undefined {
  let best = -1;
  for (const from of fromBases) {
    if (from.length > best && from.length > 0 && url.startsWith(from)) {
      const c = url[from.length];
      if (c === undefined || c === '/' || c === '?') best = from.length;
    }
  }
  return best < 0 ? undefined : toBase + url.slice(best);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Rewrites the links of a parsed document (or of one item of a listing) in place and returns it. */
export function rewriteLinks<T>(value: T, fromBases: readonly string[], toBase: string): T {
  if (!isObj(value)) return value;
  const doc = value as Obj;
  if (typeof doc.next === 'string') doc.next = relink(doc.next, fromBases, toBase) ?? '';
  for (const key of Object.keys(doc)) {
    const v = doc[key];
    if (key === 'default_version' && isObj(v)) linkListsOf(v, fromBases, toBase);
    if (!Array.isArray(v) || NOT_LINK_LISTS.has(key)) continue;
    linkList(v, fromBases, toBase);
    for (const item of v) if (isObj(item)) linkListsOf(item, fromBases, toBase);
  }
  return value;
}

function linkListsOf(obj: Obj, fromBases: readonly string[], toBase: string): void {
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (Array.isArray(v) && !NOT_LINK_LISTS.has(key)) linkList(v, fromBases, toBase);
  }
}

function linkList(list: unknown[], fromBases: readonly string[], toBase: string): void {
  for (const link of list) {
    if (isObj(link) && typeof link.href === 'string' && typeof link.rel === 'string') link.href = relink(link.href, fromBases, toBase) ?? '';
  }
}

/**
 * The same rewrite on the JSON bytes, without decoding, parsing or
 * re-encoding the document (the hot path of every relayed answer): one pass
 * over its structure that jumps from quote to quote (Buffer#indexOf, a
 * native scan) and tracks only containers and keys, so that each `href`
 * and `next` is judged by where it is, exactly as `rewriteLinks` judges it.
 * Undefined when the bytes are not a JSON object or array as far as the
 * pass can tell; the caller then parses them (and refuses what does not
 * parse).
 *
 * `toBase` is written JSON-escaped.
 */
export function rewriteLinkBytes(body: Buffer, fromBases: readonly string[], toBase: string): Buffer | undefined {
  const edits = linkEdits(body);
  if (edits === undefined) return undefined;
  if (edits.length === 0) return body;
  const bases = baseBytes(fromBases);
  const target = targetBytes(toBase);
  // Which base each link starts with (-1: none, the link is neutralised), and the size of the result: one
  // buffer filled by copies, without a slice per piece.
  const kept: number[] = [];
  let size = body.length;
  for (let k = 0; k < edits.length; k += 2) {
    const start = edits[k]!;
    const end = edits[k + 1]!;
    let n = -1;
    for (const b of bases) {
      if (startsAt(body, b, start, end)) {
        n = b.length;
        break;
      }
    }
    kept.push(n);
    size += n < 0 ? start - end : target.length - n;
  }
  const out = Buffer.allocUnsafe(size);
  let copied = 0;
  let at = 0;
  for (let k = 0; k < edits.length; k += 2) {
    const start = edits[k]!;
    const n = kept[k >> 1]!;
    at += body.copy(out, at, copied, start);
    if (n >= 0) {
      at += target.copy(out, at);
      copied = start + n;
    } else copied = edits[k + 1]!; // a link to somewhere that is not this site: neutralised
  }
  body.copy(out, at, copied);
  return out;
}

/** The proxy's base as JSON-escaped bytes: the last one kept (one base per deployment, almost always). */
let lastTarget: { base: string; bytes: Buffer } | undefined;
function targetBytes(toBase: string): Buffer {
  if (lastTarget?.base !== toBase) lastTarget = { base: toBase, bytes: Buffer.from(JSON.stringify(toBase).slice(1, -1)) };
  return lastTarget.bytes;
}

/** The sites' bases as bytes, once per list (the registry hands out one frozen list per site). */
const basesAsBytes = new WeakMap<readonly string[], Buffer[]>();
function baseBytes(bases: readonly string[]): Buffer[] {
  let bytes = basesAsBytes.get(bases);
  if (!bytes) {
    // Longest first: where one base is a prefix of another (a site behind a path), the longer one is the site's.
    bytes = [...bases].sort((a, b) => b.length - a.length).map((b) => Buffer.from(b));
    basesAsBytes.set(bases, bytes);
  }
  return bytes;
}

/** Does the string content [start, end) begin with `base`, followed by `/`, `?` or its end? */
function startsAt(body: Buffer, base: Buffer, start: number, end: number): boolean {
  const n = base.length;
  if (n === 0 || end - start < n) return false;
  // Byte by byte: a base is a few dozen bytes, and a native compare costs more to call than to run here.
  for (let j = 0; j < n; j++) if (body[start + j] !== base[j]) return false;
  if (start + n === end) return true;
  const c = body[start + n];
  return c === SLASH || c === QUESTION;
}

const SLASH = 0x2f;
const QUESTION = 0x3f;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const KEY_HREF = 'href';
const KEY_REL = 'rel';
const KEY_NEXT = 'next';
const KEY_DEFAULT_VERSION = 'default_version';
const NOT_LINK_LIST_KEYS = [...NOT_LINK_LISTS];

const MAX_DEPTH = 512;

// The scanner's state per open container, kept between calls (the scan is synchronous): object (1) or
// array (0), the span of the key it is the value of (-1: none), and for objects the span of its href value
// at a link position (-1: none) and whether it has a string rel.
const isObject = new Uint8Array(MAX_DEPTH);
const keyStart = new Int32Array(MAX_DEPTH);
const keyEnd = new Int32Array(MAX_DEPTH);
const hrefStart = new Int32Array(MAX_DEPTH);
const hrefEnd = new Int32Array(MAX_DEPTH);
const hasRel = new Uint8Array(MAX_DEPTH);

function keyIs(text: string, s: number, e: number, k: string): boolean {
  return e - s === k.length && text.startsWith(k, s);
}

function notLinkList(text: string, s: number, e: number): boolean {
  for (const k of NOT_LINK_LIST_KEYS) if (keyIs(text, s, e, k)) return true;
  return false;
}

/** May the object now open at depth `d` (index d-1) hold a link, by where it is? */
function linkPosition(text: string, d: number): boolean {
  if (isObject[0] !== 1 || isObject[d - 1] !== 1 || isObject[d - 2] !== 0) return false;
  if (notLinkList(text, keyStart[d - 2]!, keyEnd[d - 2]!)) return false;
  if (d === 3) return true; // doc.K[i]
  if (d === 4) return isObject[1] === 1 && keyIs(text, keyStart[1]!, keyEnd[1]!, KEY_DEFAULT_VERSION); // doc.default_version.K[i]
  if (d === 5) return isObject[1] === 0 && isObject[2] === 1 && !notLinkList(text, keyStart[1]!, keyEnd[1]!); // doc.C[j].K[i]
  return false;
}

/**
 * The [start, end) spans (string contents, quotes excluded) of the link
 * values of a JSON document, in order; undefined when the bytes do not scan
 * as one JSON object or array (or a link object has two hrefs: the parse
 * path decides).
 */
function linkEdits(bytes: Buffer): number[] | undefined {
  // Scanned as a one-byte string (latin1: one character per byte, so offsets are byte offsets): V8 inlines
  // charCodeAt and indexOf on strings, while every Buffer call crosses into C++.
  const text = bytes.toString('latin1');
  const len = text.length;
  const edits: number[] = [];
  let depth = 0;
  let expectKey = false;
  let curKeyStart = -1;
  let curKeyEnd = -1;
  let i = 0;
  let done = false;

  while (i < len) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      i++;
      continue;
    }
    if (done) return undefined; // bytes after the document
    if (c === QUOTE) {
      let e = text.indexOf('"', i + 1);
      while (e > 0 && escaped(text, e)) e = text.indexOf('"', e + 1);
      if (e < 0 || depth === 0) return undefined;
      if (expectKey) {
        // A key with an escape (`"h\u0072ef"`) is `href` to the client's parser but not to a comparison of bytes:
        // such a document takes the parse path, which judges decoded keys (Ironic's own keys are never escaped).
        for (let k = i + 1; k < e; k++) if (text.charCodeAt(k) === BACKSLASH) return undefined;
        curKeyStart = i + 1;
        curKeyEnd = e;
        expectKey = false;
      } else if (curKeyStart >= 0 && isObject[depth - 1] === 1) {
        // A string value of the member curKey.
        if (depth === 1) {
          if (keyIs(text, curKeyStart, curKeyEnd, KEY_NEXT)) edits.push(i + 1, e);
        } else if (depth >= 3 && depth <= 5 && keyIs(text, curKeyStart, curKeyEnd, KEY_HREF)) {
          if (linkPosition(text, depth)) {
            if (hrefStart[depth - 1]! >= 0) return undefined;
            hrefStart[depth - 1] = i + 1;
            hrefEnd[depth - 1] = e;
          }
        } else if (keyIs(text, curKeyStart, curKeyEnd, KEY_REL)) hasRel[depth - 1] = 1;
      }
      i = e + 1;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth >= MAX_DEPTH) return undefined;
      const inObject = depth > 0 && isObject[depth - 1] === 1;
      isObject[depth] = c === OPEN_BRACE ? 1 : 0;
      keyStart[depth] = inObject ? curKeyStart : -1;
      keyEnd[depth] = inObject ? curKeyEnd : -1;
      hrefStart[depth] = -1;
      hasRel[depth] = 0;
      depth++;
      expectKey = c === OPEN_BRACE;
      curKeyStart = -1;
      i++;
      continue;
    }
    if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth === 0 || isObject[depth - 1] !== (c === CLOSE_BRACE ? 1 : 0)) return undefined;
      depth--;
      if (hrefStart[depth]! >= 0 && hasRel[depth] === 1) edits.push(hrefStart[depth]!, hrefEnd[depth]!);
      if (depth === 0) done = true;
      // Back in the parent: the key of this container is no longer current.
      curKeyStart = -1;
      expectKey = false;
      i++;
      continue;
    }
    if (c === COMMA) {
      if (depth === 0) return undefined;
      expectKey = isObject[depth - 1] === 1;
      i++;
      continue;
    }
    if (c === COLON) {
      i++;
      continue;
    }
    // A number, true, false, null (or junk, which the parse that follows a refusal would find).
    if (depth === 0) return undefined;
    i++;
    while (i < len) {
      const d = text.charCodeAt(i);
      if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
      if (d === QUOTE || d === OPEN_BRACE || d === OPEN_BRACKET || d === COLON) return undefined;
      i++;
    }
  }
  if (!done) return undefined;
  // Spans were collected as objects closed (inner first): put them in body order.
  if (!ascending(edits)) {
    const pairs: Array<[number, number]> = [];
    for (let k = 0; k < edits.length; k += 2) pairs.push([edits[k]!, edits[k + 1]!]);
    pairs.sort((x, y) => x[0] - y[0]);
    edits.length = 0;
    for (const [x, y] of pairs) edits.push(x, y);
  }
  return edits;
}

function ascending(edits: number[]): boolean {
  for (let k = 2; k < edits.length; k += 2) if (edits[k]! < edits[k - 2]!) return false;
  return true;
}

/** Is the quote at `at` escaped (an odd number of backslashes before it)? */
function escaped(text: string, at: number): boolean {
  let n = 0;
  for (let j = at - 1; j >= 0 && text.charCodeAt(j) === BACKSLASH; j--) n++;
  return (n & 1) === 1;
}
