/**
 * DM_STATUS_REPORT: what the guest reports and when (Linux drivers/hv/hv_balloon.c post_status,
 * get_pages_committed).
 * Pure: the caller samples the memory view and passes the numbers in.
 */
import { STATUS_PERIOD_MS } from '../../protocol/constants';
import type { DmStatusReport } from '../../protocol/messages';
import { SeededPrng } from '../seeded-prng';

/** The post_status gate (Linux hv_balloon.c post_status): start-up delay and rate limit. */
export interface StatusGate {
  /** Linux pressure_report_delay: post_status calls still to be swallowed. */
  delayCallsLeft: number;
  /** Virtual ms of the last report sent, null before the first. */
  lastSentAt: number | null;
}

export type PostStatusDecision =
  /** One of the first `pressure_report_delay` calls: count it down, send nothing. */
  | { kind: 'delayed'; delayCallsLeft: number }
  /** Not strictly more than 1 s since the last report: send nothing. */
  | { kind: 'rate-limited' }
  | { kind: 'send' };

/**
 * Linux hv_balloon.c post_status: each of the first `pressure_report_delay` calls (from any
 * caller) only decrements the counter; after that a report goes out only if strictly more than
 * one second (HZ) has passed since the last one.
 */
export function decidePostStatus(gate: StatusGate, nowMs: number, periodMs: number = STATUS_PERIOD_MS): PostStatusDecision {
  if (gate.delayCallsLeft > 0) return { kind: 'delayed', delayCallsLeft: gate.delayCallsLeft - 1 };
  if (gate.lastSentAt !== null && !(nowMs - gate.lastSentAt > periodMs)) return { kind: 'rate-limited' };
  return { kind: 'send' };
}

/** What the Linux driver knows when it builds a report, in 4 KiB pages. */
export interface LinuxStatusSample {
  /** si_mem_available(): MemAvailable. */
  availablePages: number;
  /** vm_memory_committed(): Committed_AS. */
  committedPages: number;
  /** num_pages_ballooned. */
  balloonedPages: number;
  /** num_pages_added (hot-add responses' page counts). */
  addedPages: number;
  /** num_pages_onlined. */
  onlinedPages: number;
  /** compute_balloon_floor(). */
  floorPages: number;
}

/**
 * Linux hv_balloon.c get_pages_committed: Committed_AS + ballooned + hot-added-not-onlined
 * (so the host does not ask for them back) + the floor (so the host does not push below it).
 */
export function linuxCommittedPages(s: LinuxStatusSample): number {
  return s.committedPages + s.balloonedPages + Math.max(0, s.addedPages - s.onlinedPages) + s.floorPages;
}

/** Linux fills num_avail and num_committed only; the other four fields stay 0. */
export function linuxStatusReport(transId: number, s: LinuxStatusSample): DmStatusReport {
  return {
    type: 'DM_STATUS_REPORT',
    transId,
    numAvail: BigInt(Math.max(0, Math.floor(s.availablePages))),
    numCommitted: BigInt(Math.max(0, Math.floor(linuxCommittedPages(s)))),
    pageFileSize: 0n,
    zeroFree: 0n,
    pageFileWrites: 0,
    ioDiff: 0,
  };
}

/** What the Windows-like profile samples for a report, in 4 KiB pages. */
export interface WindowsStatusSample {
  availablePages: number;
  committedPages: number;
  balloonedPages: number;
  /** Free pages (MemFree), reported as zero+free pages. */
  freePages: number;
  /** Managed (online, not ballooned) pages: the base of the simulated paging pressure. */
  managedPages: number;
  /** The configured page-file size. */
  pageFilePages: number;
}

const U32_MAX = 0xffff_ffff;

/**
 * The Windows-like profile fills all six fields, as Windows does from its native counters (field
 * meanings: the struct dm_status comment in Linux hv_balloon.c; Windows' exact values are not
 * published). What this simulator reports, all assumptions:
 * - num_avail: MemAvailable of the memory model.
 * - num_committed: Committed_AS + ballooned pages (the balloon driver's locked pages are commit
 *   charge in Windows; no Linux floor).
 * - page_file_size: the profile's configured page file.
 * - zero_free: the memory model's free pages (Windows' zeroed + free lists).
 * - page_file_writes and io_diff: seeded pseudo-random counters, drawn from (seed, report
 *   number) so a run repeats exactly; page-file writes grow with commit beyond managed memory.
 */
export function windowsStatusReport(transId: number, s: WindowsStatusSample, seed: number, reportNumber: number): DmStatusReport {
  const prng = new SeededPrng(mixSeed(seed, reportNumber));
  const overcommit = Math.max(0, s.committedPages - s.managedPages);
  const writes = overcommit > 0 ? Math.floor((overcommit / 16) * (0.5 + prng.nextFloat())) : prng.nextInt(0, 3);
  const ioDiff = prng.nextInt(0, 255);
  return {
    type: 'DM_STATUS_REPORT',
    transId,
    numAvail: BigInt(Math.max(0, Math.floor(s.availablePages))),
    numCommitted: BigInt(Math.max(0, Math.floor(s.committedPages + s.balloonedPages))),
    pageFileSize: BigInt(Math.max(0, Math.floor(s.pageFilePages))),
    zeroFree: BigInt(Math.max(0, Math.floor(s.freePages))),
    pageFileWrites: Math.min(U32_MAX, writes),
    ioDiff,
  };
}

/** A per-report seed from the driver seed: deterministic, safe-integer. */
export function mixSeed(seed: number, n: number): number {
  return ((seed % 0x10_0000_0000) * 0x1_0000 + (n % 0x1_0000)) % Number.MAX_SAFE_INTEGER;
}
