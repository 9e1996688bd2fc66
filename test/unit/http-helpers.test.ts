import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { INVALID_PATH, normalizeUrl } from '../../src/http/normalize-url.js';
import { rebase, rewriteLinks, rewriteLinkBytes } from '../../src/http/rewrite.js';

/** The byte rewrite, read and written as text. */
const rewriteLinkText = (text: string, bases: string[], to: string): string | undefined => rewriteLinkBytes(Buffer.from(text), bases, to)?.toString('utf8');
import { requestBaseUrl, type BaseUrlOptions } from '../../src/http/base-url.js';

describe('normalizeUrl', () => {
  test('duplicate slashes collapse and a trailing slash is dropped', () => {
    assert.equal(normalizeUrl('//v1//nodes/'), '/v1/nodes');
    assert.equal(normalizeUrl('/v1/nodes///abc//ports/'), '/v1/nodes/abc/ports');
    assert.equal(normalizeUrl('/v1/'), '/v1');
    assert.equal(normalizeUrl('/'), '/');
    assert.equal(normalizeUrl('//'), '/');
  });

  test('a path without the v1 segment is the v1 path', () => {
    assert.equal(normalizeUrl('/nodes'), '/v1/nodes');
    assert.equal(normalizeUrl('/nodes/n1/states/provision'), '/v1/nodes/n1/states/provision');
    assert.equal(normalizeUrl('/v1/nodes'), '/v1/nodes');
    assert.equal(normalizeUrl('/v1'), '/v1');
  });

  test('a trailing .json on the last segment is dropped', () => {
    assert.equal(normalizeUrl('/v1/nodes.json'), '/v1/nodes');
    assert.equal(normalizeUrl('/v1/nodes/n1.json'), '/v1/nodes/n1');
    assert.equal(normalizeUrl('/nodes/n1.json?fields=uuid'), '/v1/nodes/n1?fields=uuid');
    assert.equal(normalizeUrl('/v1.json'), '/v1');
    // Ironic strips `.json` from the path as a string: a segment that is only `.json` leaves the collection.
    assert.equal(normalizeUrl('/v1/allocations/.json'), '/v1/allocations');
    assert.equal(normalizeUrl('/v1/nodes/.json?limit=1'), '/v1/nodes?limit=1');
    assert.equal(normalizeUrl('/.json'), '/');
    // Only the last segment.
    assert.equal(normalizeUrl('/v1/nodes.json/ports'), '/v1/nodes.json/ports');
  });

  test('dot segments and encoded dots/slashes are no resource', () => {
    for (const url of [
      '/v1/nodes/../ports',
      '/v1/./nodes',
      '/v1/nodes/..',
      '/v1/nodes/%2e%2e/ports',
      '/v1/nodes/%2E%2E/ports',
      '/v1/nodes/%2e',
      '/v1/nodes/a%2fb',
      '/v1/nodes/a%2Fb/ports',
      '/nodes/../v1/ports?limit=1',
    ]) {
      assert.equal(normalizeUrl(url), INVALID_PATH, url);
    }
  });

  test('half-encoded dot segments are no resource either', () => {
    for (const url of ['/v1/nodes/.%2e/ports', '/v1/nodes/%2e./ports', '/v1/nodes/.%2E']) {
      assert.equal(normalizeUrl(url), INVALID_PATH, url);
    }
  });

  test('a dot segment uncovered by stripping .json is no resource', () => {
    for (const url of ['/v1/nodes/...json', '/v1/nodes/%2e%2e.json', '/v1/nodes/..json']) {
      assert.equal(normalizeUrl(url), INVALID_PATH, url);
    }
  });

  test('names with dots that are not dot segments are kept', () => {
    assert.equal(normalizeUrl('/v1/nodes/node.1'), '/v1/nodes/node.1');
    assert.equal(normalizeUrl('/v1/nodes/...x'), '/v1/nodes/...x');
  });

  test('the proxy operational endpoints are not moved under /v1', () => {
    assert.equal(normalizeUrl('/healthz'), '/healthz');
    assert.equal(normalizeUrl('/readyz/'), '/readyz');
    assert.equal(normalizeUrl('/metrics?name[]=x'), '/metrics?name[]=x');
  });

  test('the query string is kept as is, dots and slashes included', () => {
    assert.equal(normalizeUrl('/nodes?limit=2&marker=abc'), '/v1/nodes?limit=2&marker=abc');
    assert.equal(normalizeUrl('//v1/nodes/?name=../x%2fy&detail=True'), '/v1/nodes?name=../x%2fy&detail=True');
    assert.equal(normalizeUrl('/v1/nodes?'), '/v1/nodes?');
  });
});

