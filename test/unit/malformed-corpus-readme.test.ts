/**
 * The README states the size of the malformed-request corpus (issue 10):
 * the number must be the corpus's, as cases are added or stop being pending.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CORPUS, CORPUS_SIZE } from '../support/malformed-corpus.js';

test("the README's count of malformed cases is the corpus's", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
  const m = /\*\*(\d+) malformed cases, none reaches a site\*\*(?: \((\d+) more)?/.exec(readme);
  assert.ok(m, 'README: "**N malformed cases, none reaches a site**", then "(M more …" while some are pending');
  assert.equal(Number(m[1]), CORPUS_SIZE);
  assert.equal(Number(m[2] ?? 0), CORPUS.length - CORPUS_SIZE, 'pending cases named in the README');
});
