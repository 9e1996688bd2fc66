/**
 * The proxy's own Keystone token ([keystone_authtoken] service credentials),
 * needed to validate users' tokens: the same Keystone client as a site's
 * (KeystoneSession: one shared authentication, renewal before expiry on
 * Keystone's clock, one forced renewal a second at most), over connections
 * with [keystone_authtoken]'s TLS options (cafile, insecure,
 * certfile/keyfile) — keystonemiddleware's one session for its own token and
 * the validations.
 */
import type { KeystoneAuthtokenConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { KeystoneSession } from '../sites/keystone.js';
import { siteTlsOptions } from '../sites/tls.js';

export function serviceTokenSession(
  config: KeystoneAuthtokenConfig,
  timeoutMs: number,
  opts: { now?: () => number; log?: Pick<Logger, 'warn' | 'info' | 'debug'>; onAuthentication?: (ok: boolean) => void } = {},
): KeystoneSession {
  return new KeystoneSession({
    method: 'password',
    auth: config.credentials,
    timeoutMs,
    tls: siteTlsOptions(config),
    now: opts.now,
    log: opts.log,
    logFields: { keystone_authtoken: true },
    label: 'service token',
    onAuthentication: opts.onAuthentication,
  });
}
