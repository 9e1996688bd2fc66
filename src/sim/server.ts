/**
 * HTTP front of a simulated Ironic site: raw node:http (the simulator is the
 * fast backend of the proxy benchmark), plus latency and fault injection.
 */

import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { faultBody } from '../ironic/error-body.js';
import { SimApi } from './api.js';
import { DRIVERS } from './seed.js';

export interface SimSiteOptions {
  /** Site name; seeds node names `<name>-node-<i>` and conductor host names. */
  name: string;
  /** Conductor groups served by the site (default `['']`, the default group). */
  conductorGroups?: string[];
  /** Highest microversion minor (default 82 = Ironic 21.4). */
  maxMinor?: number;
  /** `[api]max_limit` (default 1000). */
  maxLimit?: number;
  /** Added before answering each request, in ms. */
  latencyMs?: number;
  /** Seed this many nodes, deterministically from the site name. */
  nodes?: number;
  host?: string;
  /** 0 (default) = a free port. */
  port?: number;
  /** `[api]public_endpoint`: base of all links (default `http://<Host header>`). */
  publicEndpoint?: string;
  /** How long the fake conductor takes to finish a transitional state (default 20 ms). */
  tickMs?: number;
  /** Enabled hardware types (default fake-hardware and manual-management). */
  drivers?: string[];
}

/**
 * none: normal; refuse: listening socket closed and connections destroyed
 * (ECONNREFUSED / resets); hang: requests are accepted and never answered;
 * http500: every request gets a 500; garbage: every request gets a 200 whose
 * body is not JSON.
 */
export type SimFault = 'none' | 'refuse' | 'hang' | 'http500' | 'garbage';

export interface SimSite {
  readonly name: string;
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  setLatency(ms: number): void;
  /** Resolves when the fault is in effect (for 'refuse', when the port is closed). */
  setFault(mode: SimFault): Promise<void>;
  nodeCount(): number;
  /** The simulated API (for tests that need to look inside). */
  readonly api: SimApi;
  /** `METHOD /path?query` of the last requests received (bounded), for tests that check what reached a site. */
  readonly received: readonly string[];
}

/** Requests a sim remembers for `received`: enough for a test, bounded for a benchmark. */
const RECEIVED_KEPT = 1000;

export async function startSimSite(opts: SimSiteOptions): Promise<SimSite> {
  const host = opts.host ?? '127.0.0.1';
  const groups = (opts.conductorGroups ?? ['']).map((g) => g.toLowerCase());
  const api = new SimApi({
    name: opts.name,
    groups,
    maxMinor: opts.maxMinor ?? 82,
    maxLimit: opts.maxLimit ?? 1000,
    drivers: opts.drivers ?? Object.keys(DRIVERS),
    tickMs: opts.tickMs ?? 20,
    publicEndpoint: opts.publicEndpoint,
    seedNodes: opts.nodes ?? 0,
  });
  let latency = opts.latencyMs ?? 0;
  let fault: SimFault = 'none';
  let closed = false;
  const sockets = new Set<Socket>();
  const hung = new Set<http.ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();

  const respond = (req: http.IncomingMessage, res: http.ServerResponse, body: string): void => {
    const q = req.url!.indexOf('?');
    const reply = api.handle({
      method: req.method ?? 'GET',
      path: q < 0 ? req.url! : req.url!.slice(0, q),
      query: q < 0 ? '' : req.url!.slice(q + 1),
      headers: req.headers,
      body,
    });
    const headers = reply.headers;
    if (reply.body !== undefined) {
      headers['Content-Length'] = String(Buffer.byteLength(reply.body));
    } else if (reply.status !== 204 && reply.status !== 304) {
      headers['Content-Length'] = '0';
    }
    res.writeHead(reply.status, headers);
    res.end(req.method === 'HEAD' ? undefined : reply.body);
  };

  const dispatch = (req: http.IncomingMessage, res: http.ServerResponse, body: string): void => {
    if (closed) {
      res.destroy();
      return;
    }
    switch (fault) {
      case 'hang':
        hung.add(res);
        res.on('close', () => hung.delete(res));
        return;
      case 'http500': {
        const b = faultBody(500, 'Simulated internal server error.');
        res.writeHead(500, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(b)) });
        res.end(b);
        return;
      }
      case 'garbage': {
        const b = '<html><body>502 garbage from a misbehaving site</body></html';
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(b)) });
        res.end(b);
        return;
      }
      default:
        break;
    }
    if (latency > 0) {
      const t = setTimeout(() => {
        timers.delete(t);
        if (closed) {
          res.destroy();
          return;
        }
        respond(req, res, body);
      }, latency);
      timers.add(t);
    } else {
      respond(req, res, body);
    }
  };

  const received: string[] = [];
  const server = http.createServer((req, res) => {
    if (received.length >= RECEIVED_KEPT) received.shift();
    received.push(`${req.method} ${req.url}`);
    const len = req.headers['content-length'];
    const hasBody = (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) {
      dispatch(req, res, '');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => dispatch(req, res, Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => res.destroy());
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve((server.address() as AddressInfo).port);
      });
    });

  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  const releaseHung = (): void => {
    for (const r of hung) r.destroy();
    hung.clear();
  };

  const port = await listen(opts.port ?? 0);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    name: opts.name,
    url,
    port,
    api,
    received,
    nodeCount: () => api.store.size,
    setLatency(ms: number) {
      latency = Math.max(0, ms);
    },
    async setFault(mode: SimFault) {
      if (closed) throw new Error(`sim site ${opts.name} is closed`);
      const prev = fault;
      fault = mode;
      if (prev === 'hang' && mode !== 'hang') releaseHung();
      if (mode === 'refuse' && prev !== 'refuse') await stopListening();
      if (prev === 'refuse' && mode !== 'refuse') await listen(port);
    },
    async close() {
      if (closed) return;
      closed = true;
      api.close();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      releaseHung();
      await stopListening();
    },
  };
}
