/**
 * Every benchmark, in the order `hv-balloon-sim bench` runs them. To add one, import it and append
 * it to the array.
 */
import type { Benchmark } from './benchmark';
import { cliStartupBench } from './cli-startup.bench';
import { rangeTree1TiB, rangeTreeMerge1M, rangeTreeMetadata } from './range-tree.bench';
import { busMessagesBench, clockTimersBench } from './runtime.bench';
import { vmBalloon200gBench, vmIdleHourBench } from './vm.bench';
import { host100VmDayBench } from './host.bench';
import { soak7DaysBench } from './soak.bench';
import { vmVirtioBalloon4gBench } from './virtio.bench';
import { sweep1000Bench, sweepRing1000Bench } from './sweep.bench';
import { vmBalloon1tBench, vmUnballoon200gBench } from './perf-balloon.bench';
import { deviceTrees1TiBBench, vmIdleHeapBench } from './perf-heap.bench';

export const BENCHMARKS: readonly Benchmark[] = [
  clockTimersBench,
  busMessagesBench,
  rangeTreeMerge1M,
  rangeTree1TiB,
  rangeTreeMetadata,
  vmBalloon200gBench,
  vmIdleHourBench,
  soak7DaysBench,
  vmVirtioBalloon4gBench,
  cliStartupBench,
  host100VmDayBench,
  sweep1000Bench,
  sweepRing1000Bench,
  vmBalloon1tBench,
  vmUnballoon200gBench,
  deviceTrees1TiBBench,
  vmIdleHeapBench,
];
