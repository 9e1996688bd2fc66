/**
 * A tiny HTTP Ironic for the global objects (chassis, deploy templates):
 * an in-memory store, Ironic's shapes for what the proxy uses (collections
 * with limit/marker/next, create with Location, JSON-patch updates, 404 and
 * 409 faults, chassis nodes), and faults on demand: `down` drops every
 * connection, `failures` answer chosen requests with an error.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

type Obj = Record<string, unknown>;

export interface FaultRule {
  method: string;
  /** Path prefix, e.g. `/v1/chassis`. */
  path?: string;
  status: number;
  /** Matching requests answered normally before the fault starts. */
  skip?: number;
  /** Apply the request, then never answer (the caller times out not knowing it was applied); `status` is unused. */
  hangAfterApply?: boolean;
}

const COLLECTIONS: Record<string, string> = { chassis: 'chassis', deploy_templates: 'deploy_templates' };

export class FakeGlobalSite {
  readonly store = new Map<string, Map<string, Obj>>([
    ['chassis', new Map()],
    ['deploy_templates', new Map()],
  ]);
  /** chassis uuid → node uuids at this site. */
  readonly chassisNodes = new Map<string, string[]>();
  readonly requests: Array<{ method: string; path: string }> = [];
  down = false;
  failures: FaultRule[] = [];
  private server!: Server;
  url = '';

  constructor(
    readonly name: string,
    readonly maxVersion = '1.82',
  ) {}

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

  /** Puts an object straight into the store (as if created while the proxy was not looking). */
  put(family: 'chassis' | 'deploy_templates', obj: Obj): Obj {
    const full = { uuid: randomUUID(), extra: {}, ...(family === 'chassis' ? { description: null } : { steps: [] }), ...obj, created_at: new Date().toISOString(), updated_at: null };
    this.store.get(family)!.set(String(full.uuid), full);
    return full;
  }

