/**
 * The body and query shape checks (issue 10, items 1–2) over a real Ironic
 * site (Debian's 21.4): every case of test/support/shape-corpus.ts sent
 * through the proxy is refused with the 4xx it names, and none reaches the
 * site — its access log (eventlet.wsgi lines) shows no write between two
 * markers, and no request with the malformed query. Then the same cases
 * sent to the site itself: where Ironic answers a 4xx, the proxy's text is
 * Ironic's; where it answers 500, the proxy answered 400.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { RunningProxy } from '../../src/start.js';
import { startProxyOver } from '../support/proxy-over-real.js';
import { startRealSites, type RealSites } from '../support/real-ironic.js';
import { MALFORMED_BODIES, MALFORMED_QUERIES, STRICTER } from '../support/shape-corpus.js';

const H = { 'x-openstack-ironic-api-version': '1.82', 'content-type': 'application/json' };

interface Answer {
  status: number;
  fault: string;
}

async function send(base: string, method: string, path: string, body?: string): Promise<Answer> {
  const r = await fetch(`${base}${path}`, { method, headers: H, body });
  const text = await r.text();
  let fault = '';
  try {
    const doc = JSON.parse(text) as { error_message?: string };
    if (typeof doc.error_message === 'string') fault = String((JSON.parse(doc.error_message) as { faultstring?: unknown }).faultstring);
  } catch {
    // not an error body
  }
  return { status: r.status, fault };
}

describe('shape checks over a real Ironic site: refused at the proxy, never at the site', { timeout: 300_000 }, () => {
  let sites: RealSites;
  let proxy: RunningProxy;
  let node: string;
  const log = (): string[] => readFileSync(sites.sites[0]!.logFile, 'utf8').split('\n').filter((l) => l.includes('eventlet.wsgi.server'));
  const writes = (lines: string[]): string[] => lines.filter((l) => /"(PUT|PATCH|POST|DELETE) /.test(l));
  /** Waits (bounded) for a line the site must log for a request just answered. */
  async function logged(fragment: string): Promise<string[]> {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setImmediate(r))) {
      const lines = log();
      if (lines.some((l) => l.includes(fragment))) return lines;
    }
    throw new Error(`the site never logged ${fragment}`);
  }
  const answers = new Map<string, Answer>();

  before(async () => {
    sites = await startRealSites([{ name: 'shape1' }]);
    proxy = await startProxyOver(sites, { groups: '_:shape1' });
    const created = await fetch(`${proxy.url}/v1/nodes`, { method: 'POST', headers: H, body: JSON.stringify({ driver: 'fake-hardware', name: 'shape-node' }) });
    const text = await created.text();
    assert.equal(created.status, 201, text);
    node = (JSON.parse(text) as { uuid: string }).uuid;
  });
  after(async () => {
    await proxy?.close();
    await sites?.stop();
  });

  test(`${MALFORMED_BODIES.length} malformed bodies and ${MALFORMED_QUERIES.length} malformed queries are refused by the proxy, and no site sees them`, async () => {
    const mark = async (reason: string): Promise<string[]> => {
      const r = await send(proxy.url, 'PUT', `/v1/nodes/${node}/maintenance`, JSON.stringify({ reason }));
      assert.equal(r.status, 202);
      return logged(`"PUT /v1/nodes/${node}/maintenance`);
    };
    const start = writes(await mark('before the corpus')).length;
    for (const [method, path, body, status, text] of MALFORMED_BODIES) {
      const a = await send(proxy.url, method, path.replace('/N', `/${node}`), body);
      answers.set(`${method} ${path} ${body}`, a);
      assert.equal(a.status, status, `${method} ${path} ${body}: ${a.fault}`);
      if (typeof text === 'string') assert.equal(a.fault, text);
      else assert.match(a.fault, text);
    }
    for (const [pathAndQuery, status, text] of MALFORMED_QUERIES) {
      const a = await send(proxy.url, 'GET', pathAndQuery.replace('/N', `/${node}`));
      answers.set(`GET ${pathAndQuery}`, a);
      assert.equal(a.status, status, `${pathAndQuery}: ${a.fault}`);
      assert.equal(a.fault, text);
    }
    // The second marker, then the site's log: the two markers' writes and nothing between them.
    const after = writes(await mark('after the corpus'));
    const between = after.slice(start, after.length - 1);
    assert.deepEqual(between, [], 'no malformed write reached the site');
    const queried = log().filter((l) => MALFORMED_QUERIES.some(([q]) => q.includes('?') && !q.includes('/N') && l.includes(`"GET ${q} `)));
    assert.deepEqual(queried, [], 'no malformed query reached the site');
  });

  test("the proxy's texts are Ironic's wherever Ironic answers a 4xx; where Ironic fails (500) the proxy answers 400", async (t) => {
    let same = 0;
    let ironic500 = 0;
    const differ: string[] = [];
    for (const [method, path, body] of MALFORMED_BODIES) {
      const direct = await send(sites.sites[0]!.url, method, path.replace('/N', `/${node}`), body);
      const ours = answers.get(`${method} ${path} ${body}`)!;
      if (direct.status >= 500) {
        ironic500++;
        assert.equal(ours.status, 400, `${method} ${path} ${body}`);
      } else if (direct.status >= 400 && !STRICTER.has(`${method} ${path} ${body}`)) {
        same++;
        if (ours.fault !== direct.fault || ours.status !== direct.status) differ.push(`${method} ${path} ${body}: ${ours.status} ${ours.fault} ≠ ${direct.status} ${direct.fault}`);
      }
    }
    for (const [pathAndQuery] of MALFORMED_QUERIES) {
      const direct = await send(sites.sites[0]!.url, 'GET', pathAndQuery.replace('/N', `/${node}`));
      const ours = answers.get(`GET ${pathAndQuery}`)!;
      if (direct.status >= 500) {
        ironic500++;
        assert.equal(ours.status, 400, pathAndQuery);
      } else if (direct.status >= 400) {
        same++;
        if (ours.fault !== direct.fault) differ.push(`${pathAndQuery}: ${ours.fault} ≠ ${direct.fault}`);
      }
    }
    t.diagnostic(`Ironic's own 4xx, same text: ${same}; Ironic 500, proxy 400: ${ironic500}; of ${MALFORMED_BODIES.length + MALFORMED_QUERIES.length}`);
    assert.deepEqual(differ, []);
    assert.ok(same > 40, `most cases are Ironic's own 4xx (${same})`);
    assert.ok(ironic500 >= 4, `Ironic fails on some (${ironic500})`);
  });
});
