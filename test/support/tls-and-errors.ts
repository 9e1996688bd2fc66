/**
 * Small helpers of the Keystone unit tests (sites' Keystones and the users'
 * one): an expected typed rejection, and self-signed certificates made with
 * openssl at test time.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Awaits `p`, which must reject with a `type`; returns that error. */
export async function rejectsWith<E extends Error>(p: Promise<unknown>, type: new (...a: any[]) => E): Promise<E> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    return err as E;
  }
  assert.fail(`expected ${type.name}, but it succeeded`);
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A self-signed certificate for 127.0.0.1, valid a day: `<name>-key.pem` and `<name>-cert.pem` in `dir`. */
export function selfSignedCert(dir: string, name: string): { key: string; cert: string } {
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}-cert.pem`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { key, cert };
}
