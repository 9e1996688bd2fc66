/**
 * Issue 10, "what it must show": the malformed-request corpus against the
 * proxy over a real Ironic site (Debian's 21.4). Each case is sent the way
 * a client would send it — through the real `baremetal` CLI where the CLI
 * can produce it, through a raw socket where no client library would — and
 * must end at the proxy: its status, Ironic's error body
 * (`{"error_message": "<JSON string>"}`; the CLI printing the faultstring
 * shows it read one), and not one request at the site, counted by a front
 * the proxy reaches the site through.
 * The corpus itself: test/support/malformed-corpus.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningProxy } from '../../src/start.js';
import { startProxyOver } from '../support/proxy-over-real.js';
import { startRealSites, type RealSites } from '../support/real-ironic.js';
import { startCountingFront, type CountingFront } from '../support/counting-front.js';
import { baremetal } from '../support/clients.js';
import { ironicError, rawExchange } from '../support/raw-http.js';
import { CORPUS, CORPUS_SIZE } from '../support/malformed-corpus.js';

describe(`malformed requests end at the proxy (${CORPUS_SIZE} cases, ${CORPUS.length - CORPUS_SIZE} pending)`, { timeout: 300_000 }, () => {
  let sites: RealSites;
  let front: CountingFront;
  let proxy: RunningProxy;
  let node = '';

  before(async () => {
    sites = await startRealSites([{ name: 'loc1' }]);
    front = await startCountingFront(sites.site('loc1').url);
    // No periodic version refresh during the corpus: every request the front sees is one a case caused.
    proxy = await startProxyOver(sites, { groups: '_:loc1', endpoints: { loc1: front.url }, proxy: { version_refresh_interval: 3600 } });
    const created = await fetch(`${proxy.url}/v1/nodes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-openstack-ironic-api-version': '1.82' },
      body: JSON.stringify({ driver: 'fake-hardware', name: 'corpus-node' }),
    });
    assert.equal(created.status, 201);
    node = ((await created.json()) as { uuid: string }).uuid;
    // Its site known to the proxy before the corpus (the location is not what is tested here).
    assert.equal((await fetch(`${proxy.url}/v1/nodes/${node}`, { headers: { 'x-openstack-ironic-api-version': '1.82' } })).status, 200);
  });
  after(async () => {
    await proxy?.close();
    await front?.close();
    await sites?.stop();
  });

  const port = (): number => Number(new URL(proxy.url).port);
  const withNode = (s: string): string => s.replace(/NODE/g, node);

  for (const c of CORPUS) {
    test(`${c.via}: ${c.name} → ${c.status}`, { todo: c.pending }, async () => {
      const atSite = front.seen.length;
      if (c.via === 'cli') {
        const r = await baremetal(c.args.map(withNode), { endpoint: proxy.url, maxRetries: 0 });
        assert.notEqual(r.code, 0, `the CLI should fail: ${r.stdout.slice(0, 300)}`);
        assert.match(r.stderr, new RegExp(`\\(HTTP ${c.status}\\)`), r.stderr.slice(-500));
        assert.match(r.stderr, c.message, r.stderr.slice(-500));
      } else {
        const bytes = typeof c.request === 'function' ? c.request() : Buffer.isBuffer(c.request) ? Buffer.from(withNode(c.request.toString('latin1')), 'latin1') : withNode(c.request);
        const a = await rawExchange(port(), bytes, 30_000);
        assert.equal(a.status, c.status, a.raw.subarray(0, 400).toString('latin1'));
        const inner = ironicError(a.body);
        if (c.message) assert.match(String(inner.faultstring ?? inner.description), c.message);
      }
      assert.deepEqual(front.seen.slice(atSite), [], 'requests that reached the site');
    });
  }

  test('the site is still there, and the node the corpus aimed at is as it was created', async () => {
    const r = await fetch(`${sites.site('loc1').url}/v1/nodes/${node}?fields=uuid,extra,properties`, { headers: { 'x-openstack-ironic-api-version': '1.82' } });
    assert.equal(r.status, 200);
    const got = (await r.json()) as { extra: object; properties: object };
    assert.deepEqual([got.extra, got.properties], [{}, {}]);
  });
});
