/**
 * TLS options of one site's `[group:SITE]` section (cafile, insecure,
 * certfile/keyfile), read once and shared by every connection the proxy
 * makes on that site's behalf: to the site's Bare Metal API and to its
 * Keystone, as one keystoneauth session does in the original.
 */
import { readFileSync } from 'node:fs';
import type { SiteConfig } from '../config/types.js';

export interface SiteTlsOptions {
  rejectUnauthorized: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export function siteTlsOptions(config: Pick<SiteConfig, 'insecure' | 'cafile' | 'certfile' | 'keyfile'>): SiteTlsOptions {
  return {
    rejectUnauthorized: !config.insecure,
    ca: config.cafile ? readFileSync(config.cafile) : undefined,
    cert: config.certfile ? readFileSync(config.certfile) : undefined,
    key: config.keyfile ? readFileSync(config.keyfile) : undefined,
  };
}
