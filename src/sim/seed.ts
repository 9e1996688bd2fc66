/**
 * Deterministic seed data: the same site name and count always give the same
 * nodes (uuids, names, fields), so tests and benchmarks are repeatable.
 */

import { createHash } from 'node:crypto';
import { isoFromMicros, type JsonObject, type NodeRec } from './node-model.js';

/** mulberry32 PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/**
 * A version-4-shaped UUID derived from a name: unique per name. (Drawing
 * uuids from per-site PRNG streams collided across sites: mulberry32 streams
 * from different seeds overlap.)
 */
export function uuidFor(name: string): string {
  const hex = createHash('sha1').update(name).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface DriverProfile {
  bios_interface: string;
  boot_interface: string;
  console_interface: string;
  deploy_interface: string;
  inspect_interface: string;
  management_interface: string;
  network_interface: string;
  power_interface: string;
  raid_interface: string;
  rescue_interface: string;
  storage_interface: string;
  vendor_interface: string;
}

/** Default interfaces per enabled hardware type, as the lab's Ironic config gives them. */
export const DRIVERS: Readonly<Record<string, DriverProfile>> = {
  'fake-hardware': {
    bios_interface: 'fake',
    boot_interface: 'fake',
    console_interface: 'fake',
    deploy_interface: 'fake',
    inspect_interface: 'fake',
    management_interface: 'fake',
    network_interface: 'noop',
    power_interface: 'fake',
    raid_interface: 'fake',
    rescue_interface: 'fake',
    storage_interface: 'noop',
    vendor_interface: 'fake',
  },
  'manual-management': {
    bios_interface: 'no-bios',
    boot_interface: 'fake',
    console_interface: 'no-console',
    deploy_interface: 'fake',
    inspect_interface: 'no-inspect',
    management_interface: 'fake',
    network_interface: 'noop',
    power_interface: 'fake',
    raid_interface: 'no-raid',
    rescue_interface: 'no-rescue',
    storage_interface: 'noop',
    vendor_interface: 'no-vendor',
  },
};

/**
 * Shared, frozen empty values: nodes never mutate their dict/list fields in
 * place (every change assigns a new value), so 10,000s of nodes can share these.
 */
const EMPTY: JsonObject = Object.freeze({}) as JsonObject;
const NO_TRAITS: string[] = Object.freeze([]) as unknown as string[];

/** A node row with Ironic's create-time defaults. */
export function blankNode(id: number, uuid: string, driver: string, createdAt: string): NodeRec {
  const p = DRIVERS[driver] ?? DRIVERS['fake-hardware']!;
  return {
    id,
    uuid,
    name: null,
    instance_uuid: null,
    chassis_id: null,
    power_state: null,
    target_power_state: null,
    provision_state: 'enroll',
    target_provision_state: null,
    provision_updated_at: null,
    last_error: null,
    instance_info: EMPTY,
    properties: EMPTY,
    driver,
    driver_info: EMPTY,
    driver_internal_info: EMPTY,
    clean_step: EMPTY,
    deploy_step: EMPTY,
    resource_class: null,
    raid_config: EMPTY,
    target_raid_config: EMPTY,
    reservation: null,
    conductor_affinity: null,
    conductor_group: '',
    maintenance: false,
    maintenance_reason: null,
    fault: null,
    console_enabled: false,
    inspection_finished_at: null,
    inspection_started_at: null,
    extra: EMPTY,
    automated_clean: null,
    protected: false,
    protected_reason: null,
    owner: null,
    lessee: null,
    allocation_id: null,
    description: null,
    ...p,
    retired: false,
    retired_reason: null,
    network_data: EMPTY,
    boot_mode: null,
    secure_boot: null,
    shard: null,
    created_at: createdAt,
    updated_at: null,
    version: '1.36',
    traits: NO_TRAITS,
  };
}

const SEED_INSTANCE_INFO: JsonObject = Object.freeze({
  image_source: 'http://images.example/img.qcow2',
  image_type: 'whole-disk',
}) as JsonObject;
/** driver_internal_info as 21.4's fake-hardware conductor leaves it after cleaning / deploying. */
const DII_CLEANED: JsonObject = Object.freeze({ clean_steps: null }) as JsonObject;
const DII_DEPLOYED: JsonObject = Object.freeze({ clean_steps: null, deploy_steps: null, is_whole_disk_image: true }) as JsonObject;
const propertiesCache = new Map<string, JsonObject>();

function sharedProperties(cpus: number, memoryMb: number, localGb: number): JsonObject {
  const key = `${cpus}/${memoryMb}/${localGb}`;
  let p = propertiesCache.get(key);
  if (!p) {
    p = Object.freeze({ cpus, memory_mb: memoryMb, local_gb: localGb, cpu_arch: 'x86_64' }) as JsonObject;
    propertiesCache.set(key, p);
  }
  return p;
}

const RESOURCE_CLASSES = [null, 'baremetal', 'baremetal', 'gpu', 'large', 'small'];
const OWNERS = [null, 'project-a', 'project-b', 'project-c'];
const STATES = ['available', 'available', 'active', 'active', 'manageable', 'enroll'];
const TRAITS = ['CUSTOM_GPU', 'CUSTOM_RAID', 'HW_CPU_X86_AVX2', 'CUSTOM_SSD'];

/**
 * `count` nodes for a site, spread round-robin over its conductor groups, with
 * varied sortable fields. `firstId` is the first internal id to use.
 */
export function seedNodes(
  site: string,
  groups: readonly string[],
  count: number,
  firstId: number,
  drivers: readonly string[] = Object.keys(DRIVERS),
): NodeRec[] {
  const rnd = prng(hashString(site) ^ 0x5eed);
  const out: NodeRec[] = [];
  // Creation times one second apart, ending a day before "now" would be
  // non-deterministic; use a fixed epoch instead.
  const epochMicros = Date.UTC(2024, 0, 1) * 1000 + 123_457;
  for (let i = 0; i < count; i++) {
    const createdAt = isoFromMicros(epochMicros + i * 1_000_003);
    // mostly the first driver, a quarter the second (if the site has two)
    const driver = drivers[Math.floor(rnd() * 4) === 0 && drivers.length > 1 ? 1 : 0] ?? 'fake-hardware';
    const n = blankNode(firstId + i, uuidFor(`node/${site}/${i}`), driver, createdAt);
    n.name = `${site}-node-${i}`;
    n.conductor_group = groups[i % groups.length] ?? '';
    n.resource_class = RESOURCE_CLASSES[Math.floor(rnd() * RESOURCE_CLASSES.length)]!;
    n.owner = OWNERS[Math.floor(rnd() * OWNERS.length)]!;
    n.provision_state = STATES[Math.floor(rnd() * STATES.length)]!;
    n.provision_updated_at = n.provision_state === 'enroll' ? null : createdAt;
    n.power_state = n.provision_state === 'enroll' ? null : rnd() < 0.5 ? 'power on' : 'power off';
    n.maintenance = rnd() < 0.1;
    n.maintenance_reason = n.maintenance ? 'seeded maintenance' : null;
    if (n.provision_state === 'active') {
      n.instance_uuid = uuidFor(`instance/${site}/${i}`);
      n.instance_info = SEED_INSTANCE_INFO;
      n.power_state = 'power on';
      n.driver_internal_info = DII_DEPLOYED;
      n.conductor_affinity = groups.indexOf(n.conductor_group) + 1;
    } else if (n.provision_state === 'available') {
      n.driver_internal_info = DII_CLEANED;
    }
    n.properties = sharedProperties(8 << Math.floor(rnd() * 3), 16384 << Math.floor(rnd() * 3), 100 * (1 + Math.floor(rnd() * 10)));
    n.description = rnd() < 0.5 ? `rack ${Math.floor(rnd() * 40)}` : null;
    n.shard = rnd() < 0.3 ? `shard-${Math.floor(rnd() * 3)}` : null;
    const t = TRAITS.filter(() => rnd() < 0.25);
    n.traits = t.length ? t.sort() : NO_TRAITS;
    n.updated_at = rnd() < 0.5 ? isoFromMicros(epochMicros + i * 1_000_003 + 500_001) : null;
    out.push(n);
  }
  return out;
}
