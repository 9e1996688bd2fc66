/**
 * The bounds of every loop over one site's pages (positioning a bare
 * marker, uniqueness scans, the drift check): at most `maxPages` pages, at
 * most `timeoutMs` in all, never a marker the loop has already followed (a
 * site whose `next` leads back), and no further page once the client has
 * left. A site that would keep the proxy reading past them is the site's
 * failure (502/504 naming it), never an endless loop.
 */
import { SiteProtocolError, SiteTimeoutError } from '../errors.js';
import { ClientGoneError, type SiteCallScope } from '../sites/site-client.js';

export interface ScanLimits {
  maxPages: number;
  timeoutMs: number;
}

/** Used where no configuration reaches (tests, tools): [proxy]scan_max_pages and scan_timeout's defaults. */
export const DEFAULT_SCAN_LIMITS: ScanLimits = { maxPages: 1000, timeoutMs: 60_000 };

export class PageScan {
  private pages = 0;
  private readonly until: number;
  private readonly followed = new Set<string>();

  constructor(
    private readonly site: string,
    private readonly what: string,
    private readonly limits: ScanLimits = DEFAULT_SCAN_LIMITS,
    private readonly scope?: Pick<SiteCallScope, 'cancelled'>,
  ) {
    this.until = performance.now() + limits.timeoutMs;
  }

  /**
   * Called before each page is asked for, with the marker it starts after
   * (none for the first): throws when the loop must stop.
   */
  next(marker: string | undefined): void {
    if (this.scope?.cancelled) throw new ClientGoneError();
    if (++this.pages > this.limits.maxPages) {
      throw new SiteProtocolError(this.site, `${this.what}: more than ${this.limits.maxPages} pages ([proxy]scan_max_pages)`);
    }
    if (performance.now() > this.until) throw new SiteTimeoutError(this.site, this.limits.timeoutMs / 1000, `${this.what}, [proxy]scan_timeout`);
    if (marker === undefined) return;
    if (this.followed.has(marker)) throw new SiteProtocolError(this.site, `${this.what}: its pages lead back to marker ${marker}`);
    this.followed.add(marker);
  }
}

/** The same client scope for a scan's pages, without holding them: each page is dropped once read. */
export function withoutHolding(scope: SiteCallScope | undefined): SiteCallScope | undefined {
  if (!scope) return undefined;
  return {
    get cancelled() {
      return scope.cancelled;
    },
    onCancel: (abort) => scope.onCancel(abort),
  };
}

/** The configured bounds ([proxy]scan_max_pages, scan_timeout). */
export function scanLimitsOf(proxy: { scanMaxPages: number; scanTimeoutSeconds: number }): ScanLimits {
  return { maxPages: proxy.scanMaxPages, timeoutMs: proxy.scanTimeoutSeconds * 1000 };
}
