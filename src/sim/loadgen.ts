/**
 * A small closed-loop HTTP load generator (undici Pool, keep-alive), used to
 * measure the simulator's throughput without extra dependencies:
 *
 *   npx tsx src/sim/loadgen.ts --url http://127.0.0.1:16385 --path /v1/nodes/<uuid> \
 *       --connections 32 --seconds 10 [--header 'X-OpenStack-Ironic-API-Version: latest']
 *
 * `--path` may be given several times (round-robin). Prints requests/s,
 * status counts and latency percentiles as JSON.
 */

import { parseArgs } from 'node:util';
import { Pool } from 'undici';

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  statuses: Record<string, number>;
  p50ms: number;
  p99ms: number;
  maxms: number;
}

export async function runLoad(opts: {
  url: string;
  paths: string[];
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
}): Promise<LoadResult> {
  const pool = new Pool(opts.url, { connections: opts.connections, pipelining: 1 });
  const statuses: Record<string, number> = {};
  const lat: number[] = [];
  const end = performance.now() + opts.seconds * 1000;
  let i = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const path = opts.paths[i++ % opts.paths.length]!;
      const t0 = performance.now();
      const r = await pool.request({ method: 'GET', path, headers: opts.headers });
      await r.body.text();
      lat.push(performance.now() - t0);
      statuses[r.statusCode] = (statuses[r.statusCode] ?? 0) + 1;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: opts.connections }, worker));
  const seconds = (performance.now() - t0) / 1000;
  await pool.close();
  lat.sort((a, b) => a - b);
  const pct = (p: number): number => Number((lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? 0).toFixed(2));
  return {
    requests: lat.length,
    seconds: Number(seconds.toFixed(2)),
    rps: Math.round(lat.length / seconds),
    statuses,
    p50ms: pct(0.5),
    p99ms: pct(0.99),
    maxms: pct(1),
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      path: { type: 'string', multiple: true },
      connections: { type: 'string', default: '32' },
      seconds: { type: 'string', default: '10' },
      header: { type: 'string', multiple: true },
    },
  });
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const i = h.indexOf(':');
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  const res = await runLoad({
    url: values.url!,
    paths: values.path ?? ['/v1/'],
    connections: Number(values.connections),
    seconds: Number(values.seconds),
    headers,
  });
  process.stdout.write(JSON.stringify(res) + '\n');
}