describe('rebase', () => {
  const site = ['http://site:1'];

  test('replaces the base when followed by a path, a query or nothing', () => {
    assert.equal(rebase('http://site:1/v1/nodes/x', site, 'https://proxy'), 'https://proxy/v1/nodes/x');
    assert.equal(rebase('http://site:1?limit=1', site, 'https://proxy'), 'https://proxy?limit=1');
    assert.equal(rebase('http://site:1', site, 'https://proxy'), 'https://proxy');
  });

  test('only at a boundary: http://site:1 does not rewrite http://site:10', () => {
    assert.equal(rebase('http://site:10/v1/nodes', site, 'https://proxy'), 'http://site:10/v1/nodes');
    assert.equal(rebase('http://site:1.evil/v1', site, 'https://proxy'), 'http://site:1.evil/v1');
    assert.equal(rebase('http://site:1/baremetalx/v1', ['http://site:1/baremetal'], 'https://proxy'), 'http://site:1/baremetalx/v1');
  });

  test('a base with a path prefix, and several bases', () => {
    const bases = ['http://10.0.0.1:6385', 'https://ironic.site/baremetal'];
    assert.equal(rebase('https://ironic.site/baremetal/v1/nodes', bases, 'https://proxy/bm'), 'https://proxy/bm/v1/nodes');
    assert.equal(rebase('http://10.0.0.1:6385/v1', bases, 'https://proxy/bm'), 'https://proxy/bm/v1');
    assert.equal(rebase('http://10.0.0.2:6385/v1', bases, 'https://proxy/bm'), 'http://10.0.0.2:6385/v1');
  });
});