  get(family: 'chassis' | 'deploy_templates', uuid: string): Obj | undefined {
    return this.store.get(family)!.get(uuid);
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
    let hang = false;
    const send = (status: number, doc?: unknown, headers: Record<string, string> = {}): void => {
      if (hang) return;
      res.writeHead(status, {
        ...(doc === undefined ? {} : { 'content-type': 'application/json' }),
        'x-openstack-ironic-api-minimum-version': '1.1',
        'x-openstack-ironic-api-maximum-version': this.maxVersion,
        ...headers,
      });
      res.end(doc === undefined ? undefined : JSON.stringify(doc));
    };
    const fault = (status: number, text: string): void =>
      send(status, { error_message: JSON.stringify({ faultcode: status >= 500 ? 'Server' : 'Client', faultstring: text, debuginfo: null }) });

    for (const rule of this.failures) {
      if (rule.method === method && (!rule.path || url.pathname.startsWith(rule.path))) {
        if ((rule.skip ?? 0) > 0) {
          rule.skip!--;
          continue;
        }
        if (rule.hangAfterApply) {
          hang = true;
          break;
        }
        return fault(rule.status, `injected ${rule.status}`);
      }
    }
    if (url.pathname === '/') {
      const self = `${this.url}/v1`;
      const v = { id: 'v1', links: [{ href: `${self}/`, rel: 'self' }], status: 'CURRENT', min_version: '1.1', version: this.maxVersion };
      return send(200, { name: 'OpenStack Ironic API', default_version: v, versions: [v] });
    }
    const m = /^\/v1\/(chassis|deploy_templates)(?:\/([^/]+))?(?:\/(nodes))?$/.exec(url.pathname);
    if (!m) return fault(404, 'The resource could not be found.');
    const family = COLLECTIONS[m[1]!]!;
    const objects = this.store.get(family)!;
    const noun = family === 'chassis' ? 'Chassis' : 'Deploy template';
    const link = (uuid: string) => [
      { href: `${this.url}/v1/${family}/${uuid}`, rel: 'self' },
      { href: `${this.url}/${family}/${uuid}`, rel: 'bookmark' },
    ];
    const present = (o: Obj): Obj => ({ ...o, links: link(String(o.uuid)) });
    const find = (ident: string): Obj | undefined =>
      objects.get(ident) ?? (family === 'deploy_templates' ? [...objects.values()].find((o) => o.name === ident) : undefined);
    let ident: string | undefined = m[2];
    if (ident === 'detail' && family === 'chassis') ident = undefined;

    if (!ident) {
      if (method === 'GET') {
        const limit = Number(url.searchParams.get('limit') ?? '1000');
        const all = [...objects.values()];
        const marker = url.searchParams.get('marker');
        const start = marker ? all.findIndex((o) => o.uuid === marker) + 1 : 0;
        const page = all.slice(start, start + limit);
        const doc: Obj = { [family]: page.map(present) };
        if (page.length === limit) doc.next = `${this.url}/v1/${family}?limit=${limit}&marker=${String(page[page.length - 1]!.uuid)}`;
        return send(200, doc);
      }
      if (method === 'POST') {
        const fields = JSON.parse(body) as Obj;
        const uuid = typeof fields.uuid === 'string' ? fields.uuid : randomUUID();
        if (objects.has(uuid)) return fault(409, `${noun} with UUID ${uuid} already exists.`);
        if (family === 'deploy_templates' && [...objects.values()].some((o) => o.name === fields.name)) {
          return fault(409, `A deploy template with name ${String(fields.name)} already exists.`);
        }
        const obj = this.put(family as 'chassis', { ...fields, uuid });
        return send(201, present(obj), { location: `${this.url}/v1/${family}/${uuid}` });
      }
      return fault(405, 'The method is not allowed.');
    }
    const obj = find(ident);
    if (m[3] === 'nodes') {
      if (!obj) return fault(404, `Chassis ${ident} could not be found.`);
      const nodes = (this.chassisNodes.get(String(obj.uuid)) ?? []).sort();
      const limit = Number(url.searchParams.get('limit') ?? '1000');
      const marker = url.searchParams.get('marker');
      const after = marker ? nodes.filter((n) => n > marker) : nodes;
      const page = after.slice(0, limit);
      const doc: Obj = { nodes: page.map((uuid) => ({ uuid, name: `${this.name}-${uuid.slice(0, 4)}`, links: [{ href: `${this.url}/v1/nodes/${uuid}`, rel: 'self' }] })) };
      if (page.length === limit) doc.next = `${this.url}/v1/nodes?limit=${limit}&marker=${page[page.length - 1]}`;
      return send(200, doc);
    }
    if (!obj) return fault(404, `${noun} ${ident} could not be found.`);
    if (method === 'GET') return send(200, present(obj));
    if (method === 'DELETE') {
      if (family === 'chassis' && (this.chassisNodes.get(String(obj.uuid)) ?? []).length > 0) {
        return fault(400, `Cannot complete the requested action because chassis ${String(obj.uuid)} contains nodes.`);
      }
      objects.delete(String(obj.uuid));
      return send(204);
    }
    if (method === 'PATCH') {
      const next = structuredClone(obj);
      for (const op of JSON.parse(body) as Array<{ op: string; path: string; value?: unknown }>) {
        const parts = op.path.split('/').slice(1);
        let target: Obj = next;
        for (const p of parts.slice(0, -1)) target = target[p] as Obj;
        const last = parts[parts.length - 1]!;
        if (op.op === 'remove') {
          if (parts.length === 1) target[last] = last === 'extra' ? {} : null;
          else delete target[last];
        } else target[last] = op.value;
      }
      next.updated_at = new Date().toISOString();
      objects.set(String(obj.uuid), next);
      return send(200, present(next));
    }
    return fault(405, 'The method is not allowed.');
  }
}
