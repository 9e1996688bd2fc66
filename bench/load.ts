/**
 * Benchmark load generator: autocannon in its own process (never sharing an
 * event loop with the server it measures).
 *
 *   node --import tsx bench/load.ts '{"url":"http://127.0.0.1:6385","paths":["/v1/nodes/<uuid>"],
 *       "connections":16,"warmupSeconds":1,"seconds":5,"headers":{"X-OpenStack-Ironic-API-Version":"latest"}}'
 *
 * Runs a warm-up (discarded), then the measured run, and prints one JSON line:
 * requests per second and latency percentiles in milliseconds, from every
 * response's own time (autocannon's histogram keeps whole milliseconds only,
 * too coarse for sub-millisecond differences).
 */
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  paths: string[];
  connections: number;
  warmupSeconds: number;
  seconds: number;
  headers: Record<string, string>;
  /** Requests per second over all connections (open-loop pacing); absent: as fast as answers come. */
  rate?: number;
  /** Default GET; a body is sent with every request (a PATCH's JSON patch). */
  method?: string;
  body?: string;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  non2xx: number;
  errors: number;
  /** Requests answered during the warm-up (not in the figures above; for CPU per request over the whole run). */
  warmupRequests: number;
}

async function run(spec: LoadSpec, seconds: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let non2xx = 0;
  const t0 = performance.now();
  const inst = autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: seconds,
    timeout: 10,
    headers: spec.headers,
    requests: spec.paths.map((path) => ({ method: spec.method ?? 'GET', path, ...(spec.body !== undefined ? { body: spec.body } : {}) })),
    ...(spec.rate ? { overallRate: spec.rate } : {}),
  });
  inst.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status < 200 || status > 299) non2xx++;
    latencies.push(ms);
  });
  const result = await inst;
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
  return {
    requests: latencies.length,
    seconds: elapsed,
    rps: latencies.length / elapsed,
    p50: pct(0.5),
    p90: pct(0.9),
    p99: pct(0.99),
    mean,
    non2xx,
    errors: result.errors + result.timeouts,
    warmupRequests: 0,
  };
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const warm = spec.warmupSeconds > 0 ? await run(spec, spec.warmupSeconds) : undefined;
const res = { ...(await run(spec, spec.seconds)), warmupRequests: warm?.requests ?? 0 };
process.stdout.write(`${JSON.stringify(res)}\n`);
process.exit(0);
