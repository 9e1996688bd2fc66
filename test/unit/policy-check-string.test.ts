import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluate,
  formatCheck,
  parseCheckString,
  parseRuleValue,
  unsupportedParts,
  type CheckNode,
  type EvalContext,
  type Tri,
} from '../../src/policy/check-string.js';
import { PolicyEvaluationError, pyFloatRepr, pyStr, readKind, UNKNOWN } from '../../src/policy/python.js';

const str = (s: string): string => formatCheck(parseCheckString(s).check);

function ctx(creds: Record<string, unknown>, target: Record<string, unknown> = {}, rules: Record<string, string> = {}): EvalContext {
  const table = new Map(Object.entries(rules).map(([k, v]) => [k, parseCheckString(v).check]));
  return { creds, target, resolve: (n) => table.get(n) ?? table.get('default') };
}

function ev(check: string, creds: Record<string, unknown>, target: Record<string, unknown> = {}, rules: Record<string, string> = {}): Tri {
  return evaluate(parseCheckString(check).check, ctx(creds, target, rules));
}

describe('check strings: parsing as oslo.policy does (printed as oslo prints)', () => {
  test('precedence: not > and > or, left to right', () => {
    assert.equal(str('a:1 or b:2 and c:3'), '(a:1 or (b:2 and c:3))');
    assert.equal(str('a:1 and b:2 or c:3'), '((a:1 and b:2) or c:3)');
    assert.equal(str('not a:1 and b:2'), '(not a:1 and b:2)');
    assert.equal(str('a:1 or not b:2 and c:3'), '(a:1 or (not b:2 and c:3))');
    assert.equal(str('a:1 and b:2 and c:3 or d:4 or e:5'), '((a:1 and b:2 and c:3) or d:4 or e:5)');
    assert.equal(str('not not a:1'), 'not not a:1');
  });

  test("parentheses group; oslo's quirk: `or … (x and y) and z` extends the parenthesised and", () => {
    assert.equal(str('(a:1 or b:2) and c:3'), '((a:1 or b:2) and c:3)');
    assert.equal(str('(a:1 and b:2) and c:3'), '((a:1 and b:2) and c:3)');
    assert.equal(str('a:1 or (b:2 and c:3) and d:4'), '(a:1 or (b:2 and c:3 and d:4))');
    assert.equal(str('((((a:1))))'), 'a:1');
  });

  test('parentheses glued to tokens, and inside a check (%(key)s)', () => {
    assert.equal(str('(role:admin and project_id:%(node.owner)s)'), '(role:admin and project_id:%(node.owner)s)');
    assert.equal(str('((role:a or role:b))and'), '!');
    assert.equal(str('(not role:a)'), 'not role:a');
  });

  test('operators in any case; white space as Python splits it', () => {
    assert.equal(str('role:a AND role:b Or NOT role:c'), '((role:a and role:b) or not role:c)');
    assert.equal(str('a:b\x1cor\x1cc:d'), '(a:b or c:d)', '\\x1c is white space to Python');
    assert.equal(str('a:b\ufeffor\ufeffc:d'), 'a:b\ufeffor\ufeffc:d', 'U+FEFF is not');
    assert.equal(str('a:b \t\n or  c:d'), '(a:b or c:d)');
  });

  test('special checks and kinds', () => {
    assert.deepEqual(parseCheckString('@').check, { type: 'true' });
    assert.deepEqual(parseCheckString('!').check, { type: 'false' });
    assert.deepEqual(parseCheckString('noseparator').check, { type: 'false' });
    assert.deepEqual(parseCheckString('rule:a:b').check, { type: 'rule', match: 'a:b' });
    assert.equal(parseCheckString('role:Admin').check.type, 'role');
    assert.equal(parseCheckString('http://example.com/check').check.type, 'external');
    assert.equal(parseCheckString('project_id:%(node.owner)s').check.type, 'generic');
  });

  test('the empty string allows; what does not parse is false as a whole, with the reason', () => {
    assert.deepEqual(parseCheckString(''), { check: { type: 'true' } });
    for (const bad of ['   ', '(role:a', 'role:a)', 'role:a or', 'and role:a', 'role:a role:b', "role:a or 'x'", '()']) {
      const parsed = parseCheckString(bad);
      assert.deepEqual(parsed.check, { type: 'false' }, bad);
      assert.ok(parsed.problem, bad);
    }
  });

  test('a lone operator, parenthesis or quoted token is not a check: oslo raises when it is evaluated', () => {
    for (const [lone, printed] of [["'quoted'", 'quoted'], ['AND', 'AND'], ['(', '(']] as const) {
      const parsed = parseCheckString(lone);
      assert.deepEqual(parsed.check, { type: 'broken', text: printed });
      assert.equal(formatCheck(parsed.check), printed);
      assert.throws(() => evaluate(parsed.check, ctx({ roles: [] })), PolicyEvaluationError);
    }
  });
});

