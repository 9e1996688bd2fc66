import { randomUUID } from 'node:crypto';

/** Ironic's request id format: `req-<uuid>`. */
export function newRequestId(): string {
  return `req-${randomUUID()}`;
}

const REQUEST_ID_RE = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An incoming global request id is only trusted in Ironic's own format (oslo.middleware does the same). */
export function isValidRequestId(value: unknown): value is string {
  return typeof value === 'string' && REQUEST_ID_RE.test(value);
}
