/**
 * Tiny fake Ironic sites over HTTP for unit tests of the proxy's federation
 * of resources the simulator does not model (allocations, events, drivers
 * with interfaces, paged conductors, shards): each site answers `GET /` with
 * an Ironic version document (1.1–1.82) and every other request with the
 * test's handler, and records every request it got.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startProxy, type RunningProxy } from '../../src/start.js';

export interface FakeCall {
  method: string;
  path: string;
  query: URLSearchParams;
  version: string | undefined;
  body: any;
}

export interface FakeAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type FakeHandler = (call: FakeCall) => FakeAnswer | undefined;

export class FakeIronicSite {
  readonly calls: FakeCall[] = [];
  /** Answers requests; undefined falls through to a routing 404. */
  handler: FakeHandler = () => undefined;
  /** When set, the site resets every connection but `GET /` (a site that is down). */
  down = false;
  url = '';
  private server?: http.Server;

  constructor(readonly name: string) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://fake');
        if (u.pathname === '/' && req.method === 'GET') {
          return send(res, { status: 200, body: rootDocument(this.url) });
        }
        if (this.down) return req.socket.destroy();
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = text;
        }
        const call: FakeCall = {
          method: req.method ?? 'GET',
          path: u.pathname,
          query: u.searchParams,
          version: req.headers['x-openstack-ironic-api-version'] as string | undefined,
          body,
        };
        this.calls.push(call);
        send(res, this.handler(call) ?? { status: 404, body: routingError(404, 'The resource could not be found.') });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Calls other than the proxy's own lookups of `path` (a prefix). */
  callsTo(method: string, pathPrefix: string): FakeCall[] {
    return this.calls.filter((c) => c.method === method && c.path.startsWith(pathPrefix));
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

function send(res: http.ServerResponse, a: FakeAnswer): void {
  const headers: Record<string, string> = {
    'x-openstack-ironic-api-minimum-version': '1.1',
    'x-openstack-ironic-api-maximum-version': '1.82',
    ...a.headers,
  };
  if (a.body !== undefined) headers['content-type'] = 'application/json';
  res.writeHead(a.status, headers);
  res.end(a.body === undefined ? undefined : JSON.stringify(a.body));
}

function rootDocument(base: string): unknown {
  const v = { id: 'v1', links: [{ href: `${base}/v1/`, rel: 'self' }], status: 'CURRENT', min_version: '1.1', version: '1.82' };
  return { name: 'OpenStack Ironic API', description: 'fake', default_version: v, versions: [v] };
}

/** Ironic's controller error body. */
export function fault(status: number, text: string): FakeAnswer {
  return { status, body: { error_message: JSON.stringify({ faultcode: status >= 500 ? 'Server' : 'Client', faultstring: text, debuginfo: null }) } };
}

export function routingError(code: number, description: string): unknown {
  return { error_message: JSON.stringify({ code, title: 'Not Found', description }) };
}

export interface FakeFleet {
  sites: FakeIronicSite[];
  proxy: RunningProxy;
  url: string;
  close(): Promise<void>;
}

/** Starts `names.length` fake sites (the first holds the default group, site i also group `g<i>`) and a proxy over them. */
export async function startFakeFleet(names: string[], opts: { apiIni?: string; proxyIni?: string } = {}): Promise<FakeFleet> {
  const sites = names.map((n) => new FakeIronicSite(n));
  await Promise.all(sites.map((s) => s.start()));
  const groups = sites.map((s, i) => `${i === 0 ? '_' : `g${i}`}:${s.name}`).join(',');
  const sections = sites.map((s) => `[group:${s.name}]\nauth_type = none\nendpoint_override = ${s.url}\ntimeout = 2\n`).join('\n');
  const ini = `[DEFAULT]\ngroups = ${groups}\n\n[api]\nhost_ip = 127.0.0.1\nport = 0\n${opts.apiIni ?? ''}\n\n[proxy]\n${opts.proxyIni ?? ''}\n\n${sections}`;
  const proxy = await startProxy(loadConfigText(ini), { log: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
  return {
    sites,
    proxy,
    url: proxy.url,
    close: async () => {
      await proxy.close();
      await Promise.all(sites.map((s) => s.close()));
    },
  };
}

/** One request to the proxy at 1.82 (JSON in and out). */
export async function call(base: string, method: string, path: string, body?: unknown, version = '1.82'): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const headers: Record<string, string> = { 'x-openstack-ironic-api-version': version };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}
