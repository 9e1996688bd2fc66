/**
 * Reservations of identifiers that must be unique over all sites (a node's
 * name and uuid, a port's MAC and name, …). A create or rename takes one
 * before it asks the other sites whether the identifier is free, and gives
 * it back once its site has answered: two writes of the same identifier
 * meanwhile — in this process or, with a store, in any replica — cannot both
 * pass the check. The second gets Ironic's 409 for a duplicate at once.
 * Without a store, the workers of one `--workers N` process share theirs
 * through the primary (cluster-reservations.ts).
 *
 * In the store a reservation is `SET key token NX PX ttl`, renewed while the
 * write is under way and freed by a compare-and-delete: a crashed holder
 * blocks the identifier for at most one ttl. A store that cannot be asked
 * refuses the write (503) when `[coordination] required`, else the write
 * goes on unguarded (logged, counted). A primary that does not answer is
 * treated alike; without a store there is no `required` to set, and the
 * write is refused.
 */
import { randomUUID } from 'node:crypto';
import { conflict, ProxyError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PrimaryReservations } from './cluster-reservations.js';
import type { CoordinationStore } from './store.js';

/** Where a reservation is held besides this process's own set: nowhere else, the store, or the primary of the workers. */
type Where = 'local' | 'store' | 'primary';

export interface ReservationEvents {
  /** A write went on without a reservation in the store (the store could not be asked, and it is not required). */
  unguarded(what: string): void;
  /** A reservation was refused because another write holds it. */
  contended(): void;
}

export class Reservations {
  /** Identifiers reserved by writes of this process (a same-process conflict needs no round trip to the store or the primary). */
  private readonly local = new Set<string>();

  /**
   * `primary`: in a cluster worker without a store, the primary's shared
   * table (ignored when there is a store: the store is the truth across
   * replicas, and so across workers).
   */
  constructor(
    private readonly store: CoordinationStore | undefined,
    private readonly log: Logger,
    private readonly events: ReservationEvents,
    private readonly primary?: PrimaryReservations,
  ) {}

  /** Runs `write` with a guard whose reservations are all given back when it ends, however it ends. */
  async guarded<T>(write: (guard: WriteGuard) => Promise<T>): Promise<T> {
    const guard = new WriteGuard(this);
    try {
      return await write(guard);
    } finally {
      await guard.release();
    }
  }

  /** @internal */
  async take(key: string, taken: string, what: string, token: string): Promise<Where> {
    if (this.local.has(key)) {
      this.events.contended();
      throw conflict(taken);
    }
    this.local.add(key);
    const store = this.store;
    const primary = store ? undefined : this.primary;
    if (!store && !primary) return 'local';
    let ours: boolean;
    try {
      ours = store ? await store.reserve(store.key('rsv', key), token) : await primary!.reserve(key, token);
    } catch (err) {
      if (store?.config.required ?? true) {
        this.local.delete(key);
        // The store's outages are logged as it goes down and up; the primary's silence only here.
        if (!store) this.log.warn({ what, err: (err as Error).message }, 'the primary process did not answer a reservation: write refused');
        throw new ProxyError(
          'COORDINATION_UNAVAILABLE',
          store
            ? `Cannot reserve ${what}: the coordination store of the proxy cannot be reached, and writes that must be unique over all sites are refused until it is back.`
            : `Cannot reserve ${what}: the primary process of the proxy's workers does not answer, and writes that must be unique over all sites are refused until it does.`,
        );
      }
      this.log.warn({ what, err: (err as Error).message }, 'coordination store unreachable: write goes on without a reservation');
      this.events.unguarded(what);
      return 'local';
    }
    if (!ours) {
      this.local.delete(key);
      this.events.contended();
      throw conflict(taken);
    }
    return store ? 'store' : 'primary';
  }

  /** @internal */
  async give(key: string, where: Where, token: string): Promise<void> {
    this.local.delete(key);
    if (where === 'store' && this.store) await this.store.release(this.store.key('rsv', key), token).catch(() => undefined);
    else if (where === 'primary') this.primary?.release(key, token);
  }

  /** @internal Keeps the store's reservations alive while a write is under way; false when one was lost (expired). */
  async renew(keys: readonly string[], token: string): Promise<void> {
    if (!this.store) return;
    for (const key of keys) {
      const kept = await this.store.renew(this.store.key('rsv', key), token).catch(() => true);
      if (!kept) this.log.warn({ reservation: key }, 'reservation expired while its write was under way');
    }
  }

  get renewEveryMs(): number {
    return Math.max(50, Math.floor((this.store?.config.reservationTtlMs ?? 0) / 3));
  }
}

/** The reservations of one write. */
export class WriteGuard {
  private readonly token = randomUUID();
  private readonly held = new Map<string, Where>();
  private readonly pending = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  constructor(private readonly reservations: Reservations) {}

  /**
   * Reserves `key` (e.g. `node:name:n1`) for this write, or throws Ironic's
   * 409 with `taken` when another write holds it (503 when the store cannot
   * be asked and is required). `what` names it in messages.
   */
  take(key: string, taken: string, what: string): Promise<void> {
    if (this.released) return Promise.reject(new Error('reservation after release'));
    if (this.held.has(key)) return Promise.resolve();
    const p = this.reservations.take(key, taken, what, this.token).then((where) => {
      this.held.set(key, where);
      if (where === 'store') this.keepAlive();
    });
    this.pending.add(p);
    void p.catch(() => undefined).finally(() => this.pending.delete(p));
    return p;
  }

  async release(): Promise<void> {
    this.released = true;
    // A take still under way (a sibling check failed first) is waited for, so that nothing it gets is left behind.
    await Promise.allSettled([...this.pending]);
    clearInterval(this.timer);
    await Promise.all([...this.held].map(([key, where]) => this.reservations.give(key, where, this.token)));
    this.held.clear();
  }

  private keepAlive(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      const inStore = [...this.held].filter(([, where]) => where === 'store').map(([k]) => k);
      void this.reservations.renew(inStore, this.token);
    }, this.reservations.renewEveryMs);
    this.timer.unref();
  }
}

/** UUIDs are case-insensitive in Ironic, MACs too (it stores them lower case); names are not. */
export const uuidKey = (uuid: string): string => uuid.replace(/-/g, '').toLowerCase();
export const macKey = (mac: string): string => mac.toLowerCase();
