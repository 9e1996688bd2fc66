/**
 * The Grafana dashboard and the Prometheus alert rules in deploy/ name only
 * metrics the proxy exports: every `ironic_proxy_*` name in them is in the
 * /metrics output of a running proxy (a histogram's _bucket/_sum/_count
 * under its own name). The dashboard is importable as is (a datasource
 * input, no fixed datasource uid). promtool checks the rules' syntax in the
 * integration suite (test/integration/monitoring-promtool.test.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { startFleet, type Fleet } from '../support/sim-fleet.js';

const ROOT = new URL('../../', import.meta.url);
const RULES = 'deploy/prometheus/ironic-proxy-alerts.yml';
const DASHBOARD = 'deploy/grafana/ironic-proxy-dashboard.json';

let fleet: Fleet;
let exported: Set<string>;

before(async () => {
  fleet = await startFleet([{ name: 'a', nodes: 1 }]);
  const text = await (await fetch(`${fleet.url}/metrics`)).text();
  // # HELP lines: a labelled counter no one has incremented yet has no sample line, but it is exported.
  exported = new Set([...text.matchAll(/^# HELP (\S+)/gm)].map((m) => m[1]!));
});
after(() => fleet.close());

function metricNames(exprs: string[]): Set<string> {
  const names = new Set<string>();
  for (const e of exprs) for (const m of e.matchAll(/\bironic_proxy_[a-z0-9_]+/g)) names.add(m[0]);
  return names;
}

function missing(names: Set<string>): string[] {
  return [...names].filter((n) => !exported.has(n) && !exported.has(n.replace(/_(bucket|sum|count)$/, '')));
}

function dashboardExprs(): string[] {
  const dash = JSON.parse(readFileSync(new URL(DASHBOARD, ROOT), 'utf8')) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
  return dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

function ruleExprs(): string[] {
  const doc = parse(readFileSync(new URL(RULES, ROOT), 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string; expr: string }> }> };
  return doc.groups.flatMap((g) => g.rules.map((r) => r.expr));
}

test('every metric the alert rules name is exported', () => {
  const names = metricNames(ruleExprs());
  assert.ok(names.size >= 8, `rules name ${names.size} metrics`);
  assert.deepEqual(missing(names), []);
});

test('the alert rules cover site down, breaker open, error rate, partial listings, drift, token renewal', () => {
  const doc = parse(readFileSync(new URL(RULES, ROOT), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  const byName = new Map(doc.groups.flatMap((g) => g.rules).map((r) => [r.alert, r.expr]));
  const expect: Record<string, RegExp> = {
    IronicProxySiteDown: /ironic_proxy_site_up == 0/,
    IronicProxyCircuitOpen: /ironic_proxy_site_circuit_state == 2/,
    IronicProxyHighErrorRate: /ironic_proxy_http_requests_total\{status=~"5\.\."\}/,
    IronicProxyPartialListings: /ironic_proxy_listing_missing_sites_total/,
    IronicProxyGlobalObjectsDrift: /ironic_proxy_global_objects_drift/,
    IronicProxyTokenRenewalFailing: /ironic_proxy_keystone_authentications_total\{outcome="failure"\}/,
  };
  for (const [alert, re] of Object.entries(expect)) assert.match(byName.get(alert) ?? '', re, alert);
});

test('every metric the Grafana dashboard names is exported, and it imports as is', () => {
  const names = metricNames(dashboardExprs());
  assert.ok(names.size >= 12, `dashboard names ${names.size} metrics`);
  assert.deepEqual(missing(names), []);
  const dash = JSON.parse(readFileSync(new URL(DASHBOARD, ROOT), 'utf8'));
  assert.equal(dash.__inputs[0].name, 'DS_PROMETHEUS');
  const uids = new Set(JSON.stringify(dash).match(/"uid": ?"[^"]*"/g) ?? []);
  for (const u of uids) assert.match(u, /\$\{DS_PROMETHEUS\}|"ironic-proxy"/, 'only the input datasource and the dashboard uid');
  const ids = dash.panels.map((p: { id: number }) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids unique');
});
