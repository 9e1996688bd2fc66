/**
 * The Node.js options of the serving processes (src/runtime-flags.ts): added
 * to what the operator gave, never over it, and the same in the two places
 * that carry them (the primary's worker arguments, bin/ironic-proxy.js's
 * interpreter line).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SERVER_NODE_FLAGS, withServerFlags } from '../../src/runtime-flags.js';

describe('server Node.js options', () => {
  test('added to the process options', () => {
    assert.deepEqual(withServerFlags(['--enable-source-maps']), ['--enable-source-maps', ...SERVER_NODE_FLAGS]);
  });

  test("an option the operator set is the operator's", () => {
    const own = SERVER_NODE_FLAGS.map((f) => `${f.split('=')[0]}=64`);
    assert.deepEqual(withServerFlags(own), own);
  });

  test('the interpreter line of bin/ironic-proxy.js carries the same options', () => {
    const first = readFileSync(new URL('../../bin/ironic-proxy.js', import.meta.url), 'utf8').split('\n')[0]!;
    assert.equal(first, `#!/usr/bin/env -S node ${SERVER_NODE_FLAGS.join(' ')}`);
  });
});
