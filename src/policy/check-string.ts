/**
 * oslo.policy's policy language: parsing a check string into a tree, printing
 * the tree the way oslo's `str()` does, and evaluating it — with a third
 * outcome, 'unknown', for a target value not known yet (Kleene logic).
 *
 * The parser reads exactly what oslo.policy 4.0 reads (`_parser.py`):
 *  - tokens are split on (Python's) white space; `(` at the start and `)` at
 *    the end of a token are separate tokens, so `%(node.owner)s` keeps its
 *    parentheses; `and`, `or`, `not` in any case are operators;
 *  - `!` is false, `@` is true, a token without `:` is false, `rule:NAME`
 *    refers to another rule, `role:NAME` matches a role case-insensitively,
 *    `http:`/`https:` are oslo's remote checks, anything else `KIND:MATCH` is a
 *    generic check (see evaluate);
 *  - precedence not > and > or, left to right, as oslo's shift-reduce parser;
 *  - an empty string is true, but a string that does not parse — unbalanced
 *    parentheses, a dangling operator, a quoted token, only white space — is
 *    false as a whole (oslo logs it and fails closed); `problem` says why.
 *
 * Evaluation follows oslo's check classes (`_checks.py`):
 *  - `role:M`: M with `%(key)s` substituted from the target, compared in lower
 *    case with the credentials' roles; a missing target key makes it false;
 *  - generic `K:M`: M substituted from the target, then if K is a Python
 *    literal (`True`, `None`, `'member'`, `1`) the check is `M == str(K)`,
 *    else K is a dotted path into the credentials and the check is
 *    `M == str(value)` (each element of a list along the path is tried);
 *  - `rule:N`: the rule N of the table; an unknown N is the table's `default`
 *    rule if it has one, else false;
 *  - `http:`/`https:` POST the target to a remote server in oslo; the proxy
 *    does not call out, so these checks are false here (documented divergence).
 */
import {
  applyFormat,
  MISSING,
  parseFormat,
  PolicyEvaluationError,
  pyStr,
  readKind,
  UNKNOWN,
  type FormatPart,
  type KindReading,
} from './python.js';

export { UNKNOWN, PolicyEvaluationError };

export type CheckNode =
  | { type: 'true' }
  | { type: 'false' }
  | { type: 'and'; rules: CheckNode[] }
  | { type: 'or'; rules: CheckNode[] }
  | { type: 'not'; rule: CheckNode }
  | { type: 'rule'; match: string }
  | { type: 'role'; match: string; format: FormatPart[] }
  | { type: 'generic'; kind: string; match: string; reading: KindReading; format: FormatPart[] }
  | { type: 'external'; kind: 'http' | 'https'; match: string }
  /**
   * What oslo's parser leaves when a check string is one lone `(`, `)`,
   * operator or quoted token: not a check at all, so oslo raises when it is
   * evaluated (Ironic answers 500). `text` is oslo's `str()` of it.
   */
  | { type: 'broken'; text: string };

export interface ParsedCheck {
  check: CheckNode;
  /** Why oslo would not parse the string (the check is then false), if so. */
  problem?: string;
}

const TRUE: CheckNode = { type: 'true' };
const FALSE: CheckNode = { type: 'false' };

/** Python's `str.isspace()` characters (what `re.split(r'\s+')` splits on). */
const PY_SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

/** One base check (`_parse_check`): `!`, `@`, or `KIND:MATCH`. */
export function parseBaseCheck(text: string): CheckNode {
  if (text === '!') return FALSE;
  if (text === '@') return TRUE;
  const colon = text.indexOf(':');
  if (colon < 0) return FALSE;
  const kind = text.slice(0, colon);
  const match = text.slice(colon + 1);
  if (kind === 'http' || kind === 'https') return { type: 'external', kind, match };
  if (kind === 'rule') return { type: 'rule', match };
  if (kind === 'role') return { type: 'role', match, format: parseFormat(match) };
  return { type: 'generic', kind, match, reading: readKind(kind), format: parseFormat(match) };
}

type Token =
  | { tok: '(' | ')' | 'and' | 'or' | 'not'; value: string }
  | { tok: 'string'; value: string }
  | { tok: 'check'; check: CheckNode };

