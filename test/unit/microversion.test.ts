import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  atLeast,
  compareVersions,
  formatVersion,
  negotiate,
  parseVersion,
  requestedVersionText,
  type Negotiated,
  type VersionRange,
} from '../../src/ironic/microversion.js';
import { errorMessageOf, faultBody, routingErrorBody, statusTitle } from '../../src/ironic/error-body.js';

const RANGE: VersionRange = { min: { major: 1, minor: 1 }, max: { major: 1, minor: 82 } };
const legacy = (v: string): Record<string, string> => ({ 'x-openstack-ironic-api-version': v });

function ok(n: Negotiated): string {
  assert.equal(n.ok, true, `expected success, got ${JSON.stringify(n)}`);
  return formatVersion((n as Extract<Negotiated, { ok: true }>).version);
}

function refused(n: Negotiated): Extract<Negotiated, { ok: false }> {
  assert.equal(n.ok, false, `expected a 406, got ${JSON.stringify(n)}`);
  const r = n as Extract<Negotiated, { ok: false }>;
  assert.equal(r.status, 406);
  return r;
}

describe('negotiate', () => {
  test('no header means the minimum (1.1), not the latest', () => {
    assert.equal(ok(negotiate({}, RANGE)), '1.1');
    assert.equal(ok(negotiate({}, { min: { major: 1, minor: 1 }, max: { major: 1, minor: 9 } })), '1.1');
  });

  test('latest in any case resolves to the maximum', () => {
    for (const v of ['latest', 'LATEST', 'Latest', ' latest ']) assert.equal(ok(negotiate(legacy(v), RANGE)), '1.82', v);
  });

  test('versions inside the range, with spaces and leading zeros', () => {
    assert.equal(ok(negotiate(legacy('1.40'), RANGE)), '1.40');
    assert.equal(ok(negotiate(legacy(' 1.05'), RANGE)), '1.5');
    assert.equal(ok(negotiate(legacy('1.1'), RANGE)), '1.1');
    assert.equal(ok(negotiate(legacy('1.82'), RANGE)), '1.82');
  });

  test('malformed values: 406 without range headers', () => {
    for (const v of ['abc', '1', '1.5.1', '1.', '.5', '1.x', 'v1.5', '1,5']) {
      const r = refused(negotiate(legacy(v), RANGE));
      assert.equal(r.description, 'Invalid value for X-OpenStack-Ironic-API-Version header', JSON.stringify(v));
      assert.equal(r.withRangeHeaders, false);
    }
  });

  test('another major version: "Mutually exclusive versions requested"', () => {
    const r = refused(negotiate(legacy('2.1'), RANGE));
    assert.equal(
      r.description,
      'Mutually exclusive versions requested. Version 2.1 requested but not supported by this service. ' +
        'The supported version range is: [1.1, 1.82].',
    );
    assert.equal(r.withRangeHeaders, true);
    assert.match(refused(negotiate(legacy('0.9'), RANGE)).description, /^Mutually exclusive versions requested\. Version 0\.9 /);
  });

  test('a minor version outside the range', () => {
    for (const v of ['1.0', '1.83', '1.115']) {
      const r = refused(negotiate(legacy(v), RANGE));
      assert.equal(
        r.description,
        `Version ${v} was requested but the minor version is not supported by this service. ` +
          'The supported version range is: [1.1, 1.82].',
      );
      assert.equal(r.withRangeHeaders, true);
    }
  });

  test('the range in the text is the one negotiated against (common range of the sites)', () => {
    const narrow: VersionRange = { min: { major: 1, minor: 1 }, max: { major: 1, minor: 46 } };
    assert.match(refused(negotiate(legacy('1.50'), narrow)).description, /\[1\.1, 1\.46\]\.$/);
    assert.equal(ok(negotiate(legacy('latest'), narrow)), '1.46');
  });

  test('the standard OpenStack-API-Version header wins over the legacy one', () => {
    const headers = { 'openstack-api-version': 'baremetal 1.40', 'x-openstack-ironic-api-version': '1.20' };
    assert.equal(ok(negotiate(headers, RANGE)), '1.40');
    assert.equal(ok(negotiate({ 'openstack-api-version': 'BareMetal latest' }, RANGE)), '1.82');
    assert.equal(ok(negotiate({ 'openstack-api-version': 'compute 2.1, baremetal 1.31' }, RANGE)), '1.31');
    const bad = refused(negotiate({ 'openstack-api-version': 'baremetal 1.99', 'x-openstack-ironic-api-version': '1.20' }, RANGE));
    assert.match(bad.description, /^Version 1\.99 was requested/);
  });

  test('the standard header for other services is ignored', () => {
    assert.equal(ok(negotiate({ 'openstack-api-version': 'compute 2.95' }, RANGE)), '1.1');
    assert.equal(ok(negotiate({ 'openstack-api-version': 'compute 2.95', 'x-openstack-ironic-api-version': '1.30' }, RANGE)), '1.30');
    assert.equal(requestedVersionText({ 'openstack-api-version': 'baremetalx 1.5' }), undefined);
  });
});

