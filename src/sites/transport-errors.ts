/**
 * What an undici failure means, in one place for every connection the proxy
 * makes (sites and their Keystones): a timeout, or a reason the peer could
 * not be reached.
 */
import { errors as undiciErrors } from 'undici';

interface ErrorLike {
  name?: string;
  code?: string;
  message?: string;
  cause?: { code?: string; message?: string };
}

export function isTimeout(err: unknown): boolean {
  const name = (err as ErrorLike).name;
  return (
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError ||
    name === 'TimeoutError' ||
    name === 'AbortError'
  );
}

/** A short reason for a failed connection: "connection refused", "connection reset", or the error's code or message. */
export function unreachableReason(err: unknown): string {
  const e = err as ErrorLike;
  const code = e.code ?? e.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset';
  return code ?? e.message ?? 'request failed';
}
