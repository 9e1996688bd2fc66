/**
 * The status page in a real browser (Debian's chromium, driven by
 * puppeteer-core; nothing is downloaded): the proxy over four simulated
 * sites, one down and one slow. The page loads, names the down site, shows
 * the slow one, and — without a reload — turns the down site up when it
 * comes back. A screenshot is kept in .tmp/ (IRONIC_PROXY_DOCS_SCREENSHOT=1
 * also writes docs/status.png for the README). Under Keystone: the page asks
 * for a token, refuses a non-admin one, keeps the admin one in
 * sessionStorage and sends it only as X-Auth-Token, never in a URL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { startFleet, LATEST, type Fleet } from '../support/sim-fleet.js';
import { MiniKeystone } from '../support/mini-keystone.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = new URL('../../', import.meta.url).pathname;

let fleet: Fleet;

async function postTo(base: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-openstack-ironic-api-version': '1.80' }, body: JSON.stringify(body) });
  assert.equal(res.status, 201, `${base}${path}: ${await res.text()}`);
}
let browser: Browser;
let page: Page;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/install-system-deps.sh`);
  fleet = await startFleet(
    [
      { name: 'fra-01', conductorGroups: ['', 'rack-a'], nodes: 40 },
      { name: 'ams-02', conductorGroups: ['rack-b'], nodes: 25, latencyMs: 400 },
      { name: 'par-03', conductorGroups: ['rack-c'], nodes: 30 },
      { name: 'mad-04', conductorGroups: ['rack-d', 'rack-e'], nodes: 12, maxMinor: 80 },
      { name: 'waw-05', conductorGroups: ['rack-f'], nodes: 64 },
      { name: 'lis-06', conductorGroups: ['rack-g'], nodes: 18 },
    ],
    {
      proxyIni: 'circuit_open_seconds = 0.5\nsite_timeout = 3',
      statusIni: 'probe_interval = 0.5\nrefresh_interval = 1\nslow_threshold = 0.2\ntally_interval = 1',
    },
  );
  // Drift, made at the sites behind the proxy's back: a chassis that waw-05 lacks, a deploy template whose steps differ at lis-06.
  const chassis = { uuid: '5a1e0c4e-1b7d-4c1e-9d0a-7f1f3c2b9e01', description: 'rack A chassis' };
  const template = { uuid: '0d7c6a52-2f63-4d0e-8b4e-3c5d1a9e7f02', name: 'CUSTOM_RAID1', steps: [{ interface: 'raid', step: 'create_configuration', args: {}, priority: 10 }] };
  for (const sim of fleet.sims) {
    if (sim.name !== 'waw-05') await postTo(sim.url, '/v1/chassis', chassis);
    await postTo(sim.url, '/v1/deploy_templates', sim.name === 'lis-06' ? { ...template, steps: [{ ...template.steps[0], priority: 20 }] } : template);
  }
  // The start-up check may still be under way (a caller shares it): the second check starts after the changes.
  await fleet.proxy.services.status.drift.check();
  await fleet.proxy.services.status.drift.check();
  await fleet.site('par-03').setFault('refuse');
  // Traffic, so that the page has rates and partial answers (par-03 missing) to show.
  for (let batch = 0; batch < 5; batch++) {
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const res = await fetch(`${fleet.url}/v1/nodes?limit=5`, { headers: LATEST });
        assert.equal(res.headers.get('x-ironic-proxy-missing-sites'), 'par-03');
        await res.arrayBuffer();
      }),
    );
  }
  for (const path of ['/v1/nodes/fra-01-node-1', '/v1/nodes/no-such-node', '/v1/chassis', '/v1/deploy_templates']) await (await fetch(`${fleet.url}${path}`, { headers: LATEST })).arrayBuffer();
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
    defaultViewport: { width: 1600, height: 900 },
  });
  page = await browser.newPage();
});

after(async () => {
  await browser?.close();
  await fleet?.close();
});

test('the status page names the down site, shows the slow one, and follows the down site coming back', async () => {
  const failures: string[] = [];
  page.on('pageerror', (err) => failures.push(`page error: ${(err as Error).message}`));
  page.on('requestfailed', (req) => failures.push(`request failed: ${req.url()}`));
  const requested: string[] = [];
  page.on('request', (req) => requested.push(req.url()));

  const res = await page.goto(`${fleet.url}/status`, { waitUntil: 'load' });
  assert.equal(res?.status(), 200);
  assert.match(res?.headers()['content-security-policy'] ?? '', /script-src 'self'/);

  // The down site: its row says down, and the Down tile names it.
  await page.waitForSelector('tr[data-site="par-03"][data-verdict="down"]', { timeout: 15_000 });
  assert.match(await page.$eval('#tile-down', (el) => el.textContent ?? ''), /par-03/);
  // The slow site: marked slow, with its latency.
  await page.waitForSelector('tr[data-site="ams-02"][data-verdict="slow"]', { timeout: 15_000 });
  const slowRow = await page.$eval('tr[data-site="ams-02"]', (el) => el.textContent ?? '');
  assert.match(slowRow, /slow/);
  assert.match(slowRow, /recent answers take \d+ ms/);
  // The node tally of the healthy sites, the out-of-date one, the partial answers.
  await page.waitForSelector('tr[data-site="fra-01"] .bars', { timeout: 15_000 });
  assert.match(await page.$eval('tr[data-site="fra-01"]', (el) => el.textContent ?? ''), /40/);
  assert.match(await page.$eval('tr[data-site="mad-04"]', (el) => el.textContent ?? ''), /1\.1–1\.80/);
  assert.match(await page.$eval('#partials', (el) => el.textContent ?? ''), /par-03/);
  // The drift: per site, with the command that repairs it.
  assert.match(await page.$eval('[data-drift-site="waw-05"]', (el) => el.textContent ?? ''), /1 drifting/);
  assert.match(await page.$eval('[data-drift-site="lis-06"]', (el) => el.textContent ?? ''), /1 drifting/);
  assert.match(await page.$eval('[data-drift-site="fra-01"]', (el) => el.textContent ?? ''), /in sync/);
  assert.match(await page.$eval('#drift-objects', (el) => el.textContent ?? ''), /CUSTOM_RAID1.*differs from the majority in steps/s);
  assert.match(await page.$eval('#drift-command', (el) => el.textContent ?? ''), /ironic-proxy-reconcile --config-file \S+ --repair/);

  mkdirSync(`${ROOT}.tmp`, { recursive: true });
  await page.screenshot({ path: `${ROOT}.tmp/status-page.png`, fullPage: true });
  if (process.env.IRONIC_PROXY_DOCS_SCREENSHOT === '1') await page.screenshot({ path: `${ROOT}docs/status.png`, fullPage: true });

  // The page refreshes itself: mark this document, bring the site back, wait for the row to turn.
  await page.evaluate(() => ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true));
  await fleet.site('par-03').setFault('none');
  await page.waitForSelector('tr[data-site="par-03"][data-verdict="up"]', { timeout: 20_000 });
  assert.equal(await page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument), true, 'updated without a reload');
  assert.doesNotMatch(await page.$eval('#tile-down', (el) => el.textContent ?? ''), /par-03/);
  await page.screenshot({ path: `${ROOT}.tmp/status-page-recovered.png`, fullPage: true });

  assert.deepEqual(failures, []);
  const origin = new URL(fleet.url).origin;
  assert.deepEqual(requested.filter((u) => !u.startsWith(origin) && !u.startsWith('data:')), [], 'nothing fetched from elsewhere');
});

test('under Keystone the page asks for a token, keeps it in sessionStorage and sends it only as X-Auth-Token', async () => {
  const ks = new MiniKeystone();
  await ks.start();
  ks.tokens.set('tok-reader-1f2e', ['reader']);
  ks.tokens.set('tok-admin-9c8d', ['admin', 'reader']);
  const guarded = await startFleet([{ name: 'kilo', nodes: 3 }], { apiIni: ks.apiIni, statusIni: 'refresh_interval = 1' });
  const tab = await browser.newPage();
  const sent: Array<{ url: string; token?: string }> = [];
  tab.on('request', (req) => sent.push({ url: req.url(), token: req.headers()['x-auth-token'] }));
  try {
    await tab.goto(`${guarded.url}/status`, { waitUntil: 'load' });
    await tab.waitForSelector('#auth:not([hidden])', { timeout: 10_000 });
    assert.match(await tab.$eval('#auth-reason', (el) => el.textContent ?? ''), /needs a token with the admin role/);

    await tab.type('#auth-token', 'tok-reader-1f2e');
    await tab.click('#auth-form button[type=submit]');
    await tab.waitForFunction(() => /lacks the admin role/.test((globalThis as any).document.getElementById('auth-reason').textContent), { timeout: 10_000 });

    await tab.type('#auth-token', 'tok-admin-9c8d');
    await tab.click('#auth-form button[type=submit]');
    await tab.waitForSelector('tr[data-site="kilo"][data-verdict="up"]', { timeout: 10_000 });
    assert.equal(await tab.$eval('#auth', (el) => (el as unknown as { hidden: boolean }).hidden), true);
    assert.equal(await tab.evaluate(() => (globalThis as any).sessionStorage.getItem('ironic-proxy.status.token')), 'tok-admin-9c8d');

    // A reload keeps the tab's token: the data comes without the form.
    await tab.reload({ waitUntil: 'load' });
    await tab.waitForSelector('tr[data-site="kilo"]', { timeout: 10_000 });

    const data = sent.filter((r) => new URL(r.url).pathname === '/status' && r.token);
    assert.ok(data.some((r) => r.token === 'tok-admin-9c8d'), 'the admin token went as X-Auth-Token');
    assert.deepEqual(sent.filter((r) => /tok-/.test(r.url)), [], 'no token in any URL');
    assert.deepEqual(sent.filter((r) => r.token && !r.url.startsWith(guarded.url)), [], 'the token goes to this proxy only');

    // Forget: the token leaves the tab's storage and the form is back.
    await tab.click('#token-button');
    await tab.click('#auth-forget');
    assert.equal(await tab.evaluate(() => (globalThis as any).sessionStorage.getItem('ironic-proxy.status.token')), null);
  } finally {
    await tab.close();
    await guarded.close();
    await ks.close();
  }
});
