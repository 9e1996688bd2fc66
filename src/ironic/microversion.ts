/**
 * Bare Metal API microversions: `1.N`, parsed and compared the way Ironic does.
 */

export interface Version {
  major: number;
  minor: number;
}

export const VERSION_HEADER = 'x-openstack-ironic-api-version';
export const MIN_VERSION_HEADER = 'x-openstack-ironic-api-minimum-version';
export const MAX_VERSION_HEADER = 'x-openstack-ironic-api-maximum-version';
/** The standard header (`OpenStack-API-Version: baremetal 1.N`), accepted upstream since Dalmatian. */
export const STANDARD_VERSION_HEADER = 'openstack-api-version';

export const V1_1: Version = { major: 1, minor: 1 };

export function formatVersion(v: Version): string {
  return `${v.major}.${v.minor}`;
}

export function compareVersions(a: Version, b: Version): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

export function atLeast(v: Version, minor: number): boolean {
  return v.major > 1 || (v.major === 1 && v.minor >= minor);
}

/** Parses `1.N` strictly (two integers, leading zeros and surrounding spaces allowed). */
export function parseVersion(text: string): Version | undefined {
  const m = /^\s*(\d+)\.(\d+)\s*$/.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export interface VersionRange {
  min: Version;
  max: Version;
}

export type Negotiated =
  | { ok: true; version: Version }
  | { ok: false; status: 406; description: string; withRangeHeaders: boolean };

/**
 * Resolves the version a client asked for, against a supported range, with
 * Ironic's exact 406 texts. A missing header means the minimum (1.1), not the latest.
 */
export function negotiate(
  headers: Record<string, string | string[] | undefined>,
  range: VersionRange,
): Negotiated {
  const requested = requestedVersionText(headers);
  if (requested === undefined) return { ok: true, version: range.min };
  if (requested.trim().toLowerCase() === 'latest') return { ok: true, version: range.max };
  const v = parseVersion(requested);
  if (!v) {
    return {
      ok: false,
      status: 406,
      description: 'Invalid value for X-OpenStack-Ironic-API-Version header',
      withRangeHeaders: false,
    };
  }
  const rangeText = `[${formatVersion(range.min)}, ${formatVersion(range.max)}]`;
  if (v.major !== range.max.major) {
    return {
      ok: false,
      status: 406,
      description:
        `Mutually exclusive versions requested. Version ${formatVersion(v)} requested but not ` +
        `supported by this service. The supported version range is: ${rangeText}.`,
      withRangeHeaders: true,
    };
  }
  if (compareVersions(v, range.min) < 0 || compareVersions(v, range.max) > 0) {
    return {
      ok: false,
      status: 406,
      description:
        `Version ${formatVersion(v)} was requested but the minor version is not supported by ` +
        `this service. The supported version range is: ${rangeText}.`,
      withRangeHeaders: true,
    };
  }
  return { ok: true, version: v };
}

/**
 * The standard `OpenStack-API-Version: baremetal X` header wins over the legacy
 * one when it names the baremetal service (microversion-parse semantics).
 */
export function requestedVersionText(
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const standard = headerValue(headers[STANDARD_VERSION_HEADER]);
  if (standard !== undefined) {
    for (const part of standard.split(',')) {
      const [service, value] = part.trim().split(/\s+/, 2);
      if (service?.toLowerCase() === 'baremetal' && value !== undefined) return value;
    }
  }
  return headerValue(headers[VERSION_HEADER]);
}

function headerValue(v: string | string[] | undefined): string | undefined {
  if (Array.isArray(v)) return v.join(',');
  return v;
}