describe('policy file values (parse_rule): strings, the old list form, empty values', () => {
  test('list of lists: outer or, inner and of single checks (no operators inside)', () => {
    assert.equal(formatCheck(parseRuleValue([['role:a', 'role:b'], ['role:c']]).check), '((role:a and role:b) or role:c)');
    assert.equal(formatCheck(parseRuleValue(['role:a', 'role:b or role:c']).check), '(role:a or role:b or role:c)');
    assert.deepEqual(parseRuleValue(['role:b or role:c']).check, { type: 'role', match: 'b or role:c', format: [{ type: 'text', text: 'b or role:c' }] });
    assert.equal(formatCheck(parseRuleValue([[], ['role:a']]).check), 'role:a');
    assert.equal(formatCheck(parseRuleValue([[1, 'role:a']]).check), '(! and role:a)', 'a non-string item fails closed');
    assert.equal(formatCheck(parseRuleValue([[], '']).check), '!', 'only empty inner lists: false');
  });

  test('an empty value allows everything (oslo: `if not rule`) — YAML null, "", false, [], {}', () => {
    for (const v of [null, undefined, '', false, 0, [], {}]) assert.deepEqual(parseRuleValue(v).check, { type: 'true' }, JSON.stringify(v));
  });

  test('a mapping is iterated by its keys; true or a number cannot be a rule', () => {
    assert.equal(formatCheck(parseRuleValue({ 'role:a': 1, 'role:b': 2 }).check), '(role:a or role:b)');
    assert.throws(() => parseRuleValue(true), TypeError);
    assert.throws(() => parseRuleValue(5), TypeError);
  });
});

