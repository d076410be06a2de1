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
import { sweep1000Bench } from './sweep.bench';

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
];
