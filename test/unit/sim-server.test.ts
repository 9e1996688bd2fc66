/** The simulator's transport: fault injection and latency, as the proxy's fault tests rely on them. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startSimSite, type SimSite } from '../../src/sim/index.js';

const H = { 'X-OpenStack-Ironic-API-Version': 'latest' };

async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const err = e as { name?: string; cause?: { code?: string; name?: string } };
    return err.cause?.code ?? err.cause?.name ?? err.name ?? 'unknown';
  }
  return 'no error';
}

describe('sim site transport', () => {
  let site: SimSite;
  before(async () => {
    site = await startSimSite({ name: 'faulty', nodes: 3 });
  });
  after(() => site.close());

  it('serves seeded nodes', async () => {
    assert.equal(site.nodeCount(), 3);
    const r = await fetch(`${site.url}/v1/nodes/faulty-node-1`, { headers: H });
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { name: string }).name, 'faulty-node-1');
  });

  it('refuse: connections are refused until restored, on the same port', async () => {
    await site.setFault('refuse');
    assert.equal(await errorCode(fetch(`${site.url}/v1/`)), 'ECONNREFUSED');
    await site.setFault('none');
    const r = await fetch(`${site.url}/v1/`);
    assert.equal(r.status, 200);
    await r.body?.cancel();
  });

  it('hang: requests are accepted and never answered', async () => {
    await site.setFault('hang');
    assert.equal(await errorCode(fetch(`${site.url}/v1/`, { signal: AbortSignal.timeout(300) })), 'TimeoutError');
    await site.setFault('none');
    assert.equal((await fetch(`${site.url}/v1/`)).status, 200);
  });

  it('http500 and garbage', async () => {
    await site.setFault('http500');
    const r = await fetch(`${site.url}/v1/nodes`, { headers: H });
    assert.equal(r.status, 500);
    assert.equal(typeof ((await r.json()) as { error_message: unknown }).error_message, 'string');
    await site.setFault('garbage');
    const g = await fetch(`${site.url}/v1/nodes`, { headers: H });
    assert.equal(g.status, 200);
    await assert.rejects(g.json());
    await site.setFault('none');
    assert.equal((await fetch(`${site.url}/v1/nodes`, { headers: H })).status, 200);
  });

  it('adds latency to every answer', async () => {
    site.setLatency(150);
    const t0 = performance.now();
    const r = await fetch(`${site.url}/v1/`);
    const ms = performance.now() - t0;
    await r.body?.cancel();
    site.setLatency(0);
    assert.ok(ms >= 140, `answered after ${ms.toFixed(0)} ms`);
  });

  it('close() stops listening', async () => {
    const s = await startSimSite({ name: 'short' });
    await s.close();
    assert.equal(await errorCode(fetch(`${s.url}/v1/`)), 'ECONNREFUSED');
  });
});
