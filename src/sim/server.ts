/**
 * HTTP front of a simulated Ironic site: raw node:http (the simulator is the
 * fast backend of the proxy benchmark), plus latency and fault injection.
 */

import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { faultBody } from '../ironic/error-body.js';
import { SimApi } from './api.js';
import { DRIVERS } from './seed.js';
import { pyRepr } from './pyrepr.js';

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
  /** Host names of the conductors, per conductor group (default `<name>` or `<name>-<group>`). */
  conductorHosts?: Record<string, string>;
  /** What `GET /v1/drivers/{name}/properties` answers, per hardware type (default `{}`). */
  driverProperties?: Record<string, Record<string, string>>;
  /** Per hardware type and interface: the enabled interfaces and the default the driver listing shows. */
  driverInterfaces?: Record<string, Record<string, { enabled: string[]; default: string | null }>>;
}

/**
 * none: normal; refuse: the site is killed — listening socket closed and
 * connections destroyed (ECONNREFUSED / resets) — until another mode
 * restarts it; hang: requests are accepted and never answered; http500:
 * every request gets Ironic's 500; garbage: every request gets a 200 that is
 * not the document (shape: see GarbageShape); reset: the connection is
 * reset instead of an answer; reset-mid-body: the headers and half the body
 * are sent, then the connection is reset; apply-then-hang: the request takes
 * effect but is never answered (the caller cannot know it was applied).
 */
export type SimFault = 'none' | 'refuse' | 'hang' | 'http500' | 'garbage' | 'reset' | 'reset-mid-body' | 'apply-then-hang';

/**
 * What a garbage answer looks like (all with status 200):
 * html: a front end's HTML page (as application/json); python-false: the real
 * answer with Python's True/False/None for true/false/null (`{…False…}`);
 * python-repr: the real answer as a Python repr (`{'uuid': …}`); truncated:
 * the real answer cut in half; nan: the real answer with a NaN in it; empty:
 * no body; text: the real answer as text/plain; wrong-shape: `{}`; array: `[]`.
 */
export type GarbageShape = 'html' | 'python-false' | 'python-repr' | 'truncated' | 'nan' | 'empty' | 'text' | 'wrong-shape' | 'array';

export const GARBAGE_SHAPES: readonly GarbageShape[] = ['html', 'python-false', 'python-repr', 'truncated', 'nan', 'empty', 'text', 'wrong-shape', 'array'];

export interface FaultOptions {
  /** The shape of garbage answers (default html). */
  shape?: GarbageShape;
  /**
   * Fail exactly this many requests, then answer normally again (requests
   * hung by a counted hang stay hung until the next setFault or close).
   * Not for refuse.
   */
  count?: number;
  /** Only requests with this method meet the fault (others are answered normally). Not for refuse. */
  method?: string;
  /** Only requests whose path starts with this meet the fault. Not for refuse. */
  path?: string;
  /** Requests that would meet the fault answered normally before it starts. */
  skip?: number;
  /** The status of http500 answers (default 500), with Ironic's error body. */
  status?: number;
}

