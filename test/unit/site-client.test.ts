/**
 * One site's client, below the proxy: answers are collected whole (status,
 * headers, body), bounded in size, and transport failures become typed
 * errors that name the site.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseJsonBody, readIdentity, SiteClient } from '../../src/sites/site-client.js';
import { createSiteAuth } from '../../src/sites/auth.js';
import type { SiteConfig } from '../../src/config/types.js';
import { SiteProtocolError, SiteTimeoutError, SiteUnavailableError } from '../../src/errors.js';

const V = { major: 1, minor: 80 };
const LIMITS = { connections: 4, maxQueued: 10, circuitFailureThreshold: 100, circuitOpenSeconds: 60 };

function clientFor(url: string, timeoutSeconds = 5): SiteClient {
  const cfg: SiteConfig = { name: 'edge-7', ordinal: 0, conductorGroups: [''], authType: 'none', endpointOverride: url, timeoutSeconds, insecure: false };
  return new SiteClient(cfg, createSiteAuth(cfg), LIMITS);
}

describe('site client', () => {
  let server: http.Server;
  let url: string;
  const seen: http.IncomingHttpHeaders[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers);
      if (req.url === '/huge') {
        // 65 MiB in 1 MiB chunks: over the 64 MiB bound.
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        let left = 65;
        const more = (): void => {
          while (left > 0) {
            left--;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
          res.end();
        };
        more();
        req.socket.on('close', () => (left = 0));
        return;
      }
      if (req.url === '/hang') return; // never answers
      if (req.url === '/chunked') {
        res.writeHead(201, { 'content-type': 'application/json', location: 'http://x/v1/nodes/a', 'x-openstack-ironic-api-maximum-version': '1.82' });
        res.write('{"a": ');
        setImmediate(() => res.end('[1, 2]}'));
        return;
      }
      res.writeHead(204);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('an answer in several chunks is collected whole, with its status and headers', async () => {
    const client = clientFor(url);
    try {
      const res = await client.request({ method: 'GET', path: '/chunked', version: V, requestId: 'req-1' });
      assert.equal(res.status, 201);
      assert.equal(res.body.toString(), '{"a": [1, 2]}');
      assert.equal(res.headers.location, 'http://x/v1/nodes/a');
      assert.equal(res.headers['x-openstack-ironic-api-maximum-version'], '1.82');
      const sent = seen.at(-1)!;
      assert.equal(sent['x-openstack-ironic-api-version'], '1.80');
      assert.equal(sent['x-openstack-request-id'], 'req-1');
    } finally {
      await client.close();
    }
  });

  test('an empty answer (204) has an empty body', async () => {
    const client = clientFor(url);
    try {
      const res = await client.request({ method: 'DELETE', path: '/v1/nodes/a', version: V, requestId: 'req-2' });
      assert.equal(res.status, 204);
      assert.equal(res.body.length, 0);
    } finally {
      await client.close();
    }
  });

  test('an answer over 64 MiB is refused as the site misbehaving, and the client goes on working', async () => {
    const client = clientFor(url);
    try {
      await assert.rejects(client.request({ method: 'GET', path: '/huge', version: V, requestId: 'req-3' }), (err: Error) => {
        assert.ok(err instanceof SiteProtocolError, String(err));
        assert.match(err.message, /edge-7.*larger than 67108864 bytes/);
        return true;
      });
      // Not a transport failure: the circuit stays closed, the next request is sent.
      assert.equal(client.breaker.state, 'closed');
      assert.equal((await client.request({ method: 'GET', path: '/', version: V, requestId: 'req-4' })).status, 204);
    } finally {
      await client.close();
    }
  });

  test('a site that does not answer in time is a timeout naming the site', async () => {
    const client = clientFor(url, 0.3);
    try {
      await assert.rejects(client.request({ method: 'GET', path: '/hang', version: V, requestId: 'req-5' }), (err: Error) => {
        assert.ok(err instanceof SiteTimeoutError, String(err));
        assert.match(err.message, /edge-7/);
        return true;
      });
    } finally {
      await client.close();
    }
  });

  test('a site that refuses connections is unavailable, named', async () => {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const client = clientFor(`http://127.0.0.1:${port}`);
    try {
      await assert.rejects(client.request({ method: 'GET', path: '/', version: V, requestId: 'req-6' }), (err: Error) => {
        assert.ok(err instanceof SiteUnavailableError, String(err));
        assert.match(err.message, /edge-7/);
        return true;
      });
    } finally {
      await client.close();
    }
  });
});

describe('readIdentity (what a write answer tells the location cache)', () => {
  const answer = (body: string, status = 200) => ({ status, headers: { 'content-type': 'application/json' }, body: Buffer.from(body) });
  /** What the full parse gives for the same keys (absent stays absent, a non-string is null). */
  const fromParse = (body: string): Record<string, unknown> => {
    const doc = parseJsonBody<Record<string, unknown>>('s', answer(body))!;
    const out: Record<string, unknown> = {};
    for (const k of ['uuid', 'name']) if (k in doc) out[k] = typeof doc[k] === 'string' ? doc[k] : null;
    return out;
  };

  test('agrees with the parsed document on uuid and name, whatever they hold', () => {
    for (const body of [
      '{"uuid": "1be26c0b-03f2-4d2e-ae87-c02d7f33c123", "name": "n1", "extra": {"name": "inner", "uuid": "x"}}',
      '{"name": "a \\"quoted\\" \\u00e9 name"}',
      '{"uuid": null, "name": 5}',
      '{"extra": {}}',
      '{"name": "first", "name": "last"}',
      '\ufeff{"uuid": "u"}',
      // An escaped key is the same key to every parser (the last of duplicates wins).
      '{"uuid": "asked", "\\u0075uid": "other", "n\\u0061me": "x"}',
      '{"\\u0075uid": "other", "uuid": "asked"}',
      '{"\\u0075uid": 5}',
      '{"\\"uuid": "q", "na\\\\me": "r"}',
    ]) {
      assert.deepEqual(readIdentity('s', answer(body)), fromParse(body), body);
    }
  });

  test("a success that is not JSON is the site's protocol error; an error answer teaches nothing", () => {
    assert.throws(() => readIdentity('s', answer('{"uuid": "u"')), SiteProtocolError);
    assert.throws(() => readIdentity('s', answer('{"uuid": NaN}')), SiteProtocolError);
    assert.equal(readIdentity('s', answer('<html>', 500)), undefined);
    assert.equal(readIdentity('s', answer('[1]')), undefined);
  });
});
