/**
 * A fake Keystone for the proxy's user validation (the real one runs in the
 * integration suite): the service user authenticates with PASSWORD and gets
 * `svc-token`; users' tokens, validated with it, are looked up in `tokens`.
 * It can fail as Keystone does (`mode`), run with its clock off (`skewMs`),
 * and serve over TLS. PERSONAS are the callers the tests speak as, one per
 * kind of caller Ironic's policy tells apart.
 *
 *   const ks = new FakeKeystone();
 *   await ks.start();
 *   ks.addPersonas();                  // admin, sysadmin, sysreader, p1member, p1reader, nobody, …
 *   … a proxy configured with ks.apiIni, requests with X-Auth-Token: p1reader …
 *   await ks.close();
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

export const PASSWORD = 'svc-pw-5e1d0c';

export interface Ref {
  id: string;
  name: string;
}

export interface FakeUser {
  project?: Ref & { domain?: Ref };
  domain?: Ref;
  userDomain?: Ref;
  system?: boolean;
  roles: string[];
  /** expires_at, as written (no skew added); default an hour from the validation on Keystone's clock. */
  expiresAt?: number;
  isAdminProject?: boolean;
}

/**
 * The callers the tests speak as; each token is the persona's name. Project
 * p1 is the tests' own project (they give it nodes to own or lease).
 */
export const PERSONAS = {
  /** An admin of the "admin" project (the legacy admin). */
  admin: { project: { id: 'padmin', name: 'admin' }, roles: ['admin', 'member', 'reader'] },
  /** A system-scoped admin: Ironic's SYSTEM_ADMIN. */
  sysadmin: { system: true, roles: ['admin', 'member', 'reader'] },
  /** A system-scoped reader: may read everything, change nothing. */
  sysreader: { system: true, roles: ['reader'] },
  /** A member of project p1: acts on the nodes p1 owns or leases. */
  p1member: { project: { id: 'p1', name: 'p1' }, roles: ['member', 'reader'] },
  /** A reader of project p1: reads p1's nodes, changes nothing. */
  p1reader: { project: { id: 'p1', name: 'p1' }, roles: ['reader'] },
  /** A valid token in p1 with no role Ironic knows: nothing at all. */
  nobody: { project: { id: 'p1', name: 'p1' }, roles: ['something-else'] },
  /** Ironic's legacy observer (rule:is_observer: project "baremetal" of the default domain): reads, writes nothing. */
  bmobserver: { project: { id: 'pbm', name: 'baremetal', domain: { id: 'default', name: 'Default' } }, roles: ['baremetal_observer'] },
  /** A legacy baremetal_admin, but of a project "baremetal" in another domain: rule:is_member is false, so nothing at all. */
  bmadminelsewhere: { project: { id: 'pbm2', name: 'baremetal', domain: { id: 'd-other', name: 'Other' } }, roles: ['baremetal_admin'] },
} as const satisfies Record<string, FakeUser>;

export type Persona = keyof typeof PERSONAS;

export type Mode = 'ok' | 'reset' | 'http500' | 'revoke-service';

export class FakeKeystone {
  readonly tokens = new Map<string, FakeUser>();
  validations = 0;
  /** POST /v3/auth/tokens answered 201. */
  authentications = 0;
  mode: Mode = 'ok';
  /** Keystone's clock minus the proxy's: its Date header, issued_at and expires_at say so. */
  skewMs = 0;
  /** Without it, only the Date header tells Keystone's time. */
  sendIssuedAt = true;
  server!: Server;
  url = '';

  constructor(private readonly tls?: { key: Buffer; cert: Buffer; ca?: Buffer }) {}

  private stamp(ms: number): string {
    return new Date(ms + this.skewMs).toISOString().replace('Z', '000Z');
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    if (this.mode === 'reset') {
      res.destroy();
      return;
    }
    res.setHeader('date', new Date(Date.now() + this.skewMs).toUTCString());
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    if (this.mode === 'http500') {
      json(500, { error: { code: 500, title: 'Internal Server Error', message: `boom at ${this.url}` } });
      return;
    }
    if (req.method === 'POST' && req.url?.startsWith('/v3/auth/tokens')) {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => {
        const user = (JSON.parse(raw) as any).auth?.identity?.password?.user;
        if (this.mode === 'revoke-service' || user?.password !== PASSWORD) {
          json(401, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
          return;
        }
        this.authentications++;
        const now = Date.now();
        const token: Record<string, unknown> = { expires_at: this.stamp(now + 3600_000) };
        if (this.sendIssuedAt) token.issued_at = this.stamp(now);
        json(201, { token }, { 'x-subject-token': 'svc-token' });
      });
      return;
    }
    if (req.method === 'GET' && req.url?.startsWith('/v3/auth/tokens')) {
      this.validations++;
      if (req.headers['x-auth-token'] !== 'svc-token' || this.mode === 'revoke-service') {
        json(401, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
        return;
      }
      const user = this.tokens.get(String(req.headers['x-subject-token']));
      if (!user) {
        json(404, { error: { code: 404 } });
        return;
      }
      const token: Record<string, unknown> = {
        expires_at: user.expiresAt === undefined ? this.stamp(Date.now() + 3600_000) : new Date(user.expiresAt).toISOString(),
        user: { id: 'u', name: 'u', domain: user.userDomain ?? { id: 'default', name: 'Default' } },
        roles: user.roles.map((name) => ({ name })),
      };
      if (user.system) token.system = { all: true };
      if (user.project) token.project = user.project;
      if (user.domain) token.domain = user.domain;
      if (user.isAdminProject !== undefined) token.is_admin_project = user.isAdminProject;
      json(200, { token });
      return;
    }
    res.writeHead(404).end();
  }

  /** The [api] lines and [keystone_authtoken] section of a proxy that validates its users here (no token cache: revocations count at once). */
  get apiIni(): string {
    return (
      `auth_strategy = keystone\n\n[keystone_authtoken]\nauth_url = ${this.url}\nwww_authenticate_uri = ${this.url}\n` +
      `username = proxy\npassword = ${PASSWORD}\nuser_domain_name = Default\nproject_name = service\nproject_domain_name = Default\ntoken_cache_time = 0`
    );
  }

  /** Makes the tokens of PERSONAS valid (each token is its persona's name). */
  addPersonas(): void {
    for (const [token, user] of Object.entries(PERSONAS)) this.tokens.set(token, { ...user, roles: [...user.roles] });
  }

  async start(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.answer(req, res);
    this.server = this.tls
      ? createHttpsServer({ key: this.tls.key, cert: this.tls.cert, ca: this.tls.ca, requestCert: !!this.tls.ca, rejectUnauthorized: !!this.tls.ca }, handler)
      : createServer(handler);
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `${this.tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}/v3`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

