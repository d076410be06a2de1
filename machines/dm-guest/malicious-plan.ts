/**
 * The malicious guest profile: a Linux guest whose answers are corrupted on purpose, following a
 * plan. Each misbehaviour is one of the cases QEMU's hv-balloon.c has to survive (see
 * docs/host-device.md): pages outside RAM, ROM and MMIO pages, pages reported twice, overlapping
 * ranges, messages the host does not expect in its state, truncated messages and range counts
 * that do not fit the message. Pure: the plan is resolved from (config, seed) once; the helpers
 * build corrupted range lists and byte copies. The statechart sends them and logs each one.
 */
import type { PageRange } from '../../protocol/messages';
import { SeededPrng } from '../seeded-prng';

/** Fire on the n-th DM_BALLOON_RESPONSE the guest sends after boot (1-based, retries not counted). */
export const RESPONSE_MISBEHAVIOURS = [
  'outsideRam',
  'duplicatePages',
  'romPages',
  'mmioPages',
  'overlappingRanges',
  'truncatedMessage',
  'rangeCountMismatch',
] as const;
/** Fire `atMs` of virtual time after the handshake completed: messages in the wrong state. */
export const TIMED_MISBEHAVIOURS = [
  'unsolicitedUnballoonResponse',
  'unsolicitedHotAddResponse',
  'versionRequestAfterInit',
  'capsReportAfterInit',
] as const;
/** Fire on the n-th DM_MEM_HOT_ADD_RESPONSE. */
export const HOT_ADD_MISBEHAVIOURS = ['inflatedHotAddCount'] as const;

export type ResponseMisbehaviourKind = (typeof RESPONSE_MISBEHAVIOURS)[number];
export type TimedMisbehaviourKind = (typeof TIMED_MISBEHAVIOURS)[number];
export type HotAddMisbehaviourKind = (typeof HOT_ADD_MISBEHAVIOURS)[number];
export type MisbehaviourKind = ResponseMisbehaviourKind | TimedMisbehaviourKind | HotAddMisbehaviourKind;

export const MISBEHAVIOUR_KINDS: readonly MisbehaviourKind[] = [
  ...RESPONSE_MISBEHAVIOURS,
  ...TIMED_MISBEHAVIOURS,
  ...HOT_ADD_MISBEHAVIOURS,
];

/** One plan entry as a user writes it; missing fields are drawn from the seed. */
export interface MaliciousPlanEntry {
  kind: MisbehaviourKind;
  /** Response kinds: which balloon response (1 = the first after boot). Default: seeded 1..3. */
  response?: number;
  /** Timed kinds: virtual ms after the handshake completed. Default: seeded 2,000..30,000. */
  atMs?: number;
  /** inflatedHotAddCount: which hot-add response (1-based). Default 1. */
  hotAdd?: number;
  /** outsideRam, romPages, mmioPages: the pages to report. Default: seeded, see resolvePlan. */
  range?: PageRange;
  /** inflatedHotAddCount: pages added to page_count; unsolicitedHotAddResponse: its page_count. Default seeded. */
  pages?: number;
  /** rangeCountMismatch: how many ranges range_count claims beyond those carried. Default seeded 1..8. */
  extraRanges?: number;
}

/** A plan entry with every field decided. */
export type Misbehaviour =
  | { kind: 'outsideRam' | 'romPages' | 'mmioPages'; response: number; range: PageRange }
  | { kind: 'duplicatePages' | 'overlappingRanges' | 'truncatedMessage'; response: number }
  | { kind: 'rangeCountMismatch'; response: number; extraRanges: number }
  | { kind: 'unsolicitedUnballoonResponse' | 'versionRequestAfterInit' | 'capsReportAfterInit'; atMs: number }
  | { kind: 'unsolicitedHotAddResponse'; atMs: number; pages: number }
  | { kind: 'inflatedHotAddCount'; hotAdd: number; pages: number };

export type ResponseMisbehaviour = Extract<Misbehaviour, { response: number }>;
export type TimedMisbehaviour = Extract<Misbehaviour, { atMs: number }>;
export type HotAddMisbehaviour = Extract<Misbehaviour, { hotAdd: number }>;

export function isResponseKind(kind: MisbehaviourKind): kind is ResponseMisbehaviourKind {
  return (RESPONSE_MISBEHAVIOURS as readonly string[]).includes(kind);
}
export function isTimedKind(kind: MisbehaviourKind): kind is TimedMisbehaviourKind {
  return (TIMED_MISBEHAVIOURS as readonly string[]).includes(kind);
}

/**
 * Non-RAM pages of a QEMU `pc` machine (machines/pc-memory-map.ts): ROM is pc.bios
 * 0xFFFC0000-0xFFFFFFFF (0xC0000-0xFFFFF is pc.ram behind PAM aliases once SeaBIOS ran, which
 * hv-balloon takes as ordinary RAM); MMIO: the VGA window 0xA0000-0xBFFFF and the IOAPIC /
 * local APIC pages inside the PCI hole.
 */