describe('rewriteLinks', () => {
  const SITE = 'http://site:1';
  const PROXY = 'https://proxy.example';

  function nodeList(): Record<string, unknown> {
    return {
      nodes: [
        {
          uuid: 'u1',
          links: [
            { href: `${SITE}/v1/nodes/u1`, rel: 'self' },
            { href: `${SITE}/nodes/u1`, rel: 'bookmark' },
          ],
          ports: [{ href: `${SITE}/v1/nodes/u1/ports`, rel: 'self' }],
          driver_info: { ipmi_address: '10.1.1.1', href: `${SITE}/v1/x`, links: [{ href: `${SITE}/v1/y` }] },
          extra: { next: `${SITE}/v1/nodes?marker=z`, note: { href: `${SITE}/deep` } },
          properties: { href: `${SITE}/p` },
          instance_info: { image_source: `${SITE}/images/i.qcow2`, href: `${SITE}/i` },
        },
      ],
      next: `${SITE}/v1/nodes?limit=1&marker=u1`,
    };
  }

  test('href and next are rewritten in nested arrays and links objects', () => {
    const body = rewriteLinks(nodeList(), [SITE], PROXY);
    const node = (body.nodes as Array<Record<string, unknown>>)[0]!;
    assert.deepEqual(node.links, [
      { href: `${PROXY}/v1/nodes/u1`, rel: 'self' },
      { href: `${PROXY}/nodes/u1`, rel: 'bookmark' },
    ]);
    assert.deepEqual(node.ports, [{ href: `${PROXY}/v1/nodes/u1/ports`, rel: 'self' }]);
    assert.equal(body.next, `${PROXY}/v1/nodes?limit=1&marker=u1`);
  });

  test('free-form user data is left alone at any depth', () => {
    const original = nodeList();
    const body = rewriteLinks(nodeList(), [SITE], PROXY);
    const node = (body.nodes as Array<Record<string, unknown>>)[0]!;
    const orig = (original.nodes as Array<Record<string, unknown>>)[0]!;
    for (const key of ['driver_info', 'extra', 'properties', 'instance_info']) {
      assert.deepEqual(node[key], orig[key], key);
    }
  });

  test('a link to anywhere but the site (another host, //host, javascript:) is neutralised', () => {
    const v1 = {
      id: 'v1',
      links: [
        { href: `${SITE}/v1/`, rel: 'self' },
        { href: 'https://docs.openstack.org/ironic/latest/contributor/webapi.html', rel: 'describedby', type: 'text/html' },
        { href: '//evil.example/v1', rel: 'bookmark' },
        { href: 'javascript:alert(1)', rel: 'x' },
        { href: `${SITE}0/v1`, rel: 'x' },
      ],
      nodes: [{ href: `${SITE}/v1/nodes/`, rel: 'self' }],
      next: 'https://evil.example/v1/nodes?marker=x',
    };
    rewriteLinks(v1, [SITE], PROXY);
    assert.deepEqual(
      v1.links.map((l) => l.href),
      [`${PROXY}/v1/`, '', '', '', ''],
    );
    assert.equal(v1.nodes[0]!.href, `${PROXY}/v1/nodes/`);
    assert.equal(v1.next, '');
  });

  test('only where Ironic puts links: top-level lists, items of a top-level list, default_version; never user data', () => {
    const root = {
      default_version: { id: 'v1', links: [{ href: `${SITE}/v1/`, rel: 'self' }] },
      versions: [{ id: 'v1', links: [{ href: `${SITE}/v1/`, rel: 'self' }] }],
      extra: { links: [{ href: `${SITE}/x`, rel: 'self' }], href: `${SITE}/y`, next: `${SITE}/z` },
      steps: [{ interface: 'deploy', href: `${SITE}/s`, rel: 'x' }],
      deep: [{ a: [{ b: [{ href: `${SITE}/d`, rel: 'self' }] }] }],
      nohref: [{ href: `${SITE}/n` }],
    };
    rewriteLinks(root, [SITE], PROXY);
    assert.equal(root.default_version.links[0]!.href, `${PROXY}/v1/`);
    assert.equal(root.versions[0]!.links[0]!.href, `${PROXY}/v1/`);
    assert.deepEqual(root.extra, { links: [{ href: `${SITE}/x`, rel: 'self' }], href: `${SITE}/y`, next: `${SITE}/z` });
    assert.equal(root.steps[0]!.href, `${SITE}/s`);
    assert.equal(root.deep[0]!.a[0]!.b[0]!.href, `${SITE}/d`);
    assert.equal(root.nohref[0]!.href, `${SITE}/n`, 'an object without rel is not a link');
  });

  test('top-level arrays, scalars and non-string href values are not documents with links', () => {
    const arr = [{ href: `${SITE}/a`, rel: 'self' }, null, 3, 'text', [{ next: `${SITE}/b` }]];
    rewriteLinks(arr, [SITE], PROXY);
    assert.deepEqual(arr, [{ href: `${SITE}/a`, rel: 'self' }, null, 3, 'text', [{ next: `${SITE}/b` }]]);
    const odd = { href: 42, next: null, link: `${SITE}/c` };
    rewriteLinks(odd, [SITE], PROXY);
    assert.deepEqual(odd, { href: 42, next: null, link: `${SITE}/c` });
    assert.equal(rewriteLinks('plain', [SITE], PROXY), 'plain');
  });
});

