/**
 * Issue 16.1: a site vouches only for itself. A listing from site B that
 * holds the uuid of a node at site A teaches the location cache nothing (the
 * next PATCH, with its secrets, goes to A); a lookup answer is cached under
 * the identifier asked, never under another uuid it names; an answer about
 * another identity is B's 502; an identifier two sites claim is a 409,
 * logged and counted, never resolved in favour of either.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { loadConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startProxy, type RunningProxy } from '../../src/start.js';
import { HostileSite, send, uuidOf, type RawRequest } from '../support/hostile-site.js';

const V = { 'x-openstack-ironic-api-version': '1.82' };
const faultstring = (json: any): string => JSON.parse(json.error_message).faultstring;

async function call(url: string, init: RequestInit = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { ...init, headers: { ...V, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

describe('a site vouches only for itself', () => {
  const good = new HostileSite('good');
  const evil = new HostileSite('evil');
  const victim = { uuid: uuidOf('a', 1), name: 'good-1' };
  const own = { uuid: uuidOf('e', 1), name: 'evil-1' };
  let proxy: RunningProxy;
  let url: string;
  const logged: string[] = [];

  /** PATCHes are answered by whoever receives them (the node as patched): the test looks at who received them. */
  const patchable = (site: HostileSite) => (req: RawRequest, socket: import('node:net').Socket): boolean => {
    if (req.method !== 'PATCH') return false;
    const ident = req.path.split('/')[3]!;
    const node = site.nodes.find((n) => n.uuid === ident || n.name === ident) ?? { uuid: ident, name: 'forged' };
    send(socket, 200, site.nodeDoc(node));
    return true;
  };

  before(async () => {
    await Promise.all([good.start(), evil.start()]);
    const ini = `[DEFAULT]\ngroups = _:good,g1:evil\n\n[api]\nhost_ip = 127.0.0.1\nport = 0\n\n[proxy]\ncircuit_failure_threshold = 100\n\n` +
      `[group:good]\nauth_type = none\nendpoint_override = ${good.url}\n\n[group:evil]\nauth_type = none\nendpoint_override = ${evil.url}\n`;
    const to = new Writable({
      write(chunk, _enc, cb) {
        logged.push(chunk.toString('utf8'));
        cb();
      },
    });
    proxy = await startProxy(loadConfigText(ini), { log: createLogger({ level: 'warn', to }) });
    url = proxy.url;
  });
  after(async () => {
    await proxy.close();
    await Promise.all([good.close(), evil.close()]);
  });
  beforeEach(() => {
    good.nodes = [victim];
    evil.nodes = [own];
    good.handler = patchable(good);
    evil.handler = patchable(evil);
    good.requests.length = 0;
    evil.requests.length = 0;
  });

  test("a listing from B holding A's uuid does not send A's node's PATCH (and its secret) to B", async () => {
    // B lists A's node as its own, in every listing.
    evil.handler = (req, socket) => {
      if (req.method === 'GET' && req.path === '/v1/nodes') {
        send(socket, 200, { nodes: [evil.nodeDoc(own), evil.nodeDoc({ ...victim, name: 'captured' })].sort((a, b) => (String(a.uuid) < String(b.uuid) ? -1 : 1)) });
        return true;
      }
      return patchable(evil)(req, socket);
    };
    const listed = await call(`${url}/v1/nodes`);
    assert.equal(listed.status, 200);
    assert.ok(listed.json.nodes.some((n: { uuid: string }) => n.uuid === victim.uuid));
    const patch = [{ op: 'add', path: '/driver_info/ipmi_password', value: 's3cret' }];
    const r = await call(`${url}/v1/nodes/${victim.uuid}`, { method: 'PATCH', body: JSON.stringify(patch) });
    assert.equal(r.status, 200);
    assert.equal(evil.requestsTo('PATCH', '/v1/nodes').length, 0, 'the PATCH reached the site that only listed the node');
    assert.equal(good.requestsTo('PATCH', '/v1/nodes').length, 1);
  });

  test("a lookup answer naming another uuid is not cached under it", async () => {
    // Asked about its own node by name, B answers with A's uuid.
    evil.handler = (req, socket) => {
      if (req.method === 'GET' && req.path === `/v1/nodes/${own.name}`) {
        send(socket, 200, evil.nodeDoc({ uuid: victim.uuid, name: own.name }));
        return true;
      }
      return patchable(evil)(req, socket);
    };
    assert.equal((await call(`${url}/v1/nodes/${own.name}?fields=uuid,name`)).status, 200);
    const r = await call(`${url}/v1/nodes/${victim.uuid}`, { method: 'PATCH', body: JSON.stringify([{ op: 'add', path: '/extra/x', value: 1 }]) });
    assert.equal(r.status, 200);
    assert.equal(evil.requestsTo('PATCH', '/v1/nodes').length, 0);
    assert.equal(good.requestsTo('PATCH', '/v1/nodes').length, 1);
  });

  test("an answer about another identity is the site's 502, not a hit", async () => {
    const other = uuidOf('b', 9);
    evil.handler = (req, socket) => {
      if (req.method === 'GET' && req.path === `/v1/nodes/${other}`) {
        send(socket, 200, evil.nodeDoc({ uuid: own.uuid, name: own.name }));
        return true;
      }
      return false;
    };
    const r = await call(`${url}/v1/nodes/${other}`);
    assert.equal(r.status, 503, JSON.stringify(r.json));
    assert.match(faultstring(r.json), /Cannot tell where node .* is: site\(s\) evil did not answer/);
  });

  test('an identifier claimed by two sites is a 409: logged, counted, and no request reaches either', async () => {
    const twice = { uuid: uuidOf('a', 2), name: 'good-2' }; // asked about for the first time here
    good.nodes = [victim, twice];
    evil.nodes = [own, twice]; // B claims A's node in lookups too
    const before = good.requests.length + evil.requests.length;
    const r = await call(`${url}/v1/nodes/${twice.uuid}`, { method: 'PATCH', body: JSON.stringify([{ op: 'add', path: '/extra/x', value: 1 }]) });
    assert.equal(r.status, 409, JSON.stringify(r.json));
    assert.match(faultstring(r.json), /claimed by several sites \(good, evil\)/);
    assert.equal(good.requestsTo('PATCH', '/v1/nodes').length + evil.requestsTo('PATCH', '/v1/nodes').length, 0);
    assert.ok(good.requests.length + evil.requests.length - before <= 2, 'only the lookups');
    assert.ok(logged.some((l) => l.includes('identifier claimed by several sites') && l.includes(twice.uuid)), 'logged');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /ironic_proxy_location_conflicts_total\{resource="node"\} [1-9]/);
  });
});
