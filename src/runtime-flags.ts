/**
 * Node.js options the serving processes run with. One: a young generation
 * held at 16 MiB per semi-space from the start. Every request allocates
 * some 40 KiB that dies with it; V8 starts the young generation at 1 MiB,
 * grows it only under sustained load and shrinks it again when the proxy
 * idles, so bursty traffic is served with a small one — a scavenge every
 * hundred-odd requests and more objects promoted, hence more full
 * collections. Measured on the static-backend bench (bench/dev-single.ts,
 * GC time per run): 230 → 132 ms of collection for ~22,000 requests, for
 * 8 MB more resident memory.
 *
 * Workers get them from the primary (cluster.setupPrimary); a single process
 * gets them from bin/ironic-proxy.js's interpreter line, or from the command
 * that starts Node (NODE_OPTIONS accepts them too).
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--min-semi-space-size=16'];

/** `execArgv` with each server flag added unless the operator already set that option. */
export function withServerFlags(execArgv: readonly string[]): string[] {
  const named = (flag: string): string => flag.split('=')[0]!;
  const given = new Set(execArgv.map(named));
  return [...execArgv, ...SERVER_NODE_FLAGS.filter((f) => !given.has(named(f)))];
}
