/**
 * The 1 TiB run's data path without XState: the same DM messages encoded and decoded by our codec,
 * and accounted as the device and the guest account them — the guest memory model allocating the
 * balloon units and reporting its status, the device classifying the returned ranges, recording
 * them in its range trees and discarding the host memory. What is left of vm-balloon-1t's wall
 * time once this is subtracted is the machinery around it (statecharts, bus, clock).
 */
import { MachineMemory } from '../machines/machine-memory';
import { recordRemovedRanges, RemovedPageTrees } from '../machines/hv-balloon-device/removed-pages';
import { DeviceOutput } from '../machines/hv-balloon-device/output';
import { decode, encode } from '../protocol/codec';
import { cpuNowMs } from './perf-measure';
import { normalizeVmConfig, type VmConfigInput } from '../actors/vm/vm-config';
import type { DmMessage } from '../protocol/messages';

export interface CapturedPacket {
  from: 'host' | 'guest';
  payload: Uint8Array;
}

/** The guest memory of a VM config, built as createVm builds it. */
export function memoryOf(input: VmConfigInput): MachineMemory {
  const config = normalizeVmConfig(input);
  return new MachineMemory({
    machineType: config.machineType,
    ramBytes: config.memoryBytes,
    maxmemBytes: config.maxmemBytes,
    slots: config.slots,
    memdevHugepages: config.memdevHugepages,
    linux: config.guest.memory,
  });
}

const pagesOf = (m: Extract<DmMessage, { type: 'DM_BALLOON_RESPONSE' }>): number => m.ranges.reduce((n, r) => n + r.pageCount, 0);

/**
 * Replays `packets` through the data path on a fresh memory model and fresh device trees; returns
 * the ms it took and the pages the device recorded (the caller checks them against the VM run).
 */
export function runDataPath(packets: readonly CapturedPacket[], memory: MachineMemory): { ms: number; cpuMs: number; recordedPages: number } {
  const trees = new RemovedPageTrees();
  let recordedPages = 0;
  let sink = 0;
  const cpu0 = cpuNowMs();
  const t0 = performance.now();
  for (const packet of packets) {
    // The sender encodes, the receiver decodes: both halves of the codec, once per message.
    const message = decode(packet.payload);
    sink += encode(message).length;
    if (message.type === 'DM_BALLOON_RESPONSE') {
      // The guest takes the pages from its memory model (2 MiB units where the ranges are whole units)...
      const pages = pagesOf(message);
      const unit = message.ranges.every((r) => r.pageCount % 512 === 0) ? 512 : 1;
      if (pages > 0) {
        const got = memory.allocateBalloonUnits(unit, pages / unit).reduce((n, r) => n + r.pageCount, 0);
        if (got !== pages) throw new Error(`data path: the memory model gave ${got} pages where the run ballooned ${pages}`);
      }
      // ...and the device classifies and records the ranges the message carries.
      const out = new DeviceOutput();
      const recorded = recordRemovedRanges(message.ranges, { trees, memory, ourWindow: undefined, out });
      recordedPages += recorded.both + recorded.guest;
    } else if (message.type === 'DM_STATUS_REPORT') {
      // The guest's status figures, as it reports them.
      sink += memory.committedPages() + memory.availablePages();
    }
  }
  const ms = performance.now() - t0;
  const cpuMs = cpuNowMs() - cpu0;
  if (sink < 0) throw new Error('unreachable');
  return { ms, cpuMs, recordedPages };
}
