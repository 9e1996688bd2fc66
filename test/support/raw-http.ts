/**
 * Raw HTTP exchanges over a TCP socket, for what no well-behaved client
 * would send (malformed request lines, bad framing, huge headers and
 * bodies): the bytes go out as given and the answer is read as the client
 * would see it, including whether the connection was reset before it could.
 */
import * as net from 'node:net';

export interface RawAnswer {
  /** The status of the first response, 0 when none arrived. */
  status: number;
  /** Header block of the first response (lower-cased names). */
  headers: Record<string, string>;
  /** Its body (by Content-Length, else what came until the close). */
  body: string;
  /** Everything received. */
  raw: Buffer;
  /** The connection was reset (ECONNRESET/EPIPE) at some point. */
  reset: boolean;
  /** The bytes that could not be sent before the peer stopped reading. */
  unsent: number;
}

/**
 * Sends `request` (one buffer, or chunks written in turn with backpressure)
 * and reads until the server closes the connection or `timeoutMs` passes
 * (then what arrived is returned). `halfClose`: the client then shuts its
 * sending side, as one that gave up on its body would. Callers add `Connection: close` when
 * they want the answer without waiting for the idle timeout.
 */
export function rawExchange(
  port: number,
  request: Buffer | string | Iterable<Buffer>,
  timeoutMs = 10_000,
  opts: { halfClose?: boolean } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let reset = false;
    let unsent = 0;
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(Buffer.concat(chunks), reset, unsent));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // A complete answer with a length: no need to wait for the close.
      const answer = parse(Buffer.concat(chunks), false, 0);
      const length = Number(answer.headers['content-length']);
      if (answer.status && Number.isFinite(length) && Buffer.byteLength(answer.body) >= length) {
        // The answer is complete; a little longer for a reset that would follow it.
        setTimeout(done, 100).unref();
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') reset = true;
      done();
    });
    socket.on('close', done);
    socket.on('connect', async () => {
      const parts = typeof request === 'string' || Buffer.isBuffer(request) ? [Buffer.from(request)] : request;
      for (const part of parts) {
        if (socket.destroyed || finished) {
          unsent += part.length;
          continue;
        }
        if (!socket.write(part)) await new Promise<void>((r) => {
          const go = (): void => {
            socket.off('drain', go);
            socket.off('close', go);
            r();
          };
          socket.on('drain', go);
          socket.on('close', go);
        });
      }
      // The client stops sending (FIN) and waits for the answer.
      if (opts.halfClose && !socket.destroyed) socket.end();
    });
  });
}

function parse(raw: Buffer, reset: boolean, unsent: number): RawAnswer {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const c = line.indexOf(':');
    if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
  }
  let body = end < 0 ? '' : raw.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1')).toString('utf8');
  const length = Number(headers['content-length']);
  if (Number.isFinite(length) && Buffer.byteLength(body) > length) body = Buffer.from(body).subarray(0, length).toString('utf8');
  return { status: m ? Number(m[1]) : 0, headers, body, raw, reset, unsent };
}

/** The Ironic error body: `error_message` is a string holding a JSON object. Throws when it is not. */
export function ironicError(body: string): Record<string, unknown> {
  const doc = JSON.parse(body) as { error_message?: unknown };
  if (typeof doc !== 'object' || doc === null || typeof doc.error_message !== 'string') throw new Error(`not an Ironic error body: ${body.slice(0, 300)}`);
  const inner = JSON.parse(doc.error_message) as unknown;
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) throw new Error(`error_message is not a JSON object: ${body.slice(0, 300)}`);
  const o = inner as Record<string, unknown>;
  if (typeof o.faultstring !== 'string' && typeof o.description !== 'string') throw new Error(`error_message says nothing: ${body.slice(0, 300)}`);
  return o;
}