function* tokenize(text: string): Generator<Token> {
  for (const raw of text.split(PY_SPACE)) {
    if (!raw) continue;
    let tok = raw;
    const clean = tok.replace(/^\(+/, '');
    for (let i = 0; i < tok.length - clean.length; i++) yield { tok: '(', value: '(' };
    if (!clean) continue;
    tok = clean;
    const body = tok.replace(/\)+$/, '');
    const trail = tok.length - body.length;
    const lowered = body.toLowerCase();
    if (lowered === 'and' || lowered === 'or' || lowered === 'not') {
      yield { tok: lowered, value: body };
    } else if (body) {
      const first = tok[0];
      if (tok.length >= 2 && (first === '"' || first === "'") && tok[tok.length - 1] === first) {
        yield { tok: 'string', value: tok.slice(1, -1) };
      } else {
        yield { tok: 'check', check: parseBaseCheck(body) };
      }
    }
    for (let i = 0; i < trail; i++) yield { tok: ')', value: ')' };
  }
}

/*
 * The grammar oslo's greedy shift-reduce parser accepts, reduced the same way
 * (so that the tree, and its printed form, are the same):
 *   ( check|and_expr|or_expr )  → check
 *   check and check             → and_expr
 *   and_expr and check          → and_expr (extended)
 *   or_expr and check           → or_expr whose last member becomes (last and check)
 *   check|and_expr or check     → or_expr
 *   or_expr or check            → or_expr (extended)
 *   not check                   → check
 */
type Sym = 'check' | 'and_expr' | 'or_expr' | '(' | ')' | 'and' | 'or' | 'not' | 'string';
interface Entry {
  sym: Sym;
  node?: CheckNode;
  /** The token's text, for an entry that is not a check. */
  value?: string;
}

function reduce(stack: Entry[]): void {
  for (;;) {
    const n = stack.length;
    const a = stack[n - 3];
    const b = stack[n - 2];
    const c = stack[n - 1];
    if (a && b && c && a.sym === '(' && c.sym === ')' && (b.sym === 'check' || b.sym === 'and_expr' || b.sym === 'or_expr')) {
      stack.splice(n - 3, 3, { sym: 'check', node: b.node });
      continue;
    }
    if (a && b && c && c.sym === 'check' && b.sym === 'and') {
      if (a.sym === 'check') {
        stack.splice(n - 3, 3, { sym: 'and_expr', node: { type: 'and', rules: [a.node!, c.node!] } });
        continue;
      }
      if (a.sym === 'and_expr') {
        (a.node as { rules: CheckNode[] }).rules.push(c.node!);
        stack.splice(n - 3, 3, a);
        continue;
      }
      if (a.sym === 'or_expr') {
        const or = a.node as { rules: CheckNode[] };
        const last = or.rules.pop()!;
        if (last.type === 'and') last.rules.push(c.node!);
        or.rules.push(last.type === 'and' ? last : { type: 'and', rules: [last, c.node!] });
        stack.splice(n - 3, 3, a);
        continue;
      }
    }
    if (a && b && c && c.sym === 'check' && b.sym === 'or') {
      if (a.sym === 'check' || a.sym === 'and_expr') {
        stack.splice(n - 3, 3, { sym: 'or_expr', node: { type: 'or', rules: [a.node!, c.node!] } });
        continue;
      }
      if (a.sym === 'or_expr') {
        (a.node as { rules: CheckNode[] }).rules.push(c.node!);
        stack.splice(n - 3, 3, a);
        continue;
      }
    }
    if (b && c && b.sym === 'not' && c.sym === 'check') {
      stack.splice(n - 2, 2, { sym: 'check', node: { type: 'not', rule: c.node! } });
      continue;
    }
    return;
  }
}

/** Parses a check string as oslo.policy does; never throws (what oslo cannot parse is false). */
export function parseCheckString(text: string): ParsedCheck {
  if (text === '') return { check: TRUE };
  const stack: Entry[] = [];
  let sawString = false;
  for (const t of tokenize(text)) {
    if (t.tok === 'check') stack.push({ sym: 'check', node: t.check });
    else {
      if (t.tok === 'string') sawString = true;
      stack.push({ sym: t.tok, value: t.value });
    }
    reduce(stack);
  }
  if (stack.length !== 1) {
    const problem =
      stack.length === 0
        ? 'nothing but white space'
        : sawString
          ? 'a quoted token stands alone (a literal belongs on one side of a check, as in \'member\':%(role)s)'
          : 'unbalanced parentheses or a misplaced and/or/not';
    return { check: FALSE, problem: `cannot parse "${text}": ${problem}` };
  }
  // oslo returns the lone token's value itself, which raises when evaluated.
  const only = stack[0]!;
  if (!only.node) {
    return { check: { type: 'broken', text: only.value! }, problem: `"${text}" is a lone token, not a check (oslo raises on it)` };
  }
  return { check: only.node };
}