describe('evaluation as oslo.policy evaluates', () => {
  const creds = { roles: ['Admin', 'member'], project_id: 'P1', system_scope: null, is_admin_project: true, nested: { a: [{ b: 'x' }, { b: 'y' }] } };

  test('role: case-insensitive on both sides; %(key)s from the target; a missing target key is false', () => {
    assert.equal(ev('role:ADMIN', creds), true);
    assert.equal(ev('role:reader', creds), false);
    assert.equal(ev('role:%(wanted)s', creds, { wanted: 'MEMBER' }), true);
    assert.equal(ev('role:%(wanted)s', creds, {}), false);
    assert.equal(ev('role:admin', { project_id: 'P1' }), false, 'no roles in the creds');
  });

  test('generic: the match (substituted from the target) against str() of the credential', () => {
    assert.equal(ev('project_id:%(node.owner)s', creds, { 'node.owner': 'P1' }), true);
    assert.equal(ev('project_id:%(node.owner)s', creds, { 'node.owner': 'P2' }), false);
    assert.equal(ev('project_id:%(node.lessee)s', creds, { 'node.owner': 'P1' }), false, 'missing key');
    assert.equal(ev('system_scope:%(node.owner)s', creds, { 'node.owner': null }), true, "None == None: both print 'None'");
    assert.equal(ev('system_scope:None', creds), true);
    assert.equal(ev('is_admin_project:True', creds), true);
    assert.equal(ev('roles:member', creds), true, 'a list matches when an element does');
    assert.equal(ev('roles:Member', creds), false, 'generic checks are case-sensitive');
    assert.equal(ev('nested.a.b:y', creds), true, 'dotted path through lists');
    assert.equal(ev('nested.c:y', creds), false);
    assert.equal(ev('absent:x', creds), false);
  });

  test('generic with a Python literal on the left: compared with its str()', () => {
    const t = { yes: true, none: null, one: 1, name: 'P1', big: 1000 };
    assert.equal(ev('True:%(yes)s', {}, t), true);
    assert.equal(ev('None:%(none)s', {}, t), true);
    assert.equal(ev("'P1':%(name)s", {}, t), true);
    assert.equal(ev('"P1":%(name)s', {}, t), true);
    assert.equal(ev('1:%(one)s', {}, t), true);
    assert.equal(ev('0x1:%(one)s', {}, t), true);
    assert.equal(ev('1e3:%(big)s', {}, t), false, "str(1e3) is '1000.0'");
    assert.equal(ev('1e3:1000.0', {}, t), true);
  });

  test('%% is a percent sign, %(key)r is repr()', () => {
    assert.equal(ev('p:50%%', { p: '50%' }), true);
    assert.equal(ev('p:%(x)r', { p: "'a'" }, { x: 'a' }), true);
  });

  test('rule: resolves in the table; unknown names fall back to `default`, else false', () => {
    assert.equal(ev('rule:r', creds, {}, { r: 'role:admin' }), true);
    assert.equal(ev('rule:nope', creds, {}, { r: 'role:admin' }), false);
    assert.equal(ev('rule:nope', creds, {}, { default: 'role:member' }), true);
  });

  test('http: and https: checks (a remote call in oslo) are false', () => {
    assert.equal(ev('http://policy.example.com/check', creds), false);
    assert.equal(ev('not https://policy.example.com/check', creds), true);
  });

  test('where oslo raises, evaluation throws: endless rule references, Python syntax errors, malformed formats', () => {
    assert.throws(() => ev('rule:a', creds, {}, { a: 'rule:b or role:x', b: 'rule:a' }), /without end/);
    assert.equal(ev('@ or rule:a', creds, {}, { a: 'rule:a' }), true, 'not reached: no error');
    assert.throws(() => ev('class:x', creds), PolicyEvaluationError);
    assert.throws(() => ev('007:x', creds), PolicyEvaluationError);
    assert.throws(() => ev('p:50%', creds), PolicyEvaluationError);
    assert.equal(ev('p:%(missing)s50%', creds), false, 'the KeyError comes first');
    assert.throws(() => ev('roles.x:y', creds), PolicyEvaluationError, 'a string has no keys');
  });

  test('forms the engine does not model are reported (the enforcer refuses them in a policy file)', () => {
    assert.deepEqual(unsupportedParts(parseCheckString('role:admin').check), []);
    assert.equal(unsupportedParts(parseCheckString('project_id:%(x)d').check).length, 1);
    assert.equal(unsupportedParts(parseCheckString('a-b:x').check).length, 1);
    assert.equal(unsupportedParts(parseCheckString('role:a or [1]:x').check).length, 1);
  });
});

