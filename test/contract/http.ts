/**
 * Minimal HTTP helpers and Ironic-shaped assertions for the contract suites.
 * Only fetch (undici) is used, so a suite runs unchanged against a simulator
 * site, a real Ironic or the proxy.
 */

import assert from 'node:assert/strict';

export interface Res {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed body (undefined when empty or not JSON). */
  json: any;
}

export interface ReqOpts {
  /** Value of X-OpenStack-Ironic-API-Version; null = send none. Default 'latest'. */
  version?: string | null;
  body?: unknown;
  /** Raw body text (overrides body). */
  raw?: string;
  headers?: Record<string, string>;
}

export class Client {
  constructor(readonly url: string) {}

  async req(method: string, path: string, opts: ReqOpts = {}): Promise<Res> {
    const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers ?? {}) };
    const version = opts.version === undefined ? 'latest' : opts.version;
    if (version !== null) headers['X-OpenStack-Ironic-API-Version'] = version;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const target = /^https?:\/\//.test(path) ? path : this.url + path;
    const r = await fetch(target, { method, headers, body, signal: AbortSignal.timeout(30_000) });
    const text = await r.text();
    let json: unknown;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    return { status: r.status, headers: r.headers, text, json };
  }

  get(path: string, opts?: ReqOpts): Promise<Res> {
    return this.req('GET', path, opts);
  }
  post(path: string, body: unknown, opts: ReqOpts = {}): Promise<Res> {
    return this.req('POST', path, { ...opts, body });
  }
  put(path: string, body: unknown, opts: ReqOpts = {}): Promise<Res> {
    return this.req('PUT', path, { ...opts, body });
  }
  patch(path: string, body: unknown, opts: ReqOpts = {}): Promise<Res> {
    return this.req('PATCH', path, { ...opts, body });
  }
  del(path: string, opts?: ReqOpts): Promise<Res> {
    return this.req('DELETE', path, opts);
  }
}

function describeRes(r: Res): string {
  return `HTTP ${r.status}: ${r.text.slice(0, 600)}`;
}

export function expectStatus(r: Res, status: number): void {
  assert.equal(r.status, status, describeRes(r));
}

/** The inner document of `{"error_message": "<JSON string>"}`, checked for shape. */
function innerError(r: Res): Record<string, unknown> {
  assert.ok(r.json && typeof r.json === 'object', `error body is not JSON: ${describeRes(r)}`);
  assert.deepEqual(Object.keys(r.json), ['error_message'], describeRes(r));
  assert.equal(typeof r.json.error_message, 'string', 'error_message must be a JSON *string*');
  return JSON.parse(r.json.error_message) as Record<string, unknown>;
}

/** A controller error: `{faultcode, faultstring, debuginfo: null}`. */
export function expectFault(r: Res, status: number, faultstring: string | RegExp): void {
  expectStatus(r, status);
  const inner = innerError(r);
  assert.deepEqual(Object.keys(inner).sort(), ['debuginfo', 'faultcode', 'faultstring'], describeRes(r));
  assert.equal(inner.faultcode, status >= 500 ? 'Server' : 'Client');
  assert.equal(inner.debuginfo, null);
  if (typeof faultstring === 'string') assert.equal(inner.faultstring, faultstring);
  else assert.match(String(inner.faultstring), faultstring);
}

/** A routing error: `{code, title, description}`. */
export function expectRouting(r: Res, status: number, description: string | RegExp = ''): void {
  expectStatus(r, status);
  const inner = innerError(r);
  assert.deepEqual(Object.keys(inner).sort(), ['code', 'description', 'title'], describeRes(r));
  assert.equal(inner.code, status);
  if (typeof description === 'string') assert.equal(inner.description, description);
  else assert.match(String(inner.description), description);
}

/** Either error shape, checking only status and message. */
export function expectError(r: Res, status: number, message: string | RegExp): void {
  expectStatus(r, status);
  const inner = innerError(r);
  const text = String(inner.faultstring ?? inner.description);
  if (typeof message === 'string') assert.equal(text, message);
  else assert.match(text, message);
}

export function expectVersionHeaders(r: Res, version: string, max: string): void {
  assert.equal(r.headers.get('x-openstack-ironic-api-minimum-version'), '1.1');
  assert.equal(r.headers.get('x-openstack-ironic-api-maximum-version'), max);
  assert.equal(r.headers.get('x-openstack-ironic-api-version'), version);
}

export function expectEmpty(r: Res, status: number): void {
  expectStatus(r, status);
  assert.equal(r.text, '', `expected an empty body: ${describeRes(r)}`);
}

/** Polls `fn` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    last = v;
    await new Promise((r) => setTimeout(r, 100));
  }
  void last;
}
