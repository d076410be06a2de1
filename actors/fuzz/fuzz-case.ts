/**
 * One fuzz case from one seed: a VM (guest profile, RAM, memdev, a workload that keeps the guest
 * under memory pressure) and a list of user actions at fractional virtual instants. Pure and
 * seeded: the same (profile, seed) always gives the same case, so a break replays from its seed.
 */
import { SeededPrng } from '../../machines/seeded-prng';
import { MISBEHAVIOUR_KINDS, type MaliciousPlanEntry } from '../../machines/dm-guest/malicious-plan';
import type { VmConfigInput } from '../vm/vm-config';

export const FUZZ_PROFILES = ['malicious', 'linux', 'windows', 'mixed'] as const;
export type FuzzProfile = (typeof FUZZ_PROFILES)[number];

/** One thing the user does; `advance` moves virtual time by a fractional number of ms. */
export type FuzzAction =
  | { kind: 'advance'; ms: number }
  | { kind: 'balloon'; bytes: number }
  | { kind: 'system_reset' }
  | { kind: 'stop' }
  | { kind: 'cont' }
  | { kind: 'hmp'; line: string };

export interface FuzzCase {
  seed: number;
  config: VmConfigInput;
  bootBytes: number;
  actions: FuzzAction[];
}

const MiB = 2 ** 20;
/** Boot sizes: many small guests (65-128 MiB, where the malicious guest used to break) and a few large ones. */
const BOOT_MIB = [65, 72, 80, 96, 112, 128, 192, 256, 512, 1024, 2048, 4096];

/** Builds the case of `seed`; `steps` actions after the boot wait. */
export function fuzzCase(profile: FuzzProfile, seed: number, steps: number): FuzzCase {
  const prng = new SeededPrng(seed);
  const pick = <T>(items: readonly T[]): T => items[prng.nextInt(0, items.length - 1)]!;
  const bootMiB = prng.nextFloat() < 0.4 ? pick(BOOT_MIB.slice(0, 6)) : pick(BOOT_MIB);
  const bootBytes = bootMiB * MiB;
  const withMemdev = prng.nextFloat() < 0.4;
  const memdevMiB = withMemdev ? pick([128, 256, 1024, 2048]) : 0;
  // The memdev's window is 32 GiB-aligned inside the device-memory area (docs/memory-model.md).
  const maxmem = withMemdev ? bootBytes + 64 * 1024 * MiB : bootBytes;
  const guestName = profile === 'mixed' ? pick(['linux', 'windows', 'malicious'] as const) : profile;
  const guest: Record<string, unknown> = { profile: guestName };
  if (guestName === 'malicious' && prng.nextFloat() < 0.5) guest.plan = randomPlan(prng);
  const usedPart = 0.3 + prng.nextFloat() * 0.5;
  const config: VmConfigInput = {
    seed,
    machine: { memory: bootBytes, maxmem },
    device: { statusReport: prng.nextFloat() < 0.5, ...(withMemdev ? { memdev: memdevMiB * MiB } : {}) },
    guest,
    // Memory pressure: a working set of 30-80 % of boot RAM (plus up to 15 % churn) that churns every few seconds.
    workload: {
      kind: 'steady',
      usedBytes: pages(bootBytes * usedPart),
      churnBytes: pages(bootBytes * 0.05 * prng.nextInt(1, 3)),
      periodMs: prng.nextInt(500, 10_000),
      dirtyBytes: pages(bootBytes * 0.01),
    },
  };
  const actions: FuzzAction[] = [{ kind: 'advance', ms: 55_000 + fraction(prng) * 10_000 }];
  const limitBytes = maxmem;
  for (let i = 0; i < steps; i++) {
    const roll = prng.nextFloat();
    if (roll < 0.3) actions.push({ kind: 'advance', ms: randomAdvance(prng) });
    else if (roll < 0.55) actions.push({ kind: 'balloon', bytes: randomTarget(prng, bootBytes, limitBytes) });
    else if (roll < 0.65) actions.push({ kind: 'system_reset' });
    else if (roll < 0.72) actions.push({ kind: 'stop' });
    else if (roll < 0.82) actions.push({ kind: 'cont' });
    else actions.push({ kind: 'hmp', line: pick(['info balloon', 'info memory-devices', 'info status', `balloon ${prng.nextInt(1, (limitBytes / MiB) * 2)}`]) });
    // Resets, stops and conts land 10-20 ms apart around flows as often as far apart.
    if (prng.nextFloat() < 0.5) actions.push({ kind: 'advance', ms: 10 + fraction(prng) * 10 });
  }
  return { seed, config, bootBytes, actions };
}

function randomPlan(prng: SeededPrng): MaliciousPlanEntry[] {
  const entries: MaliciousPlanEntry[] = [];
  const count = prng.nextInt(1, 6);
  for (let i = 0; i < count; i++) {
    const kind = MISBEHAVIOUR_KINDS[prng.nextInt(0, MISBEHAVIOUR_KINDS.length - 1)]!;
    const entry: MaliciousPlanEntry = { kind };
    if (kind === 'inflatedHotAddCount') entry.hotAdd = prng.nextInt(1, 3);
    else if (kind.startsWith('unsolicited') || kind.endsWith('AfterInit')) entry.atMs = prng.nextInt(0, 120_000);
    else entry.response = prng.nextInt(1, 5);
    entries.push(entry);
  }
  return entries;
}

/** A fraction in [0, 1) with microsecond-level digits: instants that are not whole ms. */
function fraction(prng: SeededPrng): number {
  return prng.nextInt(0, 999_999) / 1_000_000;
}

function randomAdvance(prng: SeededPrng): number {
  const scale = [0.05, 1, 20, 500, 5_000, 60_000][prng.nextInt(0, 5)]!;
  return scale * (1 + prng.nextInt(0, 999) / 100) + fraction(prng);
}

function randomTarget(prng: SeededPrng, bootBytes: number, maxmem: number): number {
  const roll = prng.nextFloat();
  if (roll < 0.2) return prng.nextInt(1, 4096 * 16); // far below the floor
  if (roll < 0.4) return bootBytes; // back to boot size
  if (roll < 0.8) return pages(bootBytes * (0.05 + prng.nextFloat() * 0.9));
  return pages(bootBytes + (maxmem - bootBytes + bootBytes * 0.5) * prng.nextFloat()) + 4096;
}

function pages(bytes: number): number {
  return Math.max(4096, Math.floor(bytes / 4096) * 4096);
}
