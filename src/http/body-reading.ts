/**
 * Reading client bodies within the process memory budget (src/memory-budget.ts)
 * and the route's limit, so that a refused body is still read to its end
 * (and dropped) before the refusal is sent: the client reads the 413 or 503
 * instead of a reset connection.
 */
import { Transform } from 'node:stream';
import { ProxyBusyError, tooLargeForBudget } from '../memory-budget.js';
import type { RequestScope } from './request-scope.js';
import { bodyTooLarge } from '../errors.js';

/** A body is read as chunks, then copied into one buffer: while read it costs twice its size. */
export const BODY_COST = 2;

/**
 * A body that will be refused (over its route's limit, or more than the
 * whole budget) is still read to its end, and only then refused: a client
 * such as python-requests writes its whole body before it reads the answer,
 * and a server that answers early and closes leaves unread bytes in its
 * socket, which makes the kernel reset the connection and the client lose
 * the 413 (it sees a broken pipe). The bytes are dropped as they arrive —
 * nothing is held — and the client's request deadline bounds the time.
 */
export function refuseAfterDrain(payload: NodeJS.ReadableStream, err: Error, done: (err: Error) => void): void {
  let called = false;
  const once = (e: Error): void => {
    if (called) return;
    called = true;
    done(e);
  };
  payload.on('end', () => once(err));
  payload.on('error', (e: Error) => once(e));
  payload.resume();
}

/** A request body over its route's limit: Fastify's own 413, which names it. */
export function overRouteLimit(): Error {
  return bodyTooLarge();
}

/**
 * A body without a length (chunked), charged to the budget chunk by chunk as
 * it arrives; past the route's limit or the whole budget, the rest is
 * drained (as in refuseAfterDrain) and the body refused at its end.
 */
export function chargedAsRead<T extends NodeJS.ReadableStream>(payload: T, scope: RequestScope, routeLimit: number, budgetLimit: number): T {
  let seen = 0;
  let refused: Error | undefined;
  const counted = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (refused) return cb();
      seen += chunk.length;
      if (seen > routeLimit) refused = overRouteLimit();
      else if (seen * BODY_COST > budgetLimit) refused = tooLargeForBudget();
      else if (!scope.charge(chunk.length * BODY_COST)) return cb(new ProxyBusyError('a request body'));
      cb(null, refused ? undefined : chunk);
    },
    flush(cb) {
      cb(refused);
    },
  });
  payload.on('error', (err) => counted.destroy(err));
  return payload.pipe(counted) as unknown as T;
}

/**
 * Reads a whole body now (a body whose reading was deferred until its
 * request was authorised: provision). A body with a declared length takes
 * its whole share of the budget first, or none (so that concurrent large
 * bodies do not each hold a part and all fail); one without (chunked) is
 * charged as it arrives. A body over `routeLimit` or the budget is drained
 * to its end, then refused (413; 503 when the budget is full for now).
 */
export function readWithinBudget(
  payload: NodeJS.ReadableStream,
  scope: RequestScope,
  routeLimit: number,
  budgetLimit: number,
  declaredLength?: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let seen = 0;
    let refused: Error | undefined;
    const reserved = declaredLength !== undefined && declaredLength >= 0;
    if (reserved) {
      if (declaredLength > routeLimit) refused = overRouteLimit();
      else if (declaredLength * BODY_COST > budgetLimit) refused = tooLargeForBudget();
      else if (!scope.charge(declaredLength * BODY_COST)) refused = new ProxyBusyError('a request body');
    }
    payload.on('data', (chunk: Buffer) => {
      if (refused) return;
      seen += chunk.length;
      if (seen > routeLimit) refused = overRouteLimit();
      else if (seen * BODY_COST > budgetLimit) refused = tooLargeForBudget();
      else if (!reserved && !scope.charge(chunk.length * BODY_COST)) refused = new ProxyBusyError('a request body');
      if (refused) chunks.length = 0;
      else chunks.push(chunk);
    });
    payload.on('end', () => (refused ? reject(refused) : resolve(Buffer.concat(chunks))));
    payload.on('error', (err: Error) => reject(refused ?? err));
    payload.resume();
  });
}
