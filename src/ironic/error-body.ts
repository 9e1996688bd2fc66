/**
 * Ironic's error body: `{"error_message": "<JSON string>"}`.
 *
 * The inner value is a JSON-*encoded string*, not an object: python-ironicclient
 * and openstacksdk json-decode it and read `faultstring` (or `description`).
 * Sending an object breaks ironicclient's error printing.
 */

/** Shape raised by Ironic controllers (IronicException, ClientSideError). */
export function faultBody(status: number, faultstring: string): string {
  const inner = `{"faultcode": ${pyJson(status >= 500 ? 'Server' : 'Client')}, "faultstring": ${pyJson(faultstring)}, "debuginfo": null}`;
  return `{"error_message": ${pyJson(inner)}}`;
}

/** Shape raised by pecan/webob during routing (unknown path, version negotiation). */
export function routingErrorBody(status: number, description: string): string {
  const inner = `{"code": ${status}, "title": ${pyJson(statusTitle(status))}, "description": ${pyJson(description)}}`;
  return `{"error_message": ${pyJson(inner)}}`;
}

/** A JSON string as Python's json.dumps writes it (ASCII only), so the proxy's errors read byte-for-byte like Ironic's. */
function pyJson(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Long',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function statusTitle(status: number): string {
  return TITLES[status] ?? 'Error';
}

/** Extracts the human message from an Ironic error body, whichever of the two shapes it has. */
export function errorMessageOf(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const raw = (body as Record<string, unknown>).error_message;
  if (typeof raw !== 'string') return undefined;
  try {
    const inner = JSON.parse(raw) as Record<string, unknown>;
    const text = inner.faultstring ?? inner.description;
    return typeof text === 'string' ? text : raw;
  } catch {
    return raw;
  }
}
