/** Interfaces the lab's Ironic enables (enabled_*_interfaces), first = default. */
export const ENABLED_INTERFACES: Record<string, string[]> = {
  bios: ['fake', 'no-bios'],
  boot: ['fake'],
  console: ['fake', 'no-console'],
  deploy: ['fake'],
  inspect: ['fake', 'no-inspect'],
  management: ['fake'],
  network: ['noop'],
  power: ['fake'],
  raid: ['fake', 'no-raid'],
  rescue: ['fake', 'no-rescue'],
  storage: ['noop'],
  vendor: ['fake', 'no-vendor'],
};
