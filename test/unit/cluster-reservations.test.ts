/**
 * Reservations shared by the workers of one process through their primary
 * (no store): the primary's table, and Reservations over it as two workers
 * would use it — a name reserved by one worker is Ironic's 409 in the
 * other, a worker that is gone frees its names, a primary that does not
 * answer refuses the write (503). The same over real processes:
 * test/unit/workers.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { primaryReservations, ReservationTable, type PrimaryReservations } from '../../src/coordination/cluster-reservations.js';
import { Reservations } from '../../src/coordination/reservations.js';
import { ProxyError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';

const log = createLogger({ level: 'silent' });

const counting = () => {
  const counts = { unguarded: 0, contended: 0 };
  return { counts, events: { unguarded: () => void counts.unguarded++, contended: () => void counts.contended++ } };
};

/** Worker `id`'s view of the primary's table, as the IPC client gives it (answers are asynchronous). */
function viaTable(table: ReservationTable, id: number, calls: string[] = []): PrimaryReservations {
  return {
    reserve: async (key, token) => {
      calls.push(`reserve ${key}`);
      return table.reserve(id, key, token);
    },
    release: (key, token) => {
      calls.push(`release ${key}`);
      table.release(id, key, token);
    },
  };
}

describe("the primary's table", () => {
  test('a key is held by one write; only that write frees it', () => {
    const t = new ReservationTable();
    assert.equal(t.reserve(1, 'node:name:a', 'w1'), true);
    assert.equal(t.reserve(1, 'node:name:a', 'w1'), true, 'the same write asking again holds it still');
    assert.equal(t.reserve(1, 'node:name:a', 'w2'), false, 'another write of the same worker');
    assert.equal(t.reserve(2, 'node:name:a', 'w1'), false, 'another worker');
    t.release(2, 'node:name:a', 'w1');
    t.release(1, 'node:name:a', 'w2');
    assert.equal(t.size, 1, 'a release by anyone else frees nothing');
    t.release(1, 'node:name:a', 'w1');
    assert.equal(t.size, 0);
    assert.equal(t.reserve(2, 'node:name:a', 'w3'), true);
  });

  test("a worker that is gone has all its keys freed, and only its own", () => {
    const t = new ReservationTable();
    t.reserve(1, 'k1', 'a');
    t.reserve(1, 'k2', 'b');
    t.reserve(2, 'k3', 'c');
    assert.equal(t.dropWorker(1), 2);
    assert.equal(t.size, 1);
    assert.equal(t.reserve(3, 'k1', 'd'), true);
    assert.equal(t.reserve(3, 'k3', 'e'), false, "worker 2's key is still held");
  });
});

describe('Reservations of two workers over one primary', () => {
  test("a name reserved by a write in one worker is the 409 in the other until that write ends", async () => {
    const table = new ReservationTable();
    const w1 = new Reservations(undefined, log, counting().events, viaTable(table, 1));
    const second = counting();
    const w2 = new Reservations(undefined, log, second.events, viaTable(table, 2));
    let inside!: () => void;
    const holding = new Promise<void>((r) => (inside = r));
    let finish!: () => void;
    const first = w1.guarded(async (g) => {
      await g.take('node:name:n1', 'A node with name n1 already exists.', 'node name n1');
      inside();
      await new Promise<void>((r) => (finish = r));
    });
    await holding;
    await assert.rejects(
      w2.guarded((g) => g.take('node:name:n1', 'A node with name n1 already exists.', 'node name n1')),
      (err: unknown) => err instanceof ProxyError && err.status === 409 && err.message.includes('A node with name n1 already exists.'),
    );
    assert.equal(second.counts.contended, 1);
    finish();
    await first;
    assert.equal(table.size, 0, 'the write gave its name back to the primary');
    await w2.guarded((g) => g.take('node:name:n1', 'taken', 'node name n1'));
    assert.equal(table.size, 0);
  });

  test('a conflict within one worker needs no round trip to the primary', async () => {
    const calls: string[] = [];
    const w = new Reservations(undefined, log, counting().events, viaTable(new ReservationTable(), 1, calls));
    await w.guarded(async (g) => {
      await g.take('node:name:x', 'taken', 'x');
      await assert.rejects(w.guarded((h) => h.take('node:name:x', 'taken', 'x')), (err: unknown) => err instanceof ProxyError && err.status === 409);
    });
    assert.deepEqual(calls, ['reserve node:name:x', 'release node:name:x']);
  });

  test('a primary that does not answer: the write is refused (503) and nothing is left held', async () => {
    let down = true;
    const table = new ReservationTable();
    const primary: PrimaryReservations = {
      reserve: async (key, token) => {
        if (down) throw new Error('the primary process did not answer within 1000 ms');
        return table.reserve(1, key, token);
      },
      release: (key, token) => table.release(1, key, token),
    };
    const c = counting();
    const w = new Reservations(undefined, log, c.events, primary);
    await assert.rejects(
      w.guarded((g) => g.take('node:name:y', 'taken', 'node name y')),
      (err: unknown) => err instanceof ProxyError && err.status === 503 && /Cannot reserve node name y: the primary process/.test(err.message),
    );
    assert.equal(c.counts.unguarded, 0, 'refused, not let through');
    down = false;
    await w.guarded((g) => g.take('node:name:y', 'taken', 'node name y'));
  });

  test('outside a cluster worker there is no primary to ask', () => {
    assert.equal(primaryReservations(), undefined);
  });
});

describe('over the real IPC channel', () => {
  const fixture = fileURLToPath(new URL('../support/cluster-reservations-fixture.ts', import.meta.url));
  const run = (mode: string): Record<string, unknown> => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', fixture, mode], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  };

  test("the primary answers: held, refused to another write, free after the holder's release", () => {
    const r = run('serving');
    assert.deepEqual(r, { first: true, other: false, afterRelease: true, last: true, heldAfter: 1 });
  });

  test('a primary that does not answer: the reservation fails within its timeout', () => {
    const r = run('silent');
    assert.equal(r.first, 'the primary process did not answer within 200 ms');
    assert.equal(r.other, 'the primary process did not answer within 200 ms');
  });
});
