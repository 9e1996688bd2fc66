/**
 * Every family with an identifier unique over all sites, through two
 * replicas (two proxies in this process, each with its own caches and
 * reservations) sharing a real Redis, over two simulated sites that answer
 * slowly enough for the writes to overlap: the same port MAC, portgroup
 * name, volume connector id or node name written at the same instant
 * through both replicas, at two different sites, succeeds exactly once;
 * the other gets Ironic's 409 text.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startSimSite, type SimSite } from '../../src/sim/index.js';
import { startProxy, type RunningProxy } from '../../src/start.js';
import { fleetIni } from '../support/sim-fleet.js';
import { startRedis, type TestRedis } from '../support/redis.js';

const TRIALS = 8;
const H = { 'x-openstack-ironic-api-version': '1.82', 'content-type': 'application/json' };

async function call(base: string, method: string, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(base + path, { method, headers: H, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

describe('unique identifiers of every family, through two replicas sharing Redis', () => {
  const specs = [
    { name: 'sa', conductorGroups: [''], nodes: 2, latencyMs: 15 },
    { name: 'sb', conductorGroups: ['gb'], nodes: 2, latencyMs: 15 },
  ];
  let sims: SimSite[] = [];
  let redis: TestRedis;
  let replicas: RunningProxy[] = [];
  /** A node at each site: [at sa, at sb]. */
  let nodes: [string, string];

  before(async () => {
    [sims, redis] = await Promise.all([Promise.all(specs.map((s) => startSimSite(s))), startRedis()]);
    const ini = `${fleetIni(specs, sims)}\n[coordination]\nbackend_url = ${redis.url}\n`;
    const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    replicas = await Promise.all([0, 1].map(() => startProxy(loadConfigText(ini), { log })));
    const first = async (sim: SimSite): Promise<string> => {
      const res = await fetch(`${sim.url}/v1/nodes?limit=1`, { headers: H });
      return ((await res.json()) as { nodes: Array<{ uuid: string }> }).nodes[0]!.uuid;
    };
    nodes = [await first(sims[0]!), await first(sims[1]!)];
  });

  after(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await Promise.all(sims.map((s) => s.close()));
    await redis?.dispose();
  });

  /** One write per replica at once, replica i at site i; exactly one succeeds, the other is Ironic's 409. */
  async function race(what: string, write: (replica: string, node: string) => Promise<{ status: number; json: any }>, ok: number, taken: string): Promise<void> {
    const answers = await Promise.all(replicas.map((r, i) => write(r.url, nodes[i]!)));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [ok, 409].sort(), `${what}: ${statuses.join(',')}`);
    const refused = answers.find((a) => a.status === 409)!;
    assert.equal(JSON.parse(refused.json.error_message).faultstring, taken, what);
  }

  test('port MAC address', async () => {
    for (let i = 0; i < TRIALS; i++) {
      const mac = `52:54:00:12:34:${i.toString(16).padStart(2, '0')}`;
      await race(`MAC ${mac}`, (r, node) => call(r, 'POST', '/v1/ports', { node_uuid: node, address: mac }), 201, `A port with MAC address ${mac} already exists.`);
    }
  });

  test('portgroup name', async () => {
    for (let i = 0; i < TRIALS; i++) {
      const name = `pg-race-${i}`;
      await race(`portgroup ${name}`, (r, node) => call(r, 'POST', '/v1/portgroups', { node_uuid: node, name }), 201, `A portgroup with name ${name} already exists.`);
    }
  });

  test('volume connector type and connector id', async () => {
    for (let i = 0; i < TRIALS; i++) {
      const id = `iqn.2026-11.org.example:race-${i}`;
      await race(
        `connector ${id}`,
        (r, node) => call(r, 'POST', '/v1/volume/connectors', { node_uuid: node, type: 'iqn', connector_id: id }),
        201,
        `A volume connector with type iqn and connector ID ${id} already exists.`,
      );
    }
  });

  test('node rename', async () => {
    for (let i = 0; i < TRIALS; i++) {
      const name = `renamed-${i}`;
      await race(`rename to ${name}`, (r, node) => call(r, 'PATCH', `/v1/nodes/${node}`, [{ op: 'replace', path: '/name', value: name }]), 200, `A node with name ${name} already exists.`);
    }
  });
});
