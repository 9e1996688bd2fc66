/**
 * Sites that refuse, hang, answer 500 or garbage, or die in the middle of a
 * listing and come back: the proxy answers with what the healthy sites have,
 * names the missing ones, never loses another site's nodes, fails fast on an
 * open circuit and uses a site again once it is back. Bounded in time by the
 * small site timeout.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFleet, getJson, LATEST, type Fleet } from '../support/sim-fleet.js';

const MISSING = 'x-ironic-proxy-missing-sites';

async function allNodeNames(fleet: Fleet, query = ''): Promise<{ names: string[]; missing: string | null; status: number }> {
  const r = await getJson(`${fleet.url}/v1/nodes?fields=name${query}`);
  return { names: (r.body?.nodes ?? []).map((n: { name: string }) => n.name).sort(), missing: r.headers.get(MISSING), status: r.status };
}

function expectedNames(fleet: Fleet, except: string[] = []): string[] {
  return fleet.sims
    .filter((s) => !except.includes(s.name))
    .flatMap((s) => Array.from({ length: s.nodeCount() }, (_, i) => `${s.name}-node-${i}`))
    .sort();
}

describe('faulty sites', () => {
  let fleet: Fleet;
  before(async () => {
    fleet = await startFleet(
      [
        { name: 'a', conductorGroups: [''], nodes: 5 },
        { name: 'b', conductorGroups: ['gb'], nodes: 5 },
        { name: 'c', conductorGroups: ['gc'], nodes: 5 },
      ],
      // A short timeout keeps the hang case fast; circuit_open_seconds = 0 lets every request after a failure probe at once.
      { proxyIni: 'site_timeout = 0.5\ncircuit_failure_threshold = 1\ncircuit_open_seconds = 0' },
    );
  });
  after(() => fleet.close());

  for (const mode of ['refuse', 'hang', 'http500', 'garbage'] as const) {
    test(`a site that ${mode}s: the others' nodes are listed and the site is named`, async () => {
      const b = fleet.site('b');
      await b.setFault(mode);
      try {
        const started = performance.now();
        const r = await allNodeNames(fleet);
        const ms = performance.now() - started;
        assert.equal(r.status, 200);
        assert.deepEqual(r.names, expectedNames(fleet, ['b']));
        assert.equal(r.missing, 'b');
        assert.ok(ms < 3000, `listing took ${ms} ms`);
      } finally {
        await b.setFault('none');
      }
      const healed = await allNodeNames(fleet);
      assert.deepEqual(healed.names, expectedNames(fleet), 'the site is used again once it is back');
      assert.equal(healed.missing, null);
    });
  }

  test('a node at a refusing site: 503 naming the site; at a hanging site: 504', async () => {
    const b = fleet.site('b');
    const uuid = (await getJson(`${fleet.url}/v1/nodes/b-node-0`)).body.uuid as string;
    await getJson(`${fleet.url}/v1/nodes/${uuid}`); // cached by a question about the uuid itself (a name lookup caches the name only)
    await b.setFault('refuse');
    try {
      const r = await getJson(`${fleet.url}/v1/nodes/${uuid}`);
      assert.equal(r.status, 503);
      assert.match(JSON.parse(r.body.error_message).faultstring, /Site b /);
    } finally {
      await b.setFault('none');
    }
    await b.setFault('hang');
    try {
      const r = await getJson(`${fleet.url}/v1/nodes/${uuid}`);
      assert.equal(r.status, 504);
      assert.match(JSON.parse(r.body.error_message).faultstring, /Site b did not answer within 0.5 seconds/);
    } finally {
      await b.setFault('none');
    }
    assert.equal((await getJson(`${fleet.url}/v1/nodes/${uuid}`)).status, 200);
  });

  test('a node answered with garbage by its site is a 502, not relayed as data', async () => {
    const uuid = (await getJson(`${fleet.url}/v1/nodes/c-node-1`)).body.uuid as string;
    await getJson(`${fleet.url}/v1/nodes/${uuid}`); // cached by a question about the uuid itself (a name lookup caches the name only)
    await fleet.site('c').setFault('garbage');
    try {
      const r = await getJson(`${fleet.url}/v1/nodes/${uuid}`);
      assert.equal(r.status, 502);
      assert.match(JSON.parse(r.body.error_message).faultstring, /Site c sent an invalid response/);
    } finally {
      await fleet.site('c').setFault('none');
    }
  });

  test('a lookup that cannot reach every site says so instead of 404', async () => {
    await fleet.site('c').setFault('refuse');
    try {
      const r = await getJson(`${fleet.url}/v1/nodes/no-such-node`);
      assert.equal(r.status, 503);
      assert.match(JSON.parse(r.body.error_message).faultstring, /Cannot tell where node no-such-node is: site\(s\) c did not answer/);
    } finally {
      await fleet.site('c').setFault('none');
    }
    assert.equal((await getJson(`${fleet.url}/v1/nodes/no-such-node`)).status, 404);
  });

  test('a site that dies mid-listing and comes back: every node is seen exactly once', async () => {
    const seen: string[] = [];
    let url: string | undefined = `${fleet.url}/v1/nodes?fields=name&limit=4`;
    let page = 0;
    const missingSeen: string[] = [];
    while (url) {
      page++;
      if (page === 2) await fleet.site('b').setFault('refuse');
      if (page === 3) await fleet.site('b').setFault('none');
      const r = await getJson(url);
      assert.equal(r.status, 200);
      if (r.headers.get(MISSING)) missingSeen.push(r.headers.get(MISSING)!);
      seen.push(...r.body.nodes.map((n: { name: string }) => n.name));
      url = r.body.next;
      assert.ok(page < 20, 'paging ends');
    }
    assert.deepEqual(missingSeen, ['b'], 'the page served while b was down said so');
    assert.deepEqual([...seen].sort(), expectedNames(fleet));
    assert.equal(new Set(seen).size, seen.length, 'no node twice');
  });
});

describe('strict listing', () => {
  let fleet: Fleet;
  before(async () => {
    fleet = await startFleet(
      [
        { name: 'a', nodes: 2 },
        { name: 'b', conductorGroups: ['gb'], nodes: 2 },
      ],
      { proxyIni: 'site_timeout = 0.5\nstrict_listing = true' },
    );
  });
  after(() => fleet.close());

  test('answers 503 naming the site instead of a partial listing', async () => {
    await fleet.site('b').setFault('refuse');
    try {
      const r = await getJson(`${fleet.url}/v1/nodes`, LATEST);
      assert.equal(r.status, 503);
      assert.match(JSON.parse(r.body.error_message).faultstring, /Listing incomplete: site\(s\) b did not answer/);
    } finally {
      await fleet.site('b').setFault('none');
    }
  });
});

describe('circuit breaker', () => {
  let fleet: Fleet;
  before(async () => {
    fleet = await startFleet(
      [
        { name: 'a', nodes: 2 },
        { name: 'b', conductorGroups: ['gb'], nodes: 2 },
      ],
      { proxyIni: 'site_timeout = 0.4\ncircuit_failure_threshold = 2\ncircuit_open_seconds = 60' },
    );
  });
  after(() => fleet.close());

  test('after repeated timeouts the site is skipped at once, not waited for', async () => {
    await fleet.site('b').setFault('hang');
    try {
      for (let i = 0; i < 2; i++) assert.equal((await allNodeNames(fleet)).missing, 'b');
      const started = performance.now();
      const r = await allNodeNames(fleet);
      const ms = performance.now() - started;
      assert.equal(r.missing, 'b');
      assert.ok(ms < 200, `open circuit answered in ${ms.toFixed(0)} ms, not after the 400 ms timeout`);
      const metrics = await (await fetch(`${fleet.url}/metrics`)).text();
      assert.match(metrics, /ironic_proxy_site_circuit_state\{site="b"\} 2/);
      assert.match(metrics, /ironic_proxy_site_requests_total\{site="b",outcome="circuit_open"\} [1-9]/);
    } finally {
      await fleet.site('b').setFault('none');
    }
  });
});