describe('requestBaseUrl', () => {
  const opts = (o: Partial<BaseUrlOptions> = {}): BaseUrlOptions => ({
    trustProxyHeaders: false,
    tls: false,
    fallbackHost: '127.0.0.1:6385',
    ...o,
  });

  test('[api]public_endpoint wins over everything', () => {
    const headers = { host: 'h:1', 'x-forwarded-host': 'lb.example', forwarded: 'host=fw.example;proto=https' };
    assert.equal(requestBaseUrl(headers, opts({ publicEndpoint: 'https://bm.example.com/api', trustProxyHeaders: true })), 'https://bm.example.com/api');
  });

  test('scheme and Host of the request', () => {
    assert.equal(requestBaseUrl({ host: 'ironic.example:6385' }, opts()), 'http://ironic.example:6385');
    assert.equal(requestBaseUrl({ host: 'ironic.example' }, opts({ tls: true })), 'https://ironic.example');
    assert.equal(requestBaseUrl({ host: '[::1]:6385' }, opts()), 'http://[::1]:6385');
    assert.equal(requestBaseUrl({}, opts()), 'http://127.0.0.1:6385');
  });

  test('X-Forwarded-* and Forwarded are ignored unless trusted', () => {
    const headers = {
      host: 'internal:6385',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'lb.example',
      'x-forwarded-prefix': '/baremetal',
      forwarded: 'proto=https;host=fw.example',
    };
    assert.equal(requestBaseUrl(headers, opts()), 'http://internal:6385');
  });

  test('X-Forwarded-Proto/Host/Prefix when trusted', () => {
    const headers = { host: 'internal:6385', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'lb.example:8443', 'x-forwarded-prefix': 'baremetal/' };
    assert.equal(requestBaseUrl(headers, opts({ trustProxyHeaders: true })), 'https://lb.example:8443/baremetal');
    // Several proxies: the first (client-facing) value.
    assert.equal(
      requestBaseUrl({ host: 'i', 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'a.example, b.example' }, opts({ trustProxyHeaders: true })),
      'https://a.example',
    );
  });

  test('RFC 7239 Forwarded when trusted, before X-Forwarded-*', () => {
    const headers = {
      host: 'internal:6385',
      forwarded: 'for=192.0.2.60;proto=https;host="fw.example:443", for=10.0.0.1;proto=http;host=inner',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'xfh.example',
    };
    assert.equal(requestBaseUrl(headers, opts({ trustProxyHeaders: true })), 'https://fw.example:443');
  });

  test('a forwarded scheme other than http(s) is not used', () => {
    assert.equal(requestBaseUrl({ host: 'h', 'x-forwarded-proto': 'javascript' }, opts({ trustProxyHeaders: true })), 'http://h');
  });

  test('a forged Host (spaces, slashes, userinfo, query) falls back', () => {
    for (const host of ['evil.example/path', 'evil example', 'user@evil.example', 'evil.example?x=1', 'evil.example#f', 'evil.example:99999x', '']) {
      assert.equal(requestBaseUrl({ host }, opts()), 'http://127.0.0.1:6385', JSON.stringify(host));
    }
    assert.equal(requestBaseUrl({ host: 'h', 'x-forwarded-host': 'evil.example/x y' }, opts({ trustProxyHeaders: true })), 'http://127.0.0.1:6385');
    assert.equal(requestBaseUrl({ host: 'h', forwarded: 'host="a/b"' }, opts({ trustProxyHeaders: true })), 'http://127.0.0.1:6385');
  });
});