const ROM_AREAS: readonly PageRange[] = [
  { startPage: 0xfffc0, pageCount: 32 },
  { startPage: 0xfffe0, pageCount: 32 },
  { startPage: 0xfffc0, pageCount: 64 },
];
const MMIO_AREAS: readonly PageRange[] = [
  { startPage: 0xa0, pageCount: 32 },
  { startPage: 0xfec00, pageCount: 1 },
  { startPage: 0xfee00, pageCount: 1 },
];
/** "Outside RAM": 2 MiB-aligned, between 256 TiB and 384 TiB, which no simulated machine has. */
const OUTSIDE_RAM_FIRST_PAGE = 2 ** 36;
const OUTSIDE_RAM_SLOTS = 2 ** 26;

/** The plan used when the profile gives none: every misbehaviour once. */
export function defaultPlanEntries(): MaliciousPlanEntry[] {
  return MISBEHAVIOUR_KINDS.map((kind) => ({ kind }));
}

/**
 * Decide every field of the plan from the seed, in entry order (the same (entries, seed) always
 * gives the same plan). Timed entries keep their order by time.
 */
export function resolvePlan(entries: readonly MaliciousPlanEntry[], seed: number): Misbehaviour[] {
  const prng = new SeededPrng(seed);
  const pick = (areas: readonly PageRange[]): PageRange => {
    const area = areas[prng.nextInt(0, areas.length - 1)]!;
    const count = prng.nextInt(1, area.pageCount);
    return { startPage: area.startPage + prng.nextInt(0, area.pageCount - count), pageCount: count };
  };
  const out: Misbehaviour[] = [];
  for (const e of entries) {
    switch (e.kind) {
      case 'outsideRam':
      case 'romPages':
      case 'mmioPages': {
        const response = e.response ?? prng.nextInt(1, 3);
        let range = e.range;
        if (range === undefined) {
          if (e.kind === 'romPages') range = pick(ROM_AREAS);
          else if (e.kind === 'mmioPages') range = pick(MMIO_AREAS);
          else {
            const start = OUTSIDE_RAM_FIRST_PAGE + prng.nextInt(0, OUTSIDE_RAM_SLOTS - 1) * 512;
            range = { startPage: start, pageCount: prng.nextInt(1, 512) };
          }
        }
        out.push({ kind: e.kind, response, range: { ...range } });
        break;
      }
      case 'duplicatePages':
      case 'overlappingRanges':
      case 'truncatedMessage':
        out.push({ kind: e.kind, response: e.response ?? prng.nextInt(1, 3) });
        break;
      case 'rangeCountMismatch':
        out.push({ kind: e.kind, response: e.response ?? prng.nextInt(1, 3), extraRanges: e.extraRanges ?? prng.nextInt(1, 8) });
        break;
      case 'unsolicitedUnballoonResponse':
      case 'versionRequestAfterInit':
      case 'capsReportAfterInit':
        out.push({ kind: e.kind, atMs: e.atMs ?? prng.nextInt(2_000, 30_000) });
        break;
      case 'unsolicitedHotAddResponse':
        out.push({ kind: e.kind, atMs: e.atMs ?? prng.nextInt(2_000, 30_000), pages: e.pages ?? prng.nextInt(1, 65_536) });
        break;
      case 'inflatedHotAddCount':
        out.push({ kind: e.kind, hotAdd: e.hotAdd ?? 1, pages: e.pages ?? prng.nextInt(1, 4096) });
        break;
    }
  }
  return out;
}

/** The timed entries in firing order (by time, then plan order). */
export function timedSchedule(plan: readonly Misbehaviour[]): TimedMisbehaviour[] {
  return plan
    .filter((m): m is TimedMisbehaviour => 'atMs' in m)
    .map((m, i) => ({ m, i }))
    .sort((a, b) => a.m.atMs - b.m.atMs || a.i - b.i)
    .map(({ m }) => m);
}

/** The entries that corrupt balloon response number `n`. */
export function misbehavioursForResponse(plan: readonly Misbehaviour[], n: number): ResponseMisbehaviour[] {
  return plan.filter((m): m is ResponseMisbehaviour => 'response' in m && m.response === n);
}

/** The entries that corrupt hot-add response number `n`. */
export function misbehavioursForHotAdd(plan: readonly Misbehaviour[], n: number): HotAddMisbehaviour[] {
  return plan.filter((m): m is HotAddMisbehaviour => 'hotAdd' in m && m.hotAdd === n);
}

/** Fake ranges these entries add to a response (so the real ranges leave room: 510 at most). */
export function injectedRangeCount(list: readonly ResponseMisbehaviour[]): number {
  return list.filter((m) => m.kind !== 'truncatedMessage' && m.kind !== 'rangeCountMismatch').length;
}

/** What a misbehaviour did, for the log. */
export interface MisbehaviourNote {
  kind: MisbehaviourKind;
  text: string;
}

