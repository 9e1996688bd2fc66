/**
 * The smallest Keystone the proxy's user validation needs (for tests that
 * are not about Keystone itself): the service user authenticates with
 * PASSWORD and gets `svc-token`; users' tokens are validated from `tokens`
 * (token → roles, project-scoped to "admin"); anything else is a 404.
 */
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

export const SERVICE_PASSWORD = 'svc-pw-mini';

export class MiniKeystone {
  readonly tokens = new Map<string, string[]>();
  url = '';
  private server: Server | undefined;

  /** The [api] and [keystone_authtoken] lines for a proxy that validates users here. */
  get apiIni(): string {
    return (
      `auth_strategy = keystone\n\n[keystone_authtoken]\nauth_url = ${this.url}\nwww_authenticate_uri = ${this.url}\n` +
      `username = proxy\npassword = ${SERVICE_PASSWORD}\nuser_domain_name = Default\nproject_name = service\nproject_domain_name = Default\ntoken_cache_time = 0`
    );
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      };
      const unauthorized = (): void => json(401, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
      const expires = new Date(Date.now() + 3600_000).toISOString();
      if (req.method === 'POST' && req.url?.startsWith('/v3/auth/tokens')) {
        let raw = '';
        req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
        req.on('end', () => {
          const user = (JSON.parse(raw) as { auth?: { identity?: { password?: { user?: { password?: string } } } } }).auth?.identity?.password?.user;
          if (user?.password !== SERVICE_PASSWORD) return unauthorized();
          json(201, { token: { expires_at: expires, issued_at: new Date().toISOString() } }, { 'x-subject-token': 'svc-token' });
        });
        return;
      }
      if (req.method === 'GET' && req.url?.startsWith('/v3/auth/tokens')) {
        if (req.headers['x-auth-token'] !== 'svc-token') return unauthorized();
        const roles = this.tokens.get(String(req.headers['x-subject-token']));
        if (!roles) return json(404, { error: { code: 404 } });
        json(200, {
          token: {
            expires_at: expires,
            user: { id: 'u', name: 'u', domain: { id: 'default', name: 'Default' } },
            roles: roles.map((name) => ({ name })),
            project: { id: 'padmin', name: 'admin', domain: { id: 'default', name: 'Default' } },
          },
        });
        return;
      }
      res.writeHead(404).end();
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v3`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}
