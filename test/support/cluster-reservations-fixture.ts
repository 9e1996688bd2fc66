/**
 * A primary and one worker over the real cluster IPC channel, for
 * test/unit/cluster-reservations.test.ts. `serving`: the primary answers
 * reservations; `silent`: it answers nothing (a stuck primary). The worker
 * reports what its reservations got; the primary prints it as JSON and exits.
 */
import cluster from 'node:cluster';
import { primaryReservations, serveClusterReservations } from '../../src/coordination/cluster-reservations.js';

if (cluster.isPrimary) {
  const table = process.argv[2] === 'serving' ? serveClusterReservations() : undefined;
  const worker = cluster.fork();
  worker.on('message', (m: { report?: Record<string, unknown> }) => {
    if (!m.report) return;
    process.stdout.write(`${JSON.stringify({ ...m.report, heldAfter: table?.size ?? null })}\n`);
    worker.kill();
    process.exitCode = 0;
  });
} else {
  const primary = primaryReservations(200)!;
  const report: Record<string, unknown> = {};
  const attempt = async (name: string, key: string, token: string): Promise<void> => {
    try {
      report[name] = await primary.reserve(key, token);
    } catch (err) {
      report[name] = (err as Error).message;
    }
  };
  await attempt('first', 'node:name:a', 't1');
  await attempt('other', 'node:name:a', 't2');
  primary.release('node:name:a', 't1');
  await attempt('afterRelease', 'node:name:a', 't2');
  primary.release('node:name:a', 't2');
  // A round trip after that release: the primary has read it (one worker's messages arrive in order), so it holds b only.
  await attempt('last', 'node:name:b', 't3');
  process.send!({ report });
}