describe('UNKNOWN target values: Kleene logic', () => {
  const creds = { roles: ['member'], project_id: 'P1' };
  const blind = { 'node.owner': UNKNOWN };

  test('a check on an UNKNOWN value is unknown; and/or/not combine as Kleene', () => {
    assert.equal(ev('project_id:%(node.owner)s', creds, blind), 'unknown');
    assert.equal(ev('role:member and project_id:%(node.owner)s', creds, blind), 'unknown');
    assert.equal(ev('role:admin and project_id:%(node.owner)s', creds, blind), false);
    assert.equal(ev('project_id:%(node.owner)s and role:admin', creds, blind), false);
    assert.equal(ev('role:member or project_id:%(node.owner)s', creds, blind), true);
    assert.equal(ev('project_id:%(node.owner)s or role:member', creds, blind), true);
    assert.equal(ev('not project_id:%(node.owner)s', creds, blind), 'unknown');
    assert.equal(ev('role:admin or project_id:%(node.owner)s', creds, blind), 'unknown');
  });

  test('a missing key still makes a check false, whatever else is unknown', () => {
    assert.equal(ev('project_id:%(node.owner)s%(node.lessee)s', creds, blind), false);
    assert.equal(ev('absent:%(node.owner)s', creds, blind), false, 'no such credential');
    assert.equal(ev('role:%(node.owner)s', { roles: [] }, blind), false, 'no role can match');
  });

  test('a literal or a role against an UNKNOWN value is unknown', () => {
    assert.equal(ev('None:%(node.owner)s', creds, blind), 'unknown');
    assert.equal(ev('role:%(node.owner)s', creds, blind), 'unknown');
  });
});

describe("Python's str() forms", () => {
  test('floats as repr(float)', () => {
    const cases: [number, string][] = [
      [1000, '1000.0'], [0.1, '0.1'], [1.5, '1.5'], [1e16, '1e+16'], [1e-5, '1e-05'], [0.0002, '0.0002'],
      [123456789012345680, '1.2345678901234568e+17'], [-2.5e-7, '-2.5e-07'], [1e15, '1000000000000000.0'], [-0, '-0.0'],
    ];
    for (const [x, s] of cases) assert.equal(pyFloatRepr(x), s, String(x));
  });

  test('None, booleans, lists, dicts, strings with quotes', () => {
    assert.equal(pyStr(null), 'None');
    assert.equal(pyStr(true), 'True');
    assert.equal(pyStr(['a', 1, null]), "['a', 1, None]");
    assert.equal(pyStr({ a: "it's" }), `{'a': "it's"}`);
    assert.equal(pyStr(['x', UNKNOWN]), UNKNOWN);
  });

  test('kinds: literals, dotted names, Python syntax errors', () => {
    assert.deepEqual(readKind('None'), { type: 'literal', value: 'None' });
    assert.deepEqual(readKind("b'x'"), { type: 'literal', value: "b'x'" });
    assert.deepEqual(readKind('-0x10'), { type: 'literal', value: '-16' });
    assert.deepEqual(readKind('1_000'), { type: 'literal', value: '1000' });
    assert.deepEqual(readKind('.5'), { type: 'literal', value: '0.5' });
    assert.deepEqual(readKind('project_id'), { type: 'path', segments: ['project_id'] });
    assert.deepEqual(readKind('True.x'), { type: 'path', segments: ['True', 'x'] });
    assert.equal(readKind('x.None').type, 'raise');
    assert.equal(readKind('lambda').type, 'raise');
  });
});

/** Exhaustive check of the Kleene evaluator against all completions of one unknown (soundness). */
describe('Kleene soundness over random trees', () => {
  test('a definite answer with UNKNOWN is the answer for every value', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n);
    };
    const leaves = ['role:a', 'role:b', 'x:%(v)s', 'y:%(v)s', '@', '!', 'x:1', 'role:%(v)s'];
    const gen = (d: number): string => {
      const r = rand(d > 3 ? 1 : 4);
      if (r === 0) return leaves[rand(leaves.length)]!;
      if (r === 1) return `not ${gen(d + 1)}`;
      return `(${gen(d + 1)} ${rand(2) ? 'and' : 'or'} ${gen(d + 1)})`;
    };
    const creds = { roles: ['a', '1'], x: '1', y: '2' };
    for (let i = 0; i < 500; i++) {
      const check: CheckNode = parseCheckString(gen(0)).check;
      const blind = evaluate(check, ctx(creds, { v: UNKNOWN }));
      const known = ['1', '2', 'a', 'b'].map((v) => evaluate(check, ctx(creds, { v })));
      if (blind !== 'unknown') assert.ok(known.every((k) => k === blind), formatCheck(check));
      else assert.ok(true);
    }
  });
});
