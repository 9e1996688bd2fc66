/**
 * The one closed catalogue of the proxy's own errors (src/errors.ts): each
 * code has one status and body shape, a ProxyError takes its status from
 * it (only the codes marked variable take the case's), and the HTTP layer
 * renders each in Ironic's body.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { ERROR_CATALOGUE, ProxyError, type ErrorCode } from '../../src/errors.js';

test('every code has a status and a shape, and errors take them from the catalogue', () => {
  for (const [code, entry] of Object.entries(ERROR_CATALOGUE) as Array<[ErrorCode, (typeof ERROR_CATALOGUE)[ErrorCode]]>) {
    assert.ok(entry.status === 499 || STATUS_CODES[entry.status], `${code}: ${entry.status}`);
    assert.ok(entry.what.length > 0, code);
    const err = new ProxyError(code, 'x');
    assert.equal(err.status, entry.status);
    assert.equal(err.shape, entry.shape);
  }
});

test('a status other than the catalogue\'s is refused, but for the variable codes', () => {
  assert.throws(() => new ProxyError('NODE_NOT_FOUND', 'x', 400), /NODE_NOT_FOUND is answered 404/);
  assert.equal(new ProxyError('VERSION_GATE', '', 405).status, 405);
  assert.equal(new ProxyError('CLIENT_ERROR', 'x', 422).status, 422);
});
