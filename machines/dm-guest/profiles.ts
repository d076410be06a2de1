/**
 * Guest profiles: which guest the DM driver simulates and with what parameters. `linux` is the
 * reference (Linux drivers/hv/hv_balloon.c); `windows` is a Windows-like guest built from the few
 * published facts (QEMU hv-balloon.c comments, its qemu-devel threads, Microsoft's Hyper-V docs)
 * plus stated assumptions; `malicious` is a Linux guest that corrupts its answers following a
 * seeded plan. docs/guest-profiles.md documents them.
 *
 * validateGuestProfile checks untrusted config (a VM config file, the CLI) and throws
 * GuestProfileError naming the field and the value; resolveGuestProfile turns a valid config
 * into the numbers the statechart uses.
 */
import { BALLOON_CHUNK_PAGES, MAX_PAGE_COUNT, MAX_START_PAGE, PRESSURE_REPORT_DELAY_CALLS } from '../../protocol/constants';
import type { PageRange } from '../../protocol/messages';
import {
  defaultPlanEntries,
  isResponseKind,
  isTimedKind,
  MISBEHAVIOUR_KINDS,
  resolvePlan,
  type MaliciousPlanEntry,
  type Misbehaviour,
  type MisbehaviourKind,
} from './malicious-plan';
import { LinuxMemoryParamError, resolveLinuxMemory, type LinuxMemoryOptions } from '../linux-memory/linux-memory-params';

export type GuestProfileName = 'linux' | 'windows' | 'malicious';
export const GUEST_PROFILE_NAMES: readonly GuestProfileName[] = ['linux', 'windows', 'malicious'];

/** Options every profile takes. */
export interface CommonProfileOptions {
  /**
   * Memory block (hot-add chunk) size in MiB, a power of two from 1 to 32768. The guest reports
   * log2 of it as hot_add_alignment. Default 128 (x86-64 with less than 64 GiB of boot memory).
   */
  memoryBlockMiB?: number;
  /** Hibernation allowed (ACPI S4): balloon and unballoon requests are ignored, hot-add refused. Default false. */
  hibernation?: boolean;
  /** Linux module parameter pressure_report_delay: post_status calls dropped after start. Default 45 (windows: 0). */
  pressureReportDelay?: number;
  /**
   * Linux guests (linux, malicious): the kernel's memory — boot reservations, baseline use, hot-add
   * cost (machines/linux-memory/). Defaults reproduce the recorded Linux 6.12 guest; a larger
   * distribution guest sets its baseline. The windows profile keeps the simple model.
   */
  memory?: LinuxMemoryOptions;
}

export interface LinuxProfileConfig extends CommonProfileOptions {
  profile: 'linux';
}

export interface WindowsProfileConfig extends CommonProfileOptions {
  profile: 'windows';
  /** Available memory the guest keeps for itself when ballooning, MiB. Default 512. */
  reserveMiB?: number;
  /** Page-file size reported in status reports, MiB. Default 2048. */
  pageFileMiB?: number;
}

export interface MaliciousProfileConfig extends CommonProfileOptions {
  profile: 'malicious';
  /** Seed of the plan's random choices. Default: the driver's seed. */
  seed?: number;
  /** What to corrupt and when. Default: every misbehaviour once, at seeded points. */
  plan?: MaliciousPlanEntry[];
}

export type GuestProfileConfig = LinuxProfileConfig | WindowsProfileConfig | MaliciousProfileConfig;

/** Defaults. */
export const DEFAULT_MEMORY_BLOCK_MIB = 128;
export const DEFAULT_WINDOWS_RESERVE_MIB = 512;
export const DEFAULT_WINDOWS_PAGE_FILE_MIB = 2048;
/** Largest memory block the 4-bit alignment field can describe: 2^15 MiB = 32 GiB. */
export const MAX_MEMORY_BLOCK_MIB = 32_768;
const MAX_RESERVE_MIB = 1_048_576;
const MAX_PAGE_FILE_MIB = 16 * 1_048_576;
const MAX_PRESSURE_REPORT_DELAY = 1_000_000;
const MAX_AT_MS = 1e12;
const PAGES_PER_MIB = 256;

/** What the statechart uses. */
export interface ResolvedGuestProfile {
  name: GuestProfileName;
  /** Memory block (hot-add chunk) in 4 KiB pages. */
  memoryBlockPages: number;
  /** caps.hot_add_alignment: log2 of the block size in MiB. */
  hotAddAlignment: number;
  hibernation: boolean;
  pressureReportDelay: number;
  /** How balloon-up allocates: Linux 2 MiB/4 KiB units, or Windows-like large contiguous runs. */
  balloonAllocation: 'units' | 'contiguous';
  /** What status reports carry: Linux (two fields) or all six. */
  statusFields: 'linux' | 'windows';
  /** Windows: available pages kept free when ballooning (0 for Linux, which uses its floor). */
  reservePages: number;
  /** Windows: balloon requests above this are ignored (no response); null = no limit. */
  maxBalloonRequestPages: number | null;
  /** Windows: reported page-file size. */
  pageFilePages: number;
  /** Malicious: the resolved plan and its seed; null for the honest profiles. */
  malicious: { seed: number; plan: Misbehaviour[] } | null;
}

