/**
 * GET /status: the data (JSON) over simulated sites — verdicts (down, slow,
 * up), versions, conductor groups, the node tally's counts — the page's files
 * and headers, the background work's life (nothing before the first view,
 * stopped after the idle timeout), the tally's bounds and cancellation, the
 * version in /metrics and on the command line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { loadConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { SiteRegistry } from '../../src/sites/registry.js';
import { NodeTally } from '../../src/status/node-tally.js';
import { startSimSite, type SimSite } from '../../src/sim/index.js';
import { VERSION } from '../../src/version.js';
import { startFleet, LATEST, type Fleet } from '../support/sim-fleet.js';

const JSON_ACCEPT = { accept: 'application/json' };
const TALLY = /^GET \/v1\/nodes\?fields=uuid,provision_state,power_state,maintenance/;
const V182 = { major: 1, minor: 82 };
const silent = createLogger({ level: 'silent' });

/** Waits for a condition, checking every 20 ms, failing after `ms`. */
async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function status(url: string): Promise<any> {
  const res = await fetch(`${url}/status`, { headers: JSON_ACCEPT });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  return res.json();
}

describe('status over a fleet with one site down and one slow', () => {
  let fleet: Fleet;
  before(async () => {
    fleet = await startFleet(
      [
        { name: 'east', conductorGroups: ['', 'rack-a'], nodes: 12 },
        { name: 'slow', conductorGroups: ['rack-b'], nodes: 7, latencyMs: 150 },
        { name: 'gone', conductorGroups: ['rack-c'], nodes: 5 },
        { name: 'old', conductorGroups: ['rack-d'], nodes: 3, maxMinor: 80 },
      ],
      { proxyIni: 'circuit_open_seconds = 0.3\nsite_timeout = 2', statusIni: 'probe_interval = 0.2\nslow_threshold = 0.1\ntally_interval = 0.3\nidle_timeout = 1' },
    );
    await fleet.site('gone').setFault('refuse');
  });
  after(() => fleet.close());

  test('nothing runs before the first view: no tally request reaches a site', () => {
    assert.equal(fleet.proxy.services.status.active, false);
    assert.equal(fleet.proxy.services.status.tally.active, false);
    assert.deepEqual(fleet.sims.flatMap((s) => s.received).filter((l) => TALLY.test(l)), []);
  });

  test('the data names each site with its verdict, versions, groups and node counts', async () => {
    await until('verdicts and tallies', async () => {
      const d = await status(fleet.url);
      const v = Object.fromEntries(d.sites.map((s: any) => [s.name, s.verdict]));
      return v.gone === 'down' && v.slow === 'slow' && v.east === 'up' && d.nodes.sites.filter((t: any) => !t.error).length === 3;
    });
    const d = await status(fleet.url);
    assert.equal(d.proxy.version, VERSION);
    assert.equal(d.proxy.workers, 1);
    assert.deepEqual(d.proxy.versions, { min: '1.1', max: '1.80' });
    const site = (n: string): any => d.sites.find((s: any) => s.name === n);
    assert.deepEqual(site('east').conductor_groups, ['', 'rack-a']);
    assert.deepEqual(site('east').versions, { min: '1.1', max: '1.82' });
    assert.equal(site('old').out_of_date, true);
    assert.match(site('old').reasons.join(' '), /up to 1\.80; the newest site offers 1\.82/);
    assert.equal(site('east').out_of_date, false);
    assert.match(site('gone').last_error.message, /gone/);
    assert.ok(Date.parse(site('gone').last_error.at) > 0);
    assert.ok(site('slow').latency_ms.p50 >= 150, `slow p50 ${site('slow').latency_ms.p50}`);
    assert.ok(site('east').latency_ms.p50 < 150);
    for (const [name, sim] of [['east', fleet.site('east')], ['slow', fleet.site('slow')], ['old', fleet.site('old')]] as const) {
      const t = site(name).nodes;
      assert.equal(t.total, sim.nodeCount(), name);
      assert.equal(Object.values(t.provision_state as Record<string, number>).reduce((a, b) => a + b, 0), t.total);
      assert.equal(Object.values(t.power_state as Record<string, number>).reduce((a, b) => a + b, 0), t.total);
      const maint = sim.api.store.all().filter((n) => n.maintenance).length;
      assert.equal(t.maintenance, maint, `${name} maintenance`);
      assert.ok(Date.parse(t.at) > 0, 'the counts carry their time');
    }
    assert.equal(d.summary.down, 1);
    assert.equal(d.summary.slow, 1);
    assert.equal(d.summary.nodes, 12 + 7 + 3);
    assert.equal(d.collector.active, true);
  });

  test('a listing without the down site is counted and named as a partial answer', async () => {
    const res = await fetch(`${fleet.url}/v1/nodes`, { headers: LATEST });
    await res.arrayBuffer();
    assert.equal(res.headers.get('x-ironic-proxy-missing-sites'), 'gone');
    const d = await status(fleet.url);
    assert.deepEqual(d.proxy.recent_partial_answers[0].missing_sites, ['gone']);
    assert.equal(d.proxy.recent_partial_answers[0].route, '/v1/nodes');
    assert.ok(d.proxy.rates.partial_answers.missing_by_site.gone >= 1);
    const route = d.proxy.rates.routes.find((r: any) => r.route === '/v1/nodes' && r.method === 'GET');
    assert.ok(route && route.requests >= 1);
  });

  test('the site coming back is up again', async () => {
    await fleet.site('gone').setFault('none');
    await until('gone up', async () => (await status(fleet.url)).sites.find((s: any) => s.name === 'gone').verdict === 'up');
  });

  test('the page and its files are served with a strict CSP; unknown files are 404', async () => {
    const page = await fetch(`${fleet.url}/status`, { headers: { accept: 'text/html,*/*' } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
    const html = await page.text();
    assert.match(html, /<script src="status\/status.js"><\/script>/);
    assert.doesNotMatch(html, /https?:\/\//, 'nothing from elsewhere');
    const js = await fetch(`${fleet.url}/status/status.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.match(await js.text(), /X-Auth-Token/);
    assert.equal((await fetch(`${fleet.url}/status/status.css`)).status, 200);
    assert.equal((await fetch(`${fleet.url}/status/../package.json`)).status, 404);
    assert.equal((await fetch(`${fleet.url}/status/nope.js`)).status, 404);
    const slash = await fetch(`${fleet.url}/status/`, { redirect: 'manual' });
    assert.equal(slash.status, 301);
  });

  test('the version is in /metrics (ironic_proxy_build_info) with the sites up', async () => {
    const text = await (await fetch(`${fleet.url}/metrics`)).text();
    assert.match(text, new RegExp(`^ironic_proxy_build_info\\{version="${VERSION.replace(/\./g, '\\.')}",nodejs="${process.versions.node}"\\} 1$`, 'm'));
    assert.match(text, /^ironic_proxy_site_up\{site="east"\} 1$/m);
    assert.match(text, /^ironic_proxy_site_microversion\{site="old",bound="max"\} 80$/m);
    assert.match(text, /^ironic_proxy_drift_check_timestamp_seconds \d/m);
  });

  test('the background work stops once nobody looks (idle_timeout), and the next view starts it again', async () => {
    const st = fleet.proxy.services.status;
    await until('idle stop', () => !st.active, 5000);
    assert.equal(st.tally.active, false);
    assert.equal(st.tally.current, undefined, 'no round under way');
    await status(fleet.url);
    assert.equal(st.active, true);
    assert.equal(st.tally.active, true);
  });
});

test('a site answering 500s is failing (not down), with its last error; fixed, it is up again', async () => {
  const fleet = await startFleet(
    [
      { name: 'ok', nodes: 2 },
      { name: 'bad', conductorGroups: ['gb'], nodes: 2 },
    ],
    { statusIni: 'probe_interval = 0.1\ntally_interval = 0.2' },
  );
  try {
    await fleet.site('bad').setFault('http500');
    await until('bad failing', async () => (await status(fleet.url)).sites[1].verdict === 'errors');
    const bad = (await status(fleet.url)).sites[1];
    assert.match(bad.reasons.join(' '), /of its last \d+ answers are server errors/);
    assert.equal(bad.last_error.message, 'answered HTTP 500');
    assert.equal(bad.circuit.state, 'closed', 'a 500 is an answer: the circuit stays closed');
    assert.match(bad.nodes.error, /HTTP 500/, 'the tally says why it has no counts');
    await fleet.site('bad').setFault('none');
    await until('bad up', async () => (await status(fleet.url)).sites[1].verdict === 'up');
  } finally {
    await fleet.close();
  }
});

describe('the node tally', () => {
  let sims: SimSite[] = [];
  after(() => Promise.all(sims.map((s) => s.close())));

  function registryOver(list: SimSite[]): SiteRegistry {
    const sections = list.map((s) => `[group:${s.name}]\nauth_type = none\nendpoint_override = ${s.url}\n`).join('\n');
    const groups = list.map((s, i) => `${i === 0 ? '_' : `g${i}`}:${s.name}`).join(',');
    return new SiteRegistry(loadConfigText(`[DEFAULT]\ngroups = ${groups}\n\n${sections}`), silent);
  }

  test('stops at tally_max_pages and says the counts are a lower bound', async () => {
    const big = await startSimSite({ name: 'big', nodes: 25, maxLimit: 10 });
    sims.push(big);
    const registry = registryOver([big]);
    const tally = new NodeTally(() => registry.sites, () => V182, { intervalMs: 60_000, maxPages: 2, timeoutMs: 10_000, concurrency: 2 }, silent);
    tally.start();
    await until('a finished round', () => tally.snapshot().round?.finished_at != null);
    const t = tally.snapshot().sites[0]!;
    assert.equal(t.total, 20);
    assert.equal(t.truncated, true);
    assert.match(t.error ?? '', /tally_max_pages/);
    assert.equal(big.received.filter((l) => TALLY.test(l)).length, 2);
    await tally.stop();
    await registry.close();
  });

  test('stop() cancels the walk under way without counting it against the site', async () => {
    const slow = await startSimSite({ name: 'crawl', nodes: 3, latencyMs: 3000 });
    sims.push(slow);
    const registry = registryOver([slow]);
    const tally = new NodeTally(() => registry.sites, () => V182, { intervalMs: 60_000, maxPages: 5, timeoutMs: 30_000, concurrency: 1 }, silent);
    tally.start();
    await until('the walk to start', () => slow.received.some((l) => TALLY.test(l)));
    const t0 = performance.now();
    await tally.stop();
    assert.ok(performance.now() - t0 < 1000, 'stopped at once, not after the site answered');
    assert.equal(tally.snapshot().sites.length, 0, 'no counts from a cancelled walk');
    assert.equal(registry.sites[0]!.breaker.state, 'closed');
    await registry.close();
  });

  test('a site whose pages lead back is the site failing, not an endless walk', async () => {
    const loop = await startSimSite({ name: 'loop', nodes: 4, maxLimit: 2 });
    sims.push(loop);
    const registry = registryOver([loop]);
    const site = registry.sites[0]!;
    // Every page is the first page: the marker never moves on.
    const original = site.request.bind(site);
    site.request = (req) => original({ ...req, path: req.path.replace(/&marker=[^&]*/, '') });
    const tally = new NodeTally(() => registry.sites, () => V182, { intervalMs: 60_000, maxPages: 50, timeoutMs: 10_000, concurrency: 1 }, silent);
    tally.start();
    await until('a finished round', () => tally.snapshot().round?.finished_at != null);
    const t = tally.snapshot().sites[0]!;
    assert.match(t.error ?? '', /lead back/);
    assert.ok(loop.received.filter((l) => TALLY.test(l)).length <= 3);
    await tally.stop();
    await registry.close();
  });
});

test('ironic-proxy --version prints the package version', () => {
  const root = new URL('../../', import.meta.url).pathname;
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', '--version'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `ironic-proxy ${VERSION}\n`);
  assert.match(VERSION, /^\d+\.\d+\.\d+/);
});
