/**
 * Issue #14's memory benchmarks, measured on the heap (after full collections, over many copies so
 * that allocator noise averages out), never estimated. device-trees-1tib: the device's four
 * removed-page range trees holding one contiguous ballooned TiB. vm-idle-heap: what an idle VM with
 * status reports holds after one virtual hour.
 */
import { RemovedPageTrees } from '../machines/hv-balloon-device/removed-pages';
import { createVm, type Vm } from '../actors/vm/create-vm';
import { VirtualClock } from '../actors/virtual-clock';
import type { Benchmark } from './benchmark';
import { heapUsedAfterGc } from './heap';
import { loadAverage } from './perf-measure';

const PAGES_PER_TIB = 2 ** 40 / 4096;
/** What one Linux balloon response adds: 510 ranges of 2 MiB, contiguous, merged into one run by the device. */
const PAGES_PER_RESPONSE = 510 * 512;

/** The trees as the 1 TiB run leaves them: one run recorded per balloon response, ascending. */
function treesHoldingOneTiB(startPage: number): RemovedPageTrees {
  const trees = new RemovedPageTrees();
  for (let done = 0; done < PAGES_PER_TIB; done += PAGES_PER_RESPONSE) {
    trees.globalBoth.insert(startPage + done, Math.min(PAGES_PER_RESPONSE, PAGES_PER_TIB - done));
  }
  if (trees.globalBoth.totalPages !== PAGES_PER_TIB || trees.globalBoth.rangeCount !== 1) throw new Error('device-trees-1tib: expected one 1 TiB range');
  return trees;
}

export const deviceTrees1TiBBench: Benchmark = {
  name: 'device-trees-1tib',
  description: "heap of the device's removed-page range trees (QEMU's four trees) holding one contiguous ballooned TiB, built as the 1 TiB run builds it; measured over 2,000 copies",
  target: { figure: 'heapBytes', op: '<=', value: 128, unit: 'B' },
  run() {
    const copies = 2000;
    const kept: RemovedPageTrees[] = new Array<RemovedPageTrees>(copies);
    const before = heapUsedAfterGc();
    for (let i = 0; i < copies; i++) kept[i] = treesHoldingOneTiB(0x101800);
    const heapBytes = (heapUsedAfterGc() - before) / copies;
    const emptyKept: RemovedPageTrees[] = new Array<RemovedPageTrees>(copies);
    const beforeEmpty = heapUsedAfterGc();
    for (let i = 0; i < copies; i++) emptyKept[i] = new RemovedPageTrees();
    const emptyBytes = (heapUsedAfterGc() - beforeEmpty) / copies;
    if (kept.length + emptyKept.length !== 2 * copies) throw new Error('unreachable');
    return { heapBytes: Math.round(heapBytes), emptyTreesBytes: Math.round(emptyBytes), loadAvg1: loadAverage() };
  },
};

const IDLE_VM = { machine: { memory: '4G' }, device: { statusReport: true }, guest: { profile: 'linux' as const } };

export const vmIdleHeapBench: Benchmark = {
  name: 'vm-idle-heap',
  description: 'heap per VM of 100 idle 4 GiB Linux VMs with status reports on, after one virtual hour (one clock, as on a host)',
  target: { figure: 'bytesPerVm', op: '<=', value: 64 * 1024, unit: 'B' },
  // 100 VM-hours per run: three runs, no warm-up (a small VM warms the code up first).
  repeats: 3,
  warmUp: false,
  run() {
    const warm = createVm(IDLE_VM);
    warm.run(120_000);
    warm.dispose();
    const count = 100;
    const clock = new VirtualClock();
    const before = heapUsedAfterGc();
    const vms: Vm[] = [];
    for (let i = 0; i < count; i++) vms.push(createVm({ ...IDLE_VM, seed: i + 1 }, { clock }));
    const afterBoot = heapUsedAfterGc();
    const t0 = performance.now();
    clock.advance(3_600_000);
    const wallMs = performance.now() - t0;
    const after = heapUsedAfterGc();
    const reports = vms.reduce((n, vm) => n + (vm.messageCounts().DM_STATUS_REPORT ?? 0), 0);
    for (const vm of vms) vm.dispose();
    return {
      bytesPerVm: Math.round((after - before) / count),
      bytesPerVmAtStart: Math.round((afterBoot - before) / count),
      statusReportsPerVm: Math.round(reports / count),
      wallMs: Math.round(wallMs),
      loadAvg1: loadAverage(),
    };
  },
};