/**
 * A rule's value in a policy file: oslo accepts the policy language in a
 * string, or the old list-of-lists form (outer list: or, inner list: and of
 * single checks); an empty value (`""`, YAML null or `!`, `false`, `[]`)
 * allows everything, as it does in oslo.
 */
export function parseRuleValue(value: unknown): ParsedCheck {
  if (typeof value === 'string') return parseCheckString(value);
  if (!truthyRuleValue(value)) return { check: TRUE };
  const outer = iterableOf(value);
  if (!outer) throw new TypeError(`a rule must be a string or a list of lists, not ${describe(value)}`);
  const ors: CheckNode[] = [];
  for (const inner of outer) {
    if (!truthyRuleValue(inner)) continue;
    const items = typeof inner === 'string' ? [inner] : iterableOf(inner);
    if (!items) throw new TypeError(`an inner rule must be a string or a list, not ${describe(inner)}`);
    // oslo's _parse_check fails closed on a non-string item (it has no split()).
    const ands = items.map((item) => (typeof item === 'string' ? parseBaseCheck(item) : FALSE));
    ors.push(ands.length === 1 ? ands[0]! : { type: 'and', rules: ands });
  }
  if (ors.length === 0) return { check: FALSE };
  return { check: ors.length === 1 ? ors[0]! : { type: 'or', rules: ors } };
}

