/**
 * A fake Ironic site over a raw TCP socket, so that it can misbehave in
 * ways an HTTP server library would not let it: statuses outside 100–599,
 * an unsolicited 100 Continue, bodies dripped a byte at a time, answers that
 * never end. Well-behaved by default: a version document, nodes shown by
 * uuid or name (`?fields=` ignored) and listed by uuid with Ironic's
 * `limit`/`marker`/`next`; a test's handler answers first and may take the
 * socket over.
 */
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface RawRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: Buffer;
}

export interface SiteNode {
  uuid: string;
  name: string;
  [k: string]: unknown;
}

/** Answers a request itself (true) or leaves it to the well-behaved default (false). */
export type RawHandler = (req: RawRequest, socket: net.Socket, site: HostileSite) => boolean;

export class HostileSite {
  readonly requests: RawRequest[] = [];
  handler: RawHandler = () => false;
  nodes: SiteNode[] = [];
  url = '';
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(readonly name: string) {}

  async start(): Promise<void> {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {});
      let buf = Buffer.alloc(0);
      /** Chunks not yet joined into buf (a large body arrives in many; joining each would be quadratic). */
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let need = 0;
      const pump = (): void => {
        if (pendingBytes < need) return;
        buf = Buffer.concat([buf, ...pending]);
        pending = [];
        pendingBytes = 0;
        need = 0;
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.subarray(0, end).toString('latin1').split('\r\n');
          const [method, target] = head[0]!.split(' ');
          const headers: Record<string, string> = {};
          for (const line of head.slice(1)) {
            const c = line.indexOf(':');
            headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
          }
          const length = Number(headers['content-length'] ?? 0);
          if (buf.length < end + 4 + length) {
            need = end + 4 + length - buf.length;
            return;
          }
          const body = buf.subarray(end + 4, end + 4 + length);
          buf = buf.subarray(end + 4 + length);
          const u = new URL(target ?? '/', 'http://site');
          const req: RawRequest = { method: method ?? 'GET', path: u.pathname, query: u.searchParams, headers, body };
          if (!(req.method === 'GET' && req.path === '/')) this.requests.push(req);
          if (!this.handler(req, socket, this)) this.answer(req, socket);
        }
      };
      socket.on('data', (chunk: Buffer) => {
        pending.push(chunk);
        pendingBytes += chunk.length;
        pump();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests other than version discovery, to paths starting with `prefix`. */
  requestsTo(method: string, prefix: string): RawRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(prefix));
  }

  /** The well-behaved answer. */
  answer(req: RawRequest, socket: net.Socket): void {
    if (req.method === 'GET' && req.path === '/') return send(socket, 200, versionDocument(this.url));
    const m = /^\/v1\/nodes(?:\/(detail|[^/]+))?$/.exec(req.path);
    if (req.method === 'GET' && m) {
      if (m[1] && m[1] !== 'detail') {
        const node = this.nodes.find((n) => n.uuid === m[1] || n.name === m[1]);
        return node ? send(socket, 200, this.nodeDoc(node)) : send(socket, 404, fault(`Node ${m[1]} could not be found.`));
      }
      const limit = Number(req.query.get('limit') ?? 1000);
      const marker = req.query.get('marker');
      const sorted = [...this.nodes].sort((a, b) => (a.uuid < b.uuid ? -1 : 1));
      const start = marker ? sorted.findIndex((n) => n.uuid === marker) + 1 : 0;
      if (marker && start === 0) return send(socket, 400, fault(`Marker ${marker} could not be found.`));
      const page = sorted.slice(start, start + limit);
      const doc: Record<string, unknown> = { nodes: page.map((n) => this.nodeDoc(n)) };
      if (page.length === limit) doc.next = `${this.url}/v1/nodes?limit=${limit}&marker=${page[page.length - 1]!.uuid}`;
      return send(socket, 200, doc);
    }
    send(socket, 404, fault('The resource could not be found.'));
  }

  nodeDoc(n: SiteNode): Record<string, unknown> {
    return {
      conductor_group: '',
      provision_state: 'active',
      ...n,
      links: [
        { href: `${this.url}/v1/nodes/${n.uuid}`, rel: 'self' },
        { href: `${this.url}/nodes/${n.uuid}`, rel: 'bookmark' },
      ],
    };
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** A complete answer with Ironic's version headers. */
export function send(socket: net.Socket, status: number, doc: unknown, headers: Record<string, string> = {}): void {
  socket.write(head(status, { 'content-type': 'application/json', ...headers }, Buffer.byteLength(JSON.stringify(doc))) + JSON.stringify(doc));
}

export function head(status: number, headers: Record<string, string>, length?: number): string {
  const all: Record<string, string> = {
    'x-openstack-ironic-api-minimum-version': '1.1',
    'x-openstack-ironic-api-maximum-version': '1.82',
    ...headers,
  };
  if (length !== undefined) all['content-length'] = String(length);
  return `HTTP/1.1 ${status} X\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

export function fault(text: string): unknown {
  return { error_message: JSON.stringify({ faultcode: 'Client', faultstring: text, debuginfo: null }) };
}

function versionDocument(base: string): unknown {
  const v = { id: 'v1', links: [{ href: `${base}/v1/`, rel: 'self' }], status: 'CURRENT', min_version: '1.1', version: '1.82' };
  return { name: 'OpenStack Ironic API', description: 'hostile', default_version: v, versions: [v] };
}

/** A uuid whose order is fixed by `n` and a leading digit (`0…` sorts before `f…`). */
export function uuidOf(lead: string, n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return `${lead.repeat(8)}-0000-4000-8000-${hex}`;
}