export interface SimSite {
  readonly name: string;
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  setLatency(ms: number): void;
  /** Resolves when the fault is in effect (for 'refuse', when the port is closed; for any other mode after refuse, when it listens again). */
  setFault(mode: SimFault, opts?: FaultOptions): Promise<void>;
  /** The fault in effect now ('none' once a counted fault has failed its requests). */
  readonly fault: SimFault;
  /** Requests that a fault answered (or did not answer) since the site started. */
  readonly faulted: number;
  nodeCount(): number;
  /** The simulated API (for tests that need to look inside). */
  readonly api: SimApi;
  /** `METHOD /path?query` of the last requests received (bounded), for tests that check what reached a site. */
  readonly received: readonly string[];
  /** The same requests with their bodies (bounded like `received`), for tests that check what a site was sent. */
  readonly requests: ReadonlyArray<{ method: string; url: string; body: string }>;
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
    conductorHosts: opts.conductorHosts,
    driverInterfaces: opts.driverInterfaces,
    driverProperties: opts.driverProperties,
  });
  let latency = opts.latencyMs ?? 0;
  let fault: SimFault = 'none';
  let shape: GarbageShape = 'html';
  let match: { method?: string; path?: string; skip: number; status: number } = { skip: 0, status: 500 };
  /** Requests the current fault still fails (Infinity: until changed). */
  let remaining = Infinity;
  let faulted = 0;
  let closed = false;
  const sockets = new Set<Socket>();
  const hung = new Set<http.ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();

  /** The real answer to a request, as the site would send it. */
  const answer = (req: http.IncomingMessage, body: string): ReturnType<SimApi['handle']> => {
    const q = req.url!.indexOf('?');
    return api.handle({
      method: req.method ?? 'GET',
      path: q < 0 ? req.url! : req.url!.slice(0, q),
      query: q < 0 ? '' : req.url!.slice(q + 1),
      headers: req.headers,
      body,
    });
  };

  const respond = (req: http.IncomingMessage, res: http.ServerResponse, body: string): void => {
    const reply = answer(req, body);
    const headers = reply.headers;
    if (reply.body !== undefined) {
      headers['Content-Length'] = String(Buffer.byteLength(reply.body));
    } else if (reply.status !== 204 && reply.status !== 304) {
      headers['Content-Length'] = '0';
    }
    res.writeHead(reply.status, headers);
    res.end(req.method === 'HEAD' ? undefined : reply.body);
  };

  const sendGarbage = (req: http.IncomingMessage, res: http.ServerResponse, body: string): void => {
    let type = 'application/json';
    let b: string;
    switch (shape) {
      case 'html':
        b = '<html><body>502 garbage from a misbehaving site</body></html';
        break;
      case 'empty':
        b = '';
        break;
      case 'wrong-shape':
        b = '{}';
        break;
      case 'array':
        b = '[]';
        break;
      default: {
        const real = answer(req, body).body ?? '{}';
        if (shape === 'python-false') b = real.replace(/\btrue\b/g, 'True').replace(/\bfalse\b/g, 'False').replace(/\bnull\b/g, 'None');
        else if (shape === 'python-repr') b = pyRepr(JSON.parse(real));
        else if (shape === 'truncated') b = real.slice(0, Math.max(1, Math.floor(real.length / 2)));
        else if (shape === 'nan') b = real.includes('{}') ? real.replace('{}', '{"x": NaN}') : real.replace(/^\{/, '{"x": NaN, ');
        else {
          b = real;
          type = 'text/plain';
        }
      }
    }
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(b)) });
    res.end(b);
  };

  /** The fault this request meets (a counted fault is used up by it). */
  const faultFor = (req: http.IncomingMessage): SimFault => {
    if (fault === 'none' || fault === 'refuse') return fault;
    if (match.method !== undefined && req.method !== match.method) return 'none';
    if (match.path !== undefined && !(req.url ?? '').startsWith(match.path)) return 'none';
    if (match.skip > 0) {
      match.skip--;
      return 'none';
    }
    const mode = fault;
    faulted++;
    if (--remaining <= 0) {
      fault = 'none';
      remaining = Infinity;
    }
    return mode;
  };

  const dispatch = (req: http.IncomingMessage, res: http.ServerResponse, body: string): void => {
    if (requests.length >= RECEIVED_KEPT) requests.shift();
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', body });
    if (closed) {
      res.destroy();
      return;
    }
    switch (faultFor(req)) {
      case 'hang':
        hung.add(res);
        res.on('close', () => hung.delete(res));
        return;
      case 'apply-then-hang':
        answer(req, body);
        hung.add(res);
        res.on('close', () => hung.delete(res));
        return;
      case 'http500': {
        const b = faultBody(match.status, match.status === 500 ? 'Simulated internal server error.' : `Simulated error ${match.status}.`);
        res.writeHead(match.status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(b)) });
        res.end(b);
        return;
      }
      case 'garbage':
        sendGarbage(req, res, body);
        return;
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'reset-mid-body': {
        const real = answer(req, body).body ?? '{}';
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(real)) });
        res.write(real.slice(0, Math.floor(real.length / 2)), () => req.socket.resetAndDestroy());
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
  const requests: Array<{ method: string; url: string; body: string }> = [];
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
    requests,
    nodeCount: () => api.store.size,
    get fault() {
      return fault;
    },
    get faulted() {
      return faulted;
    },
    setLatency(ms: number) {
      latency = Math.max(0, ms);
    },
    async setFault(mode: SimFault, faultOpts: FaultOptions = {}) {
      if (closed) throw new Error(`sim site ${opts.name} is closed`);
      if (mode === 'refuse' && (faultOpts.count !== undefined || faultOpts.method !== undefined || faultOpts.path !== undefined)) {
        throw new Error('refuse takes no count, method or path: it lasts until the next setFault');
      }
      match = { method: faultOpts.method, path: faultOpts.path, skip: faultOpts.skip ?? 0, status: faultOpts.status ?? 500 };
      const prev = fault;
      fault = mode;
      shape = faultOpts.shape ?? 'html';
      remaining = faultOpts.count ?? Infinity;
      // Requests hung by a hang (counted or not) are let go once the site is told anything else.
      if (mode !== 'hang' && mode !== 'apply-then-hang') releaseHung();
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
