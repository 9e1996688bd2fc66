/**
 * TLS options (cafile, insecure, certfile/keyfile), read once and shared by
 * every connection made with them: a site's `[group:SITE]` section serves the
 * site's Bare Metal API and its Keystone, as one keystoneauth session does in
 * the original; `[keystone_authtoken]` serves the proxy's own requests to
 * Keystone (its service token and the validation of users' tokens), as
 * keystonemiddleware's session does.
 */
import { readFileSync } from 'node:fs';

/** The option names of keystoneauth's session (`[group:SITE]`) and keystonemiddleware (`[keystone_authtoken]`). */
export interface TlsFileOptions {
  insecure: boolean;
  cafile?: string;
  certfile?: string;
  keyfile?: string;
}

export interface SiteTlsOptions {
  rejectUnauthorized: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/**
 * undici `connect` options. A certfile without a keyfile holds both (PEM),
 * as keystoneauth (requests) accepts it.
 */
export function siteTlsOptions(config: TlsFileOptions): SiteTlsOptions {
  const cert = config.certfile ? readFileSync(config.certfile) : undefined;
  return {
    rejectUnauthorized: !config.insecure,
    ca: config.cafile ? readFileSync(config.cafile) : undefined,
    cert,
    key: config.keyfile ? readFileSync(config.keyfile) : cert,
  };
}
