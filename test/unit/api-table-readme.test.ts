/** The README's API table is the code's: regenerate it with `npm run api-table`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describeApiTable, withApiTable } from '../../src/api/describe.js';
import { API_TABLE } from '../../src/api/table/index.js';

test('README.md shows the API table as src/api/table/ declares it', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  assert.equal(withApiTable(readme), readme, 'README.md is out of date: run `npm run api-table`');
});

test('every entry has its row, and every refused form its reason', () => {
  const text = describeApiTable();
  for (const e of API_TABLE) assert.ok(text.includes(`| ${e.method} | \`${e.path}\` |`), `${e.method} ${e.path}`);
  assert.match(text, /PATCH \/v1\/nodes\?node_ident=/);
});