describe('version helpers', () => {
  test('parseVersion is strict', () => {
    assert.deepEqual(parseVersion('1.82'), { major: 1, minor: 82 });
    assert.deepEqual(parseVersion(' 01.007 '), { major: 1, minor: 7 });
    assert.equal(parseVersion('1.5.1'), undefined);
    assert.equal(parseVersion('latest'), undefined);
  });

  test('compareVersions numerically per component, atLeast', () => {
    assert.ok(compareVersions({ major: 1, minor: 9 }, { major: 1, minor: 10 }) < 0);
    assert.ok(compareVersions({ major: 2, minor: 0 }, { major: 1, minor: 99 }) > 0);
    assert.equal(compareVersions({ major: 1, minor: 5 }, { major: 1, minor: 5 }), 0);
    assert.equal(atLeast({ major: 1, minor: 5 }, 5), true);
    assert.equal(atLeast({ major: 1, minor: 4 }, 5), false);
  });
});

describe('error bodies', () => {
  test('faultBody: error_message is a JSON string with faultcode Client, faultstring and debuginfo null', () => {
    const body = JSON.parse(faultBody(404, 'Node n1 could not be found.')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['error_message']);
    assert.equal(typeof body.error_message, 'string', 'a string, not an object (ironicclient json-decodes it)');
    assert.deepEqual(JSON.parse(body.error_message as string), {
      faultcode: 'Client',
      faultstring: 'Node n1 could not be found.',
      debuginfo: null,
    });
  });

  test('faultBody: 5xx are Server faults', () => {
    for (const status of [500, 503, 504]) {
      const inner = JSON.parse((JSON.parse(faultBody(status, 'x')) as { error_message: string }).error_message) as Record<string, unknown>;
      assert.equal(inner.faultcode, 'Server', String(status));
    }
    const inner = JSON.parse((JSON.parse(faultBody(499, 'x')) as { error_message: string }).error_message) as Record<string, unknown>;
    assert.equal(inner.faultcode, 'Client');
  });

  test('routingErrorBody: {code, title, description} inside the string', () => {
    const body = JSON.parse(routingErrorBody(406, 'Invalid value for X-OpenStack-Ironic-API-Version header')) as Record<string, unknown>;
    assert.equal(typeof body.error_message, 'string');
    assert.deepEqual(JSON.parse(body.error_message as string), {
      code: 406,
      title: 'Not Acceptable',
      description: 'Invalid value for X-OpenStack-Ironic-API-Version header',
    });
    assert.deepEqual(JSON.parse((JSON.parse(routingErrorBody(404, '')) as { error_message: string }).error_message), {
      code: 404,
      title: 'Not Found',
      description: '',
    });
    assert.equal(statusTitle(405), 'Method Not Allowed');
  });

  test('errorMessageOf reads both shapes, and copes with odd bodies', () => {
    assert.equal(errorMessageOf(JSON.parse(faultBody(409, 'A node with name n1 already exists.'))), 'A node with name n1 already exists.');
    assert.equal(errorMessageOf(JSON.parse(routingErrorBody(406, 'Mutually exclusive versions requested.'))), 'Mutually exclusive versions requested.');
    assert.equal(errorMessageOf({ error_message: 'plain text, not JSON' }), 'plain text, not JSON');
    assert.equal(errorMessageOf({ error_message: { faultstring: 'object' } }), undefined);
    assert.equal(errorMessageOf(null), undefined);
    assert.equal(errorMessageOf('string'), undefined);
    assert.equal(errorMessageOf({}), undefined);
  });
});
