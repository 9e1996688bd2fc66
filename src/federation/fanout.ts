/**
 * Running one operation on many sites at once. Every site gets its own
 * timeout (in its client), so a fan-out costs the slowest answering site, not
 * the sum; failures are collected per site instead of failing the whole call.
 */
import type { SiteClient } from '../sites/site-client.js';

export type SiteOutcome<T> =
  | { site: SiteClient; ok: true; value: T }
  | { site: SiteClient; ok: false; error: Error };

/** All sites in parallel; outcomes in the order of `sites`. */
export async function fanOut<T>(sites: readonly SiteClient[], op: (site: SiteClient) => Promise<T>): Promise<SiteOutcome<T>[]> {
  return Promise.all(
    sites.map(async (site): Promise<SiteOutcome<T>> => {
      try {
        return { site, ok: true, value: await op(site) };
      } catch (error) {
        return { site, ok: false, error: error as Error };
      }
    }),
  );
}

export interface FirstHit<T> {
  hit?: { site: SiteClient; value: T };
  /** Sites that failed (not those that answered "not here"). */
  failures: Array<{ site: SiteClient; error: Error }>;
}

/**
 * Asks all sites in parallel and settles as soon as one answers with a value
 * (`undefined` means "not here"). Without a hit it waits for every site, so
 * that "nowhere" is only claimed when every site said so.
 */
export function firstHit<T>(sites: readonly SiteClient[], op: (site: SiteClient) => Promise<T | undefined>): Promise<FirstHit<T>> {
  return new Promise((resolve) => {
    const failures: FirstHit<T>['failures'] = [];
    let pending = sites.length;
    let done = false;
    if (pending === 0) resolve({ failures });
    for (const site of sites) {
      op(site).then(
        (value) => {
          if (done) return;
          if (value !== undefined) {
            done = true;
            resolve({ hit: { site, value }, failures });
          } else if (--pending === 0) resolve({ failures });
        },
        (error: Error) => {
          if (done) return;
          failures.push({ site, error });
          if (--pending === 0) resolve({ failures });
        },
      );
    }
  });
}
