/**
 * A tiny HTTP Ironic holding nodes, ports and portgroups, for the proxy's
 * node-bound resource tests: Ironic's shapes for what the proxy uses (node
 * lookup by uuid or name, collections with sort_key/sort_dir/limit/marker/
 * fields and the node/address/portgroup filters, create, JSON-patch update,
 * delete, Ironic's 404/409 texts) and faults on demand (`down` drops every
 * connection). Every request is recorded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

type Obj = Record<string, unknown>;

const NOUN: Record<string, string> = { ports: 'Port', portgroups: 'Portgroup' };

export class FakePortSite {
  readonly nodes = new Map<string, Obj>();
  readonly ports = new Map<string, Obj>();
  readonly portgroups = new Map<string, Obj>();
  readonly requests: Array<{ method: string; path: string }> = [];
  down = false;
  private server!: Server;
  url = '';

  constructor(readonly name: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  addNode(name: string): string {
    const uuid = randomUUID();
    this.nodes.set(uuid, { uuid, name, owner: null, lessee: null });
    return uuid;
  }

  addPort(nodeUuid: string, address: string, extra: Obj = {}): Obj {
    const port = { uuid: randomUUID(), address, node_uuid: nodeUuid, portgroup_uuid: null, extra, created_at: new Date().toISOString(), updated_at: null };
    this.ports.set(String(port.uuid), port);
    return port;
  }

  /** Requests whose path starts with `prefix`. */
  asked(prefix: string, method?: string): number {
    return this.requests.filter((r) => r.path.startsWith(prefix) && (!method || r.method === method)).length;
  }

  private node(ident: string): Obj | undefined {
    return this.nodes.get(ident) ?? [...this.nodes.values()].find((n) => n.name === ident);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.down) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname + url.search });
    const send = (status: number, doc?: unknown): void => {
      res.writeHead(status, {
        ...(doc === undefined ? {} : { 'content-type': 'application/json' }),
        'x-openstack-ironic-api-minimum-version': '1.1',
        'x-openstack-ironic-api-maximum-version': '1.82',
      });
      res.end(doc === undefined ? undefined : JSON.stringify(doc));
    };
    const fault = (status: number, text: string): void =>
      send(status, { error_message: JSON.stringify({ faultcode: 'Client', faultstring: text, debuginfo: null }) });
    const fieldsOf = (o: Obj): Obj => {
      const f = url.searchParams.get('fields');
      if (!f) return o;
      const keep = new Set([...f.split(','), 'links']);
      return Object.fromEntries(Object.entries(o).filter(([k]) => keep.has(k)));
    };

    if (url.pathname === '/') {
      const v = { id: 'v1', links: [{ href: `${this.url}/v1/`, rel: 'self' }], status: 'CURRENT', min_version: '1.1', version: '1.82' };
      return send(200, { name: 'OpenStack Ironic API', default_version: v, versions: [v] });
    }
    if (url.pathname === '/v1/nodes' && method === 'GET') {
      // Enough of Ironic's node listing for a project's view: the `project` filter (owner or lessee), by uuid.
      const project = url.searchParams.get('project');
      const marker = url.searchParams.get('marker');
      const limit = Number(url.searchParams.get('limit') ?? '1000');
      const all = [...this.nodes.values()]
        .filter((n) => project === null || n.owner === project || n.lessee === project)
        .sort((a, b) => (String(a.uuid) < String(b.uuid) ? -1 : 1))
        .filter((n) => marker === null || String(n.uuid) > marker);
      const page = all.slice(0, limit).map(fieldsOf);
      return send(200, { nodes: page, ...(all.length > limit ? { next: `${this.url}/v1/nodes?limit=${limit}` } : {}) });
    }
    const nm = /^\/v1\/nodes\/([^/]+)$/.exec(url.pathname);
    if (nm && method === 'GET') {
      const n = this.node(decodeURIComponent(nm[1]!));
      return n ? send(200, fieldsOf(n)) : fault(404, `Node ${decodeURIComponent(nm[1]!)} could not be found.`);
    }
    const m = /^\/v1\/(ports|portgroups)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) return fault(404, 'The resource could not be found.');
    const family = m[1]!;
    const store = family === 'ports' ? this.ports : this.portgroups;
    const present = (o: Obj): Obj => ({
      ...o,
      links: [
        { href: `${this.url}/v1/${family}/${String(o.uuid)}`, rel: 'self' },
        { href: `${this.url}/${family}/${String(o.uuid)}`, rel: 'bookmark' },
      ],
    });
    const find = (ident: string): Obj | undefined => store.get(ident) ?? (family === 'portgroups' ? [...store.values()].find((o) => o.name === ident) : undefined);
    const ident = m[2] === 'detail' ? undefined : m[2] && decodeURIComponent(m[2]);

    if (!ident && method === 'GET') {
      let all = [...store.values()];
      const q = url.searchParams;
      const nodeIdent = q.get('node') ?? q.get('node_uuid');
      if (nodeIdent) {
        const n = this.node(nodeIdent);
        if (!n) return fault(404, `Node ${nodeIdent} could not be found.`);
        all = all.filter((p) => p.node_uuid === n.uuid);
      }
      const pg = q.get('portgroup');
      if (pg) {
        const g = [...this.portgroups.values()].find((o) => o.uuid === pg || o.name === pg);
        if (!g) return fault(404, `Portgroup ${pg} could not be found.`);
        all = all.filter((p) => p.portgroup_uuid === g.uuid);
      }
      const address = q.get('address');
      if (address) all = all.filter((p) => p.address === address.toLowerCase());
      const key = q.get('sort_key') ?? 'uuid';
      const dir = q.get('sort_dir') === 'desc' ? -1 : 1;
      const cmp = (a: unknown, b: unknown): number => (a === b ? 0 : a === null || a === undefined ? -1 : b === null || b === undefined ? 1 : String(a) < String(b) ? -1 : 1);
      all.sort((a, b) => (cmp(a[key], b[key]) || cmp(a.uuid, b.uuid)) * dir);
      const marker = q.get('marker');
      let start = 0;
      if (marker) {
        const i = all.findIndex((o) => o.uuid === marker);
        if (i < 0 && !store.has(marker)) return fault(404, `${NOUN[family]} ${marker} could not be found.`);
        start = i + 1;
      }
      const limit = Number(q.get('limit') ?? '1000');
      const page = all.slice(start, start + limit);
      // Without fields or detail, Ironic's list view (_DEFAULT_RETURN_FIELDS).
      const listView = !q.get('fields') && m[2] !== 'detail' && q.get('detail') !== 'True';
      const view = (o: Obj): Obj => {
        if (!listView) return fieldsOf(o);
        const keep = new Set(family === 'ports' ? ['uuid', 'address', 'links'] : ['uuid', 'address', 'name', 'links']);
        return Object.fromEntries(Object.entries(o).filter(([k]) => keep.has(k)));
      };
      const doc: Obj = { [family]: page.map((o) => view(present(o))) };
      if (page.length === limit) doc.next = `${this.url}/v1/${family}?limit=${limit}&marker=${String(page[page.length - 1]!.uuid)}`;
      return send(200, doc);
    }
    if (!ident && method === 'POST') {
      const fields = JSON.parse(body) as Obj;
      const n = this.node(String(fields.node_uuid));
      if (!n) return fault(400, `Node ${String(fields.node_uuid)} could not be found.`);
      const address = typeof fields.address === 'string' ? fields.address.toLowerCase() : null;
      if (family === 'ports' && [...store.values()].some((p) => p.address === address)) return fault(409, `A port with MAC address ${address} already exists.`);
      if (family === 'portgroups' && fields.name && [...store.values()].some((p) => p.name === fields.name)) {
        return fault(409, `A portgroup with name ${String(fields.name)} already exists.`);
      }
      const obj: Obj = { extra: {}, ...fields, address, uuid: randomUUID(), created_at: new Date().toISOString(), updated_at: null };
      store.set(String(obj.uuid), obj);
      return send(201, present(obj));
    }
    if (!ident) return fault(405, 'The method is not allowed.');
    const obj = find(ident);
    if (!obj) return fault(404, `${NOUN[family]} ${ident} could not be found.`);
    if (method === 'GET') return send(200, fieldsOf(present(obj)));
    if (method === 'DELETE') {
      store.delete(String(obj.uuid));
      return send(204);
    }
    if (method === 'PATCH') {
      for (const op of JSON.parse(body) as Array<{ op: string; path: string; value: unknown }>) {
        const [field, sub] = op.path.slice(1).split('/');
        if (sub) (obj[field!] as Obj)[sub] = op.value;
        else if (op.op === 'remove') obj[field!] = null;
        else {
          if (field === 'node_uuid' && !this.node(String(op.value))) return fault(400, `Node ${String(op.value)} could not be found.`);
          obj[field!] = op.value;
        }
      }
      return send(200, present(obj));
    }
    return fault(405, 'The method is not allowed.');
  }
}