/** A corrupted range list and what was done. */
export interface CorruptedRanges {
  ranges: PageRange[];
  notes: MisbehaviourNote[];
}

function hexRange(r: PageRange): string {
  return `0x${r.startPage.toString(16)}+${r.pageCount}`;
}

/**
 * The range list of balloon response `n` after the range-level misbehaviours: fake ranges are
 * appended after the real ones. `earlier` is a range an earlier response already reported (the
 * pages a duplicate re-reports), or null before any.
 */
export function corruptRanges(
  real: readonly PageRange[],
  list: readonly ResponseMisbehaviour[],
  earlier: PageRange | null,
  n: number,
): CorruptedRanges {
  const ranges = real.map((r) => ({ ...r }));
  const notes: MisbehaviourNote[] = [];
  for (const m of list) {
    switch (m.kind) {
      case 'outsideRam':
        ranges.push({ ...m.range });
        notes.push({ kind: m.kind, text: `balloon response #${n} reports ${m.range.pageCount} pages outside RAM at ${hexRange(m.range)}` });
        break;
      case 'romPages':
        ranges.push({ ...m.range });
        notes.push({ kind: m.kind, text: `balloon response #${n} reports ${m.range.pageCount} ROM pages at ${hexRange(m.range)}` });
        break;
      case 'mmioPages':
        ranges.push({ ...m.range });
        notes.push({ kind: m.kind, text: `balloon response #${n} reports ${m.range.pageCount} MMIO pages at ${hexRange(m.range)}` });
        break;
      case 'duplicatePages': {
        const dup = earlier ?? real[0];
        if (dup === undefined) {
          notes.push({ kind: m.kind, text: `balloon response #${n}: no pages reported yet, nothing to duplicate` });
          break;
        }
        ranges.push({ ...dup });
        notes.push({
          kind: m.kind,
          text: `balloon response #${n} reports ${hexRange(dup)} again (${earlier !== null ? 'already returned in an earlier response' : 'twice in this response'})`,
        });
        break;
      }
      case 'overlappingRanges': {
        // An empty response (the guest is at its floor) has no real range: fall back to an earlier
        // one, and to nothing at all before any (both undefined and null mean "none").
        const base = real[0] ?? earlier ?? undefined;
        if (base === undefined) {
          notes.push({ kind: m.kind, text: `balloon response #${n}: no range to overlap` });
          break;
        }
        // Half of the base range plus as many pages after it: overlaps, and claims pages the
        // guest may still be using.
        const overlap =
          base.pageCount >= 2
            ? { startPage: base.startPage + Math.floor(base.pageCount / 2), pageCount: base.pageCount }
            : { startPage: base.startPage, pageCount: 2 };
        ranges.push(overlap);
        notes.push({ kind: m.kind, text: `balloon response #${n} reports ${hexRange(overlap)}, overlapping ${hexRange(base)}` });
        break;
      }
      case 'truncatedMessage':
      case 'rangeCountMismatch':
        break; // byte-level, see corruptedCopies
    }
  }
  return { ranges, notes };
}

/** A malformed copy of a message, sent just before the real one. */
export interface CorruptedCopy {
  bytes: Uint8Array;
  note: MisbehaviourNote;
}

/**
 * Byte-level misbehaviours of balloon response `n`, as extra messages sent before the real one
 * (so the host's transaction can still complete):
 * - truncatedMessage: only the 8-byte header (hdr.size still claims the full size); QEMU drops
 *   it as too short.
 * - rangeCountMismatch: range_count claims `extraRanges` more ranges than the message carries;
 *   QEMU ignores the whole message.
 * `encoded` is the correct encoding (with its own trans_id; the caller patches a fresh one in).
 */
export function corruptedCopies(encoded: Uint8Array, list: readonly ResponseMisbehaviour[], n: number): CorruptedCopy[] {
  const out: CorruptedCopy[] = [];
  for (const m of list) {
    if (m.kind === 'truncatedMessage') {
      out.push({
        bytes: encoded.slice(0, 8),
        note: { kind: m.kind, text: `balloon response #${n} sent truncated to 8 of ${encoded.length} bytes (hdr.size says ${encoded.length})` },
      });
    } else if (m.kind === 'rangeCountMismatch') {
      const bytes = encoded.slice();
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const word = view.getUint32(12, true);
      const carried = word >>> 1;
      const claimed = carried + m.extraRanges;
      // PROTO dm_balloon_response: bit 0 more_pages, bits 1-31 range_count.
      view.setUint32(12, ((claimed * 2) | (word & 1)) >>> 0, true);
      out.push({
        bytes,
        note: { kind: m.kind, text: `balloon response #${n} claims range_count ${claimed} but carries ${carried} ranges` },
      });
    }
  }
  return out;
}

/** Write a trans_id into an encoded DM message (header bytes 4-7). */
export function withTransId(bytes: Uint8Array, transId: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer, copy.byteOffset, copy.byteLength).setUint32(4, transId >>> 0, true);
  return copy;
}