/** Bad profile config: `field` is the path of the offending field (e.g. `guest.plan[2].response`). */
export class GuestProfileError extends Error {
  override readonly name = 'GuestProfileError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}

function fail(field: string, expected: string, value: unknown): never {
  throw new GuestProfileError(field, `${field} must be ${expected}, got ${show(value)}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string, what: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new GuestProfileError(`${path}.${key}`, `${path}.${key} is not an option of ${what} (options: ${allowed.join(', ')})`);
    }
  }
}

function intField(obj: Record<string, unknown>, key: string, path: string, min: number, max: number): number | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    fail(`${path}.${key}`, `an integer from ${min} to ${max}`, v);
  }
  return v;
}

function rangeField(obj: Record<string, unknown>, key: string, path: string): PageRange | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  const field = `${path}.${key}`;
  if (!isRecord(v)) fail(field, 'an object { startPage, pageCount }', v);
  checkKeys(v, ['startPage', 'pageCount'], field, 'a page range');
  const startPage = intField(v, 'startPage', field, 0, MAX_START_PAGE);
  const pageCount = intField(v, 'pageCount', field, 1, MAX_PAGE_COUNT);
  if (startPage === undefined) fail(`${field}.startPage`, `an integer from 0 to ${MAX_START_PAGE}`, undefined);
  if (pageCount === undefined) fail(`${field}.pageCount`, `an integer from 1 to ${MAX_PAGE_COUNT}`, undefined);
  return { startPage, pageCount };
}

/** The fields each misbehaviour kind takes besides `kind`. */
function planFieldsFor(kind: MisbehaviourKind): string[] {
  if (kind === 'outsideRam' || kind === 'romPages' || kind === 'mmioPages') return ['response', 'range'];
  if (kind === 'rangeCountMismatch') return ['response', 'extraRanges'];
  if (isResponseKind(kind)) return ['response'];
  if (kind === 'unsolicitedHotAddResponse') return ['atMs', 'pages'];
  if (isTimedKind(kind)) return ['atMs'];
  return ['hotAdd', 'pages'];
}

function validatePlanEntry(value: unknown, path: string): MaliciousPlanEntry {
  if (!isRecord(value)) fail(path, 'an object with a "kind"', value);
  const kind = value['kind'];
  if (typeof kind !== 'string' || !(MISBEHAVIOUR_KINDS as readonly string[]).includes(kind)) {
    fail(`${path}.kind`, `one of ${MISBEHAVIOUR_KINDS.join(', ')}`, kind);
  }
  const k = kind as MisbehaviourKind;
  checkKeys(value, ['kind', ...planFieldsFor(k)], path, `misbehaviour "${k}"`);
  const entry: MaliciousPlanEntry = { kind: k };
  const response = intField(value, 'response', path, 1, Number.MAX_SAFE_INTEGER);
  if (response !== undefined) entry.response = response;
  const hotAdd = intField(value, 'hotAdd', path, 1, Number.MAX_SAFE_INTEGER);
  if (hotAdd !== undefined) entry.hotAdd = hotAdd;
  const pages = intField(value, 'pages', path, 1, 0xffff_ffff);
  if (pages !== undefined) entry.pages = pages;
  const extraRanges = intField(value, 'extraRanges', path, 1, 0x3fff_ffff);
  if (extraRanges !== undefined) entry.extraRanges = extraRanges;
  const atMs = value['atMs'];
  if (atMs !== undefined) {
    if (typeof atMs !== 'number' || !Number.isFinite(atMs) || atMs < 0 || atMs > MAX_AT_MS) {
      fail(`${path}.atMs`, `a number of ms from 0 to ${MAX_AT_MS}`, atMs);
    }
    entry.atMs = atMs;
  }
  const range = rangeField(value, 'range', path);
  if (range !== undefined) entry.range = range;
  return entry;
}

const COMMON_KEYS = ['profile', 'memoryBlockMiB', 'hibernation', 'pressureReportDelay'] as const;
const KEYS: Record<GuestProfileName, readonly string[]> = {
  linux: [...COMMON_KEYS, 'memory'],
  windows: [...COMMON_KEYS, 'reserveMiB', 'pageFileMiB'],
  malicious: [...COMMON_KEYS, 'memory', 'seed', 'plan'],
};

/**
 * Check an untrusted profile config. A bare name ("linux") means that profile with defaults.
 * `path` prefixes field names in errors (the VM config passes e.g. "guest").
 */
export function validateGuestProfile(value: unknown, path = 'guest'): GuestProfileConfig {
  if (typeof value === 'string') value = { profile: value };
  if (!isRecord(value)) fail(path, `a profile name (${GUEST_PROFILE_NAMES.join(', ')}) or an object { profile, ... }`, value);
  const name = value['profile'];
  if (typeof name !== 'string' || !(GUEST_PROFILE_NAMES as readonly string[]).includes(name)) {
    fail(`${path}.profile`, `one of ${GUEST_PROFILE_NAMES.join(', ')}`, name);
  }
  const profile = name as GuestProfileName;
  checkKeys(value, KEYS[profile], path, `the ${profile} profile`);

  const common: CommonProfileOptions = {};
  const block = value['memoryBlockMiB'];
  if (block !== undefined) {
    if (typeof block !== 'number' || !Number.isSafeInteger(block) || block < 1 || block > MAX_MEMORY_BLOCK_MIB || (block & (block - 1)) !== 0) {
      fail(`${path}.memoryBlockMiB`, `a power of two from 1 to ${MAX_MEMORY_BLOCK_MIB} (MiB)`, block);
    }
    common.memoryBlockMiB = block;
  }
  const hibernation = value['hibernation'];
  if (hibernation !== undefined) {
    if (typeof hibernation !== 'boolean') fail(`${path}.hibernation`, 'true or false', hibernation);
    common.hibernation = hibernation;
  }
  const delay = intField(value, 'pressureReportDelay', path, 0, MAX_PRESSURE_REPORT_DELAY);
  if (delay !== undefined) common.pressureReportDelay = delay;
  if (value['memory'] !== undefined) {
    try {
      resolveLinuxMemory(value['memory'], `${path}.memory`);
    } catch (err) {
      if (err instanceof LinuxMemoryParamError) throw new GuestProfileError(err.field, err.message);
      throw err;
    }
    common.memory = value['memory'] as LinuxMemoryOptions;
  }

  switch (profile) {
    case 'linux':
      return { profile, ...common };
    case 'windows': {
      const out: WindowsProfileConfig = { profile, ...common };
      const reserve = intField(value, 'reserveMiB', path, 0, MAX_RESERVE_MIB);
      if (reserve !== undefined) out.reserveMiB = reserve;
      const pageFile = intField(value, 'pageFileMiB', path, 0, MAX_PAGE_FILE_MIB);
      if (pageFile !== undefined) out.pageFileMiB = pageFile;
      return out;
    }
    case 'malicious': {
      const out: MaliciousProfileConfig = { profile, ...common };
      const seed = value['seed'];
      if (seed !== undefined) {
        if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) fail(`${path}.seed`, 'a safe integer', seed);
        out.seed = seed;
      }
      const plan = value['plan'];
      if (plan !== undefined) {
        if (!Array.isArray(plan)) fail(`${path}.plan`, 'an array of misbehaviours', plan);
        out.plan = plan.map((entry, i) => validatePlanEntry(entry, `${path}.plan[${i}]`));
      }
      return out;
    }
  }
}

/**
 * The numbers the statechart uses. Validates first, so a typed config with a bad value (say a
 * memoryBlockMiB of 100) still fails with a GuestProfileError. `seed` is the driver's seed.
 */
export function resolveGuestProfile(config: GuestProfileConfig, seed: number, path = 'guest'): ResolvedGuestProfile {
  const c = validateGuestProfile(config, path);
  const blockMiB = c.memoryBlockMiB ?? DEFAULT_MEMORY_BLOCK_MIB;
  const windows = c.profile === 'windows';
  const base: ResolvedGuestProfile = {
    name: c.profile,
    memoryBlockPages: blockMiB * PAGES_PER_MIB,
    hotAddAlignment: Math.round(Math.log2(blockMiB)),
    hibernation: c.hibernation ?? false,
    // Linux module parameter pressure_report_delay = 45; Windows: no such delay is known (assumption).
    pressureReportDelay: c.pressureReportDelay ?? (windows ? 0 : PRESSURE_REPORT_DELAY_CALLS),
    balloonAllocation: windows ? 'contiguous' : 'units',
    statusFields: windows ? 'windows' : 'linux',
    reservePages: 0,
    maxBalloonRequestPages: null,
    pageFilePages: 0,
    malicious: null,
  };
  if (c.profile === 'windows') {
    base.reservePages = (c.reserveMiB ?? DEFAULT_WINDOWS_RESERVE_MIB) * PAGES_PER_MIB;
    // QEMU hv-balloon.c HV_BALLOON_HR_CHUNK_PAGES: larger requests are not honoured by Windows.
    base.maxBalloonRequestPages = BALLOON_CHUNK_PAGES;
    base.pageFilePages = (c.pageFileMiB ?? DEFAULT_WINDOWS_PAGE_FILE_MIB) * PAGES_PER_MIB;
  }
  if (c.profile === 'malicious') {
    if (!Number.isSafeInteger(seed)) fail('seed', 'a safe integer', seed);
    const planSeed = c.seed ?? seed;
    base.malicious = { seed: planSeed, plan: resolvePlan(c.plan ?? defaultPlanEntries(), planSeed) };
  }
  return base;
}