function describe(v: unknown): string {
  return v instanceof Date ? `the date ${v.toISOString()}` : JSON.stringify(v) ?? String(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function truthyRuleValue(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  // Anything else (true, a number, a YAML date) is truthy: Python then fails to iterate it.
  return true;
}

/** What Python iterates over: a list's items, a dict's keys. */
function iterableOf(v: unknown): unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (isPlainObject(v)) return Object.keys(v);
  return undefined;
}

/** oslo's `str()` of a check tree (`(a and b)`, `(a or b)`, `not a`, `kind:match`, `@`, `!`). */
export function formatCheck(node: CheckNode): string {
  switch (node.type) {
    case 'true':
      return '@';
    case 'false':
      return '!';
    case 'and':
      return `(${node.rules.map(formatCheck).join(' and ')})`;
    case 'or':
      return `(${node.rules.map(formatCheck).join(' or ')})`;
    case 'not':
      return `not ${formatCheck(node.rule)}`;
    case 'rule':
      return `rule:${node.match}`;
    case 'role':
      return `role:${node.match}`;
    case 'generic':
    case 'external':
      return `${node.kind}:${node.match}`;
    case 'broken':
      return node.text;
  }
}

/** Parts of a tree oslo would evaluate but this engine does not model (reported, not guessed). */
export function unsupportedParts(node: CheckNode): string[] {
  const out: string[] = [];
  const walk = (n: CheckNode): void => {
    switch (n.type) {
      case 'and':
      case 'or':
        n.rules.forEach(walk);
        return;
      case 'not':
        walk(n.rule);
        return;
      case 'generic':
        if (n.reading.type === 'unsupported') out.push(n.reading.message);
        for (const p of n.format) if (p.type === 'unsupported') out.push(p.message);
        return;
      case 'role':
        for (const p of n.format) if (p.type === 'unsupported') out.push(p.message);
        return;
      default:
        return;
    }
  };
  walk(node);
  return out;
}

/** Names of the rules a tree refers to with `rule:NAME`. */
export function referencedRules(node: CheckNode): string[] {
  switch (node.type) {
    case 'and':
    case 'or':
      return node.rules.flatMap(referencedRules);
    case 'not':
      return referencedRules(node.rule);
    case 'rule':
      return [node.match];
    default:
      return [];
  }
}

// ---------------------------------------------------------------------------
// Evaluation

/** true, false, or not known until a target value marked UNKNOWN is known. */
export type Tri = boolean | 'unknown';

export interface EvalContext {
  /** oslo's target: `%(key)s` substitutions come from here; a value may be UNKNOWN. */
  target: Record<string, unknown>;
  /** oslo's creds (already with `system` copied from `system_scope`, as `enforce()` does). */
  creds: Record<string, unknown>;
  /** The tree of `rule:NAME` (the default rule for an unknown name), or undefined: false. */
  resolve(name: string): CheckNode | undefined;
}

/**
 * Evaluates a tree as oslo would, left to right with short-circuits; an
 * UNKNOWN target value makes a check 'unknown', combined by Kleene logic
 * (false and unknown = false, true or unknown = true, not unknown = unknown).
 * Throws PolicyEvaluationError where oslo raises (a rule that refers to itself
 * without end, a kind Python cannot parse, a malformed `%` format).
 */
export function evaluate(node: CheckNode, ctx: EvalContext): Tri {
  return evalNode(node, ctx, []);
}

function evalNode(node: CheckNode, ctx: EvalContext, resolving: string[]): Tri {
  switch (node.type) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'not': {
      const r = evalNode(node.rule, ctx, resolving);
      return r === 'unknown' ? r : !r;
    }
    case 'and': {
      let unknown = false;
      for (const r of node.rules) {
        const v = evalNode(r, ctx, resolving);
        if (v === false) return false;
        if (v === 'unknown') unknown = true;
      }
      return unknown ? 'unknown' : true;
    }
    case 'or': {
      let unknown = false;
      for (const r of node.rules) {
        const v = evalNode(r, ctx, resolving);
        if (v === true) return true;
        if (v === 'unknown') unknown = true;
      }
      return unknown ? 'unknown' : false;
    }
    case 'rule': {
      const target = ctx.resolve(node.match);
      if (!target) return false;
      // Deterministic evaluation: coming back to a rule under way recurses for ever in oslo.
      if (resolving.includes(node.match)) {
        throw new PolicyEvaluationError(`policy rules refer to each other without end: ${[...resolving, node.match].join(' -> ')}`);
      }
      return evalNode(target, ctx, [...resolving, node.match]);
    }
    case 'external':
      return false;
    case 'broken':
      throw new PolicyEvaluationError(`"${node.text}" is not a check (a check string that is one lone token)`);
    case 'role': {
      const match = applyFormat(node.format, ctx.target);
      if (match === MISSING) return false;
      if (!Object.prototype.hasOwnProperty.call(ctx.creds, 'roles')) return false;
      const roles = ctx.creds.roles;
      if (!Array.isArray(roles)) throw new PolicyEvaluationError('creds["roles"] is not a list');
      if (roles.length === 0) return false;
      if (match === UNKNOWN) return 'unknown';
      const want = match.toLowerCase();
      return roles.some((r) => typeof r === 'string' && r.toLowerCase() === want);
    }
    case 'generic': {
      const match = applyFormat(node.format, ctx.target);
      if (match === MISSING) return false;
      const reading = node.reading;
      if (reading.type === 'raise') throw new PolicyEvaluationError(`SyntaxError in check kind "${node.kind}": ${reading.message}`);
      if (reading.type === 'unsupported') throw new PolicyEvaluationError(`unsupported check kind: ${reading.message}`);
      if (reading.type === 'literal') return match === UNKNOWN ? 'unknown' : match === reading.value;
      return findInCreds(ctx.creds, reading.segments, match, node.kind);
    }
  }
}

/** GenericCheck._find_in_dict: walk the path; a list along it matches if any element does. */
function findInCreds(value: unknown, segments: readonly string[], match: string | typeof UNKNOWN, kind: string): Tri {
  if (segments.length === 0) {
    const s = pyStr(value);
    if (match === UNKNOWN || s === UNKNOWN) return 'unknown';
    return s === match;
  }
  const [key, ...rest] = segments as [string, ...string[]];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PolicyEvaluationError(`TypeError: credentials along "${kind}" are not a mapping at "${key}"`);
  }
  if (!Object.prototype.hasOwnProperty.call(value, key)) return false;
  const next = (value as Record<string, unknown>)[key];
  if (next === undefined) return false;
  if (!Array.isArray(next)) return findInCreds(next, rest, match, kind);
  let unknown = false;
  for (const item of next) {
    const r = findInCreds(item, rest, match, kind);
    if (r === true) return true;
    if (r === 'unknown') unknown = true;
  }
  return unknown ? 'unknown' : false;
}
