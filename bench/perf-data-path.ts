/**
 * The 1 TiB run's data path without XState: the same DM messages encoded and read by our codec (the
 * device reads a balloon response's ranges in place, as in the VM), and accounted as the device and
 * the guest account them — the guest memory model allocating the
 * balloon units and reporting its status, the device classifying the returned ranges, recording
 * them in its range trees and discarding the host memory. What is left of vm-balloon-1t's wall
 * time once this is subtracted is the machinery around it (statecharts, bus, clock).
 */
import type { MachineMemory } from '../machines/machine-memory';
import { recordRemovedRanges, RemovedPageTrees } from '../machines/hv-balloon-device/removed-pages';
import { DeviceOutput } from '../machines/hv-balloon-device/output';
import { packetEvent } from '../machines/hv-balloon-device/packets';
import { encodeBalloonResponseUnits } from '../protocol/balloon-response-units';
import { decode, encode } from '../protocol/codec';
import { normalizeVmConfig, type VmConfigInput } from '../actors/vm/vm-config';
import { guestMemory } from '../actors/vm/vm-runtime';
import type { DmMessage } from '../protocol/messages';
import { cpuNowMs } from './perf-measure';

export interface CapturedPacket {
  from: 'host' | 'guest';
  payload: Uint8Array;
}

/** The guest memory of a VM config, built by the VM runtime's own builder (as createVm builds it). */
export function memoryOf(input: VmConfigInput): MachineMemory {
  return guestMemory(normalizeVmConfig(input));
}

const pagesOf = (m: Extract<DmMessage, { type: 'DM_BALLOON_RESPONSE' }>): number => m.ranges.reduce((n, r) => n + r.pageCount, 0);

export interface DataPathResult {
  /** Wall ms of the whole replay. */
  ms: number;
  cpuMs: number;
  /** Wall ms of its parts: decode + encode, the guest memory model, the device's classification and trees. */
  codecMs: number;
  guestMs: number;
  deviceMs: number;
  /** Pages the device recorded (the caller checks them against the VM run). */
  recordedPages: number;
}

/** Replays `packets` through the data path on `memory` (fresh) and fresh device trees, once. */
export function runDataPathOnce(packets: readonly CapturedPacket[], memory: MachineMemory): DataPathResult {
  const trees = new RemovedPageTrees();
  let recordedPages = 0;
  let sink = 0;
  let codecMs = 0;
  let guestMs = 0;
  let deviceMs = 0;
  // The message as its sender holds it before encoding: rebuilt from the captured bytes, and that
  // time left out (in the VM the guest's part of building it is its memory model's allocation,
  // timed below). Decoding each just before its use keeps the live heap small, as in the VM.
  // Only performance.now() inside the loop: process.cpuUsage() is a system call of ~2.7 us here,
  // and two per packet added ~11 ms to a ~13 ms replay. CPU time is read once around the loop, the
  // sender's part taken off at its wall time (it is single-threaded work).
  let senderMs = 0;
  const cpu0 = cpuNowMs();
  const t0 = performance.now();
  for (let i = 0; i < packets.length; i++) {
    let t = performance.now();
    const message = decode(packets[i]!.payload);
    const t2 = performance.now();
    senderMs += t2 - t;
    // The sender encodes, the receiver reads, as the VM's parts do: the Linux guest encodes a
    // balloon response from runs of units, the device reads its ranges in place (packetEvent),
    // the guest decodes what it receives.
    t = t2;
    let bytes: Uint8Array;
    if (message.type === 'DM_BALLOON_RESPONSE') {
      // The guest takes the pages from its memory model as runs of units (2 MiB units where the
      // ranges are whole units)...
      const pages = pagesOf(message);
      const unit = message.ranges.every((r) => r.pageCount % 512 === 0) ? 512 : 1;
      const runs = pages > 0 ? memory.allocateBalloonUnitRuns(unit, pages / unit) : [];
      const got = runs.reduce((n, r) => n + r.pageCount, 0);
      if (got !== pages) throw new Error(`data path: the memory model gave ${got} pages where the run ballooned ${pages}`);
      const t3 = performance.now();
      guestMs += t3 - t;
      t = t3;
      bytes = encodeBalloonResponseUnits(message.transId, message.morePages, runs, unit);
    } else {
      bytes = encode(message);
    }
    const received = packets[i]!.from === 'guest' ? packetEvent(bytes) : undefined;
    if (received === undefined) decode(bytes);
    sink += bytes.length;
    let t1 = performance.now();
    codecMs += t1 - t;
    if (message.type === 'DM_BALLOON_RESPONSE') {
      t = t1;
      // ...and the device classifies and records the ranges the message carries.
      const out = new DeviceOutput();
      const ranges = received?.type === 'DM_BALLOON_RESPONSE' ? received.wireRanges : undefined;
      if (!ranges) throw new Error('data path: a balloon response whose ranges the device cannot read');
      const recorded = recordRemovedRanges(ranges, { trees, memory, ourWindow: undefined, out });
      recordedPages += recorded.both + recorded.guest;
      t1 = performance.now();
      deviceMs += t1 - t;
    } else if (message.type === 'DM_STATUS_REPORT') {
      // The guest's status figures, as it reports them.
      sink += memory.committedPages() + memory.availablePages();
      guestMs += performance.now() - t1;
    }
  }
  const ms = performance.now() - t0 - senderMs;
  const cpuMs = cpuNowMs() - cpu0 - senderMs;
  if (sink < 0) throw new Error('unreachable');
  return { ms, cpuMs, codecMs, guestMs, deviceMs, recordedPages };
}

/**
 * The data path timed as vm-balloon-1t times the VM's phase: `warmUps` untimed replays (so the code
 * is compiled, as the VM's phase is after its warm-up), then the median of `runs` replays, each on
 * fresh memory from `freshMemory`.
 */
export function runDataPath(packets: readonly CapturedPacket[], freshMemory: () => MachineMemory, warmUps = 3, runs = 5): DataPathResult {
  for (let i = 0; i < warmUps; i++) runDataPathOnce(packets, freshMemory());
  const results: DataPathResult[] = [];
  for (let i = 0; i < runs; i++) results.push(runDataPathOnce(packets, freshMemory()));
  results.sort((a, b) => a.ms - b.ms);
  return results[Math.floor(results.length / 2)]!;
}
