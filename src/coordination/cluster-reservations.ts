/**
 * Reservations shared by the workers of one `--workers N` process when no
 * store is configured: the primary holds them, the workers ask it over the
 * cluster's IPC channel. Without this, two workers could both pass the
 * uniqueness check of one name created at the same instant at two sites.
 *
 * The primary keeps one table of key → (worker, token of the write). A
 * worker that exits, however it exits, has its keys freed: a crashed write
 * blocks nothing. A worker that gets no answer within PRIMARY_TIMEOUT_MS
 * treats the primary like an unreachable store (Reservations decides: 503
 * or unguarded) and sends a release for what it asked, so that a late grant
 * is not left behind (the channel keeps one worker's messages in order).
 *
 * With a store ([coordination]backend_url) the store is the truth across
 * replicas and this path is not used.
 */
import cluster, { type Worker } from 'node:cluster';

const RESERVE = 'ironic-proxy:reserve';
const RESERVED = 'ironic-proxy:reserved';
const RELEASE = 'ironic-proxy:release';

/** The primary does nothing but relay these and aggregate metrics: an answer later than this means it is stuck. */
export const PRIMARY_TIMEOUT_MS = 1000;

interface ReserveMessage {
  type: typeof RESERVE;
  id: number;
  key: string;
  token: string;
}
interface ReservedMessage {
  type: typeof RESERVED;
  id: number;
  ok: boolean;
}
interface ReleaseMessage {
  type: typeof RELEASE;
  key: string;
  token: string;
}

/** The primary's book of reservations: who holds each key. */
export class ReservationTable {
  private readonly held = new Map<string, { worker: number; token: string }>();

  /** True when the key is now (or already) held by this write. */
  reserve(worker: number, key: string, token: string): boolean {
    const holder = this.held.get(key);
    if (holder) return holder.worker === worker && holder.token === token;
    this.held.set(key, { worker, token });
    return true;
  }

  /** Frees the key only if this write holds it: a key freed and taken by another since is not ours to free. */
  release(worker: number, key: string, token: string): void {
    const holder = this.held.get(key);
    if (holder && holder.worker === worker && holder.token === token) this.held.delete(key);
  }

  /** Frees every key of a worker that is gone; returns how many. */
  dropWorker(worker: number): number {
    let n = 0;
    for (const [key, holder] of this.held) {
      if (holder.worker !== worker) continue;
      this.held.delete(key);
      n++;
    }
    return n;
  }

  get size(): number {
    return this.held.size;
  }
}

/** In the primary of a multi-worker proxy: answers the workers' reservations and frees those of workers that exit. */
export function serveClusterReservations(table = new ReservationTable()): ReservationTable {
  cluster.on('message', (worker: Worker, msg: unknown) => {
    const m = msg as Partial<ReserveMessage | ReleaseMessage> | null;
    if (typeof m?.key !== 'string' || typeof m.token !== 'string') return;
    if (m.type === RELEASE) {
      table.release(worker.id, m.key, m.token);
    } else if (m.type === RESERVE && typeof (m as ReserveMessage).id === 'number') {
      // A message read after the worker's exit must not book a key that no exit will free again.
      const ok = !worker.isDead() && table.reserve(worker.id, m.key, m.token);
      const answer: ReservedMessage = { type: RESERVED, id: (m as ReserveMessage).id, ok };
      // With a callback, a worker gone meanwhile is an ignored error, not an 'error' event nobody handles.
      worker.send(answer, () => undefined);
    }
  });
  cluster.on('exit', (worker) => table.dropWorker(worker.id));
  return table;
}

/** A worker's side: its reservations, asked of the primary. */
export interface PrimaryReservations {
  /** True when the key is now this write's; false when another write (in any worker) holds it. Rejects when the primary does not answer. */
  reserve(key: string, token: string): Promise<boolean>;
  release(key: string, token: string): void;
}

let client: PrimaryReservations | undefined;

/** In a cluster worker: its client of the primary's reservations (one per process); otherwise undefined. */
export function primaryReservations(timeoutMs = PRIMARY_TIMEOUT_MS): PrimaryReservations | undefined {
  if (!cluster.isWorker || !process.send) return undefined;
  client ??= primaryClient(timeoutMs);
  return client;
}

function primaryClient(timeoutMs: number): PrimaryReservations {
  const waiting = new Map<number, (ok: boolean) => void>();
  let nextId = 0;
  // One listener for all answers (not one per request: concurrent writes would pile up listeners).
  process.on('message', (msg: unknown) => {
    const m = msg as Partial<ReservedMessage> | null;
    if (m?.type === RESERVED && typeof m.id === 'number') waiting.get(m.id)?.(m.ok === true);
  });
  const send = (m: ReserveMessage | ReleaseMessage, onError: (err: Error) => void = () => undefined): void => {
    try {
      process.send!(m, undefined, undefined, (err: Error | null) => err && onError(err));
    } catch (err) {
      onError(err as Error);
    }
  };
  return {
    reserve: (key, token) =>
      new Promise<boolean>((resolve, reject) => {
        const id = ++nextId;
        const fail = (err: Error): void => {
          if (!waiting.delete(id)) return;
          clearTimeout(timer);
          // Should the primary still grant it, this frees it again (it reads this worker's messages in order).
          send({ type: RELEASE, key, token });
          reject(err);
        };
        // When the timer fires after this worker's own event loop was blocked, the answer may be read but not yet
        // handled: setImmediate runs after the poll phase that delivers it, so only a truly missing answer fails.
        const timer = setTimeout(() => setImmediate(() => fail(new Error(`the primary process did not answer within ${timeoutMs} ms`))), timeoutMs);
        waiting.set(id, (ok) => {
          waiting.delete(id);
          clearTimeout(timer);
          resolve(ok);
        });
        send({ type: RESERVE, id, key, token }, fail);
      }),
    release: (key, token) => send({ type: RELEASE, key, token }),
  };
}
