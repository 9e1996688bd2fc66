/**
 * The proxy's version, as package.json gives it: the one number shown by
 * `ironic-proxy --version`, on /status and in ironic_proxy_build_info. Read
 * once; package.json sits one level above both src/ and dist/.
 */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const VERSION = readVersion();