describe('rewriteLinkBytes (the relay fast path)', () => {
  test('a key written with escapes is the key it decodes to: the byte path steps aside and the parse path judges it', () => {
    // A hostile site's `"h\u0072ef"` is `href` to the client: a link elsewhere under it must be neutralised like any other.
    for (const text of [
      '{"links": [{"h\\u0072ef": "http://evil/x", "rel": "self"}]}',
      '{"links": [{"href": "http://evil/x", "r\\u0065l": "self"}]}',
      '{"n\\u0065xt": "http://evil/y"}',
      '{"nodes": [{"links": [{"\\u0068ref": "http://evil/z", "rel": "bookmark"}]}], "next": "http://s:1/v1/nodes?marker=a"}',
    ]) {
      assert.equal(rewriteLinkText(text, ['http://s:1'], 'https://p'), undefined, text);
      const parsed = JSON.stringify(rewriteLinks(JSON.parse(text), ['http://s:1'], 'https://p'));
      assert.ok(!parsed.includes('evil'), `${text} -> ${parsed}`);
    }
  });

  test('each call writes the base it is given (the last one is kept as bytes, never a stale one)', () => {
    const text = '{"links": [{"href": "http://s:1/v1/nodes/a", "rel": "self"}]}';
    for (const to of ['https://p', 'https://q:8443/ironic', 'https://p', 'http://[::1]:6385']) {
      assert.equal(rewriteLinkText(text, ['http://s:1'], to), `{"links": [{"href": "${to}/v1/nodes/a", "rel": "self"}]}`);
    }
  });

  test('kept, neutralised and longest-base links together: the result is sized and filled exactly', () => {
    const text =
      '{"links": [{"href": "http://s:1/api/v1/x", "rel": "self"}, {"href": "http://evil/y", "rel": "bookmark"}, {"href": "http://s:1/z", "rel": "alt"}, {"href": "http://s:10/w", "rel": "other"}], "next": "http://s:1"}';
    assert.equal(
      rewriteLinkText(text, ['http://s:1', 'http://s:1/api'], 'https://proxy.example'),
      '{"links": [{"href": "https://proxy.example/v1/x", "rel": "self"}, {"href": "", "rel": "bookmark"}, {"href": "https://proxy.example/z", "rel": "alt"}, {"href": "", "rel": "other"}], "next": "https://proxy.example"}',
    );
  });

  test('rewrites href and next values that start with a site base, at a boundary', () => {
    const text = '{"links": [{"href": "http://s:1/v1/nodes/a", "rel": "self"}, {"href": "http://s:1/nodes/a", "rel": "bookmark"}], "next": "http://s:1/v1/nodes?marker=a"}';
    assert.equal(
      rewriteLinkText(text, ['http://s:1'], 'https://p'),
      '{"links": [{"href": "https://p/v1/nodes/a", "rel": "self"}, {"href": "https://p/nodes/a", "rel": "bookmark"}], "next": "https://p/v1/nodes?marker=a"}',
    );
  });

  test('a base outside a link (free-form data) is left as it is, the links are rewritten', () => {
    const text = '{"driver_info": {"api": "http://s:1/v1"}, "extra": {"href": "http://s:1/v1/x", "next": "http://s:1/n", "links": [{"href": "http://s:1/l", "rel": "self"}]}, "links": [{"href": "http://s:1/v1/nodes/a", "rel": "self"}]}';
    assert.equal(
      rewriteLinkText(text, ['http://s:1'], 'https://p'),
      '{"driver_info": {"api": "http://s:1/v1"}, "extra": {"href": "http://s:1/v1/x", "next": "http://s:1/n", "links": [{"href": "http://s:1/l", "rel": "self"}]}, "links": [{"href": "https://p/v1/nodes/a", "rel": "self"}]}',
    );
  });

  test('bytes and parsed documents agree, on a listing with every kind of position', () => {
    const doc = {
      nodes: [
        {
          uuid: 'u1',
          links: [{ href: 'http://s:1/v1/nodes/u1', rel: 'self' }, { rel: 'bookmark', href: 'http://evil/x' }],
          ports: [{ href: 'http://s:1/v1/nodes/u1/ports', rel: 'self' }],
          extra: { href: 'http://s:1/e', list: [{ href: 'http://s:1/e2', rel: 'self' }] },
          name: 'a "quoted" \\ name with \"href\": \"http://s:1/x\"',
        },
      ],
      next: 'http://s:1/v1/nodes?marker=u1',
    };
    for (const text of [JSON.stringify(doc), JSON.stringify(doc, null, 1)]) {
      const bytes = rewriteLinkText(text, ['http://s:1'], 'https://p/"q');
      const parsed = rewriteLinks(JSON.parse(text), ['http://s:1'], 'https://p/"q');
      assert.ok(bytes !== undefined);
      assert.deepEqual(JSON.parse(bytes), parsed);
    }
  });

  test('a proxy base with a quote or backslash is written JSON-escaped', () => {
    const text = '{"links": [{"href": "http://s:1/v1/nodes/a", "rel": "self"}]}';
    const out = rewriteLinkText(text, ['http://s:1'], 'https://p/a"b\\c')!;
    assert.equal(JSON.parse(out).links[0].href, 'https://p/a"b\\c/v1/nodes/a');
  });

  test('where one base is a prefix of another (a site behind a path), the longer one is replaced', () => {
    const text = '{"links": [{"href": "http://s:1/baremetal/v1/nodes/a", "rel": "self"}, {"href":"http://s:1/v1", "rel": "x"}]}';
    assert.equal(
      rewriteLinkText(text, ['http://s:1', 'http://s:1/baremetal'], 'https://p'),
      '{"links": [{"href": "https://p/v1/nodes/a", "rel": "self"}, {"href":"https://p/v1", "rel": "x"}]}',
    );
  });

  test('a base at the very start or end of the text is not a link', () => {
    assert.equal(rewriteLinkText('http://s:1/x', ['http://s:1'], 'https://p'), undefined);
    assert.equal(rewriteLinkText('{"a": "b"}http://s:1', ['http://s:1'], 'https://p'), undefined);
  });

  test('does not take http://s:10 for http://s:1 (a foreign link: neutralised)', () => {
    const text = '{"links": [{"href": "http://s:10/v1/nodes/a", "rel": "self"}]}';
    assert.equal(rewriteLinkText(text, ['http://s:1'], 'https://p'), '{"links": [{"href": "", "rel": "self"}]}');
    assert.equal(rewriteLinkText('{"a": 1}', ['http://s:1'], 'https://p'), '{"a": 1}');
  });
});
