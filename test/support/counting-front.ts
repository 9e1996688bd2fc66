/**
 * A counting front for a real site: an HTTP relay the proxy is pointed at
 * instead of the site, which records every request it passes on. Tests
 * that must show a request "never reached a site" compare its count before
 * and after (a real Ironic's own log is not a reliable count: it logs
 * some requests at INFO, others only at DEBUG).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingFront {
  /** Base URL to configure as the site's endpoint_override. */
  url: string;
  /** `METHOD /path?query` of every request passed on, in order. */
  readonly seen: readonly string[];
  close(): Promise<void>;
}

export async function startCountingFront(target: string): Promise<CountingFront> {
  const seen: string[] = [];
  const agent = new http.Agent({ keepAlive: true });
  const to = new URL(target);
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const headers = { ...req.headers, host: to.host };
    const out = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
