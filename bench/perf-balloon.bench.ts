/**
 * Issue #14's whole-VM benchmarks. vm-balloon-1t: the 1 TiB run's balloon phase (a 1032 GiB Linux
 * guest asked down to 8 GiB; the run the golden trace terabyte-1032g holds), its wall and CPU time,
 * the XState events per DM message (counted in a separate, inspected run so the timed run is not
 * slowed), and the same messages' data path without XState. vm-unballoon-200g: giving 200 GiB back
 * to a 256 GiB guest.
 */
import { createVm, type Vm } from '../actors/vm/create-vm';
import { TERABYTE_BALLOON_AT_MS, TERABYTE_TARGET_BYTES, TERABYTE_VM } from '../actors/golden-trace/terabyte-run';
import type { Benchmark } from './benchmark';
import { dmMessageTotal, loadAverage, runUntilDone, timed, watchDeviceIdle } from './perf-measure';
import { XStateEventCounter } from './perf-xstate-events';
import { memoryOf, runDataPath, type CapturedPacket } from './perf-data-path';
import { ballooned256g, giveBack } from './perf-giveback';

const GiB = 2 ** 30;

/** The 1 TiB VM at the balloon command, with its idle flag down. */
function terabyteAtBalloon(counter?: XStateEventCounter): { vm: Vm; idle: { idle: boolean } } {
  const vm = createVm(TERABYTE_VM, counter ? { inspect: counter.inspect } : {});
  vm.runUntil(TERABYTE_BALLOON_AT_MS);
  return { vm, idle: watchDeviceIdle(vm) };
}

/** From the balloon command until the device is idle again (it stops at the guest's floor, 338 s). */
function balloonPhase(vm: Vm, idle: { idle: boolean }): void {
  vm.balloon(TERABYTE_TARGET_BYTES);
  runUntilDone(vm, () => idle.idle, 100, 600_000, 'vm-balloon-1t balloon phase');
}

interface Inspected {
  xstateEvents: number;
  xstateMicrosteps: number;
  xstateSentEvents: number;
  /** Events per part, as `events<Part>` figures. */
  byPart: Record<string, number>;
  dmMessages: number;
  packets: CapturedPacket[];
  removedPages: number;
}

let inspected: Inspected | undefined;

/**
 * Untimed balloon phases between the process's first one and the timed ones. V8 keeps compiling
 * and re-optimising the hot code for several 1 TiB phases (measured, load 7-8: CPU per phase 1,796,
 * 1,022, 701, 595, 480, 481, 484 ms; TurboFan compilations per phase 278, 192, 52, 50, 24, 6), so
 * with one warm-up the timed runs still lay on that curve, and where on it depended on the
 * machine's load (the compiler's background threads share the cores). After these the timed runs
 * measure one state: compiled code.
 */
export const WARM_UP_PHASES = 4;

/** The first balloon phase this process ran (cold: compiled while it runs), reported beside the warm figures. */
let firstPhase: { wallMs: number; cpuMs: number } | undefined;

/**
 * The first phase of a fresh VM from `make`, timed (cold), then `between`, then WARM_UP_PHASES
 * untimed phases; returns the cold phase's times. Each benchmark calls it once per process.
 */
function coldThenWarm<S extends { vm: Vm }>(make: () => S, phase: (setUp: S) => void, between?: () => void): { wallMs: number; cpuMs: number } {
  const cold = make();
  const { wallMs, cpuMs } = timed(() => phase(cold));
  cold.vm.dispose();
  between?.();
  for (let i = 0; i < WARM_UP_PHASES; i++) {
    const warm = make();
    phase(warm);
    warm.vm.dispose();
  }
  return { wallMs, cpuMs };
}

/** Once per process: the first phase (timed, cold), the inspected run, then WARM_UP_PHASES untimed phases. */
function warmUp(): { wallMs: number; cpuMs: number } {
  return (firstPhase ??= coldThenWarm(
    () => terabyteAtBalloon(),
    ({ vm, idle }) => balloonPhase(vm, idle),
    () => inspectedRun(),
  ));
}

/** The inspected run (once per process: its counts do not change between runs). */
function inspectedRun(): Inspected {
  if (inspected) return inspected;
  const counter = new XStateEventCounter();
  const { vm, idle } = terabyteAtBalloon(counter);
  const packets: CapturedPacket[] = [];
  let capture = false;
  vm.trace$.subscribe((r) => {
    if (capture && r.kind === 'packet') packets.push({ from: r.from, payload: r.payload });
  });
  const before = dmMessageTotal(vm);
  const removedBefore = vm.counters().device!.removedBothCtr + vm.counters().device!.removedGuestCtr;
  counter.counting = true;
  capture = true;
  balloonPhase(vm, idle);
  counter.counting = false;
  capture = false;
  const device = vm.counters().device!;
  inspected = {
    xstateEvents: counter.events,
    xstateMicrosteps: counter.microsteps,
    xstateSentEvents: counter.sentEvents,
    byPart: Object.fromEntries([...counter.byPart].map(([part, n]) => [`events${part.charAt(0).toUpperCase()}${part.slice(1)}`, n])),
    dmMessages: dmMessageTotal(vm) - before,
    packets,
    removedPages: device.removedBothCtr + device.removedGuestCtr - removedBefore,
  };
  vm.dispose();
  return inspected;
}

export const vmBalloon1tBench: Benchmark = {
  name: 'vm-balloon-1t',
  description:
    'whole VM: a 1032 GiB Linux guest ballooned towards 8 GiB (1 TiB in 2 MiB ranges; it stops at its floor): wall and CPU time of the balloon phase once the code is compiled (firstPhase*: the first phase in the process, cold), XState events per DM message, and the same messages through the data path without XState',
  target: { figure: 'wallMs', op: '<=', value: 250, unit: 'ms' },
  warmUpNote: `that also runs the cold first phase, the inspected run and ${WARM_UP_PHASES} untimed phases`,
  run() {
    const first = warmUp();
    const { vm, idle } = terabyteAtBalloon();
    const before = dmMessageTotal(vm);
    // No forced GC here: bench/heap.ts's forceGc turns --expose-gc on at run time, and code run
    // after that in the same process measured 2-3x slower (the data path: 290 -> 830-1590 ms).
    const { wallMs, cpuMs } = timed(() => balloonPhase(vm, idle));
    const dmMessages = dmMessageTotal(vm) - before;
    vm.dispose();
    const info = inspectedRun();
    if (info.dmMessages !== dmMessages) throw new Error(`vm-balloon-1t: the inspected run saw ${info.dmMessages} DM messages, the timed run ${dmMessages}`);
    // Timed as the phase is: after warm-up replays, the median of 5 (perf-data-path.ts).
    const dataPath = runDataPath(info.packets, () => memoryOf(TERABYTE_VM));
    if (dataPath.recordedPages !== info.removedPages) {
      throw new Error(`vm-balloon-1t: the data path recorded ${dataPath.recordedPages} pages, the VM ${info.removedPages}`);
    }
    return {
      wallMs: Math.round(wallMs * 10) / 10,
      cpuMs: Math.round(cpuMs * 10) / 10,
      firstPhaseWallMs: Math.round(first.wallMs * 10) / 10,
      firstPhaseCpuMs: Math.round(first.cpuMs * 10) / 10,
      dmMessages,
      xstateEvents: info.xstateEvents,
      eventsPerDmMessage: Math.round((info.xstateEvents / dmMessages) * 100) / 100,
      xstateSentEvents: info.xstateSentEvents,
      sentEventsPerDmMessage: Math.round((info.xstateSentEvents / dmMessages) * 100) / 100,
      ...info.byPart,
      xstateMicrosteps: info.xstateMicrosteps,
      dataPathMs: Math.round(dataPath.ms * 10) / 10,
      dataPathCpuMs: Math.round(dataPath.cpuMs * 10) / 10,
      dataPathCodecMs: Math.round(dataPath.codecMs * 10) / 10,
      dataPathGuestMs: Math.round(dataPath.guestMs * 10) / 10,
      dataPathDeviceMs: Math.round(dataPath.deviceMs * 10) / 10,
      overheadRatio: Math.round((wallMs / dataPath.ms) * 100) / 100,
      balloonedGiB: Math.round((info.removedPages / 262_144) * 100) / 100,
      loadAvg1: loadAverage(),
    };
  },
};

let firstGiveBack: { wallMs: number; cpuMs: number } | undefined;

/**
 * Once per process, as vm-balloon-1t does: the first give-back timed (cold: its code is compiled
 * while it runs; 100 requests are not enough for V8 to finish), then WARM_UP_PHASES untimed ones.
 */
function giveBackWarmUp(): { wallMs: number; cpuMs: number } {
  return (firstGiveBack ??= coldThenWarm(ballooned256g, ({ vm, idle }) => giveBack(vm, idle)));
}

export const vmUnballoon200gBench: Benchmark = {
  name: 'vm-unballoon-200g',
  description:
    'whole VM: a 256 GiB Linux guest with 200 GiB ballooned gets it back (DM_UNBALLOON_REQUESTs of up to 2 GiB); wall and CPU time of the give-back phase once the code is compiled (firstPhase*: the first give-back in the process, cold)',
  target: { figure: 'wallMs', op: '<=', value: 10, unit: 'ms' },
  warmUpNote: `that also runs the cold first give-back and ${WARM_UP_PHASES} untimed ones`,
  run() {
    const first = giveBackWarmUp();
    // The VM and the phase are bench/perf-giveback.ts's, which also profiles the phase.
    const { vm, idle } = ballooned256g();
    const before = dmMessageTotal(vm);
    const t = vm.now();
    const { wallMs, cpuMs } = timed(() => giveBack(vm, idle));
    const virtualMs = vm.now() - t;
    const dmMessages = dmMessageTotal(vm) - before;
    const back = vm.queryBalloon().actual === 256 * GiB;
    vm.dispose();
    if (!back) throw new Error('vm-unballoon-200g: the guest did not get its 256 GiB back');
    return {
      wallMs: Math.round(wallMs * 100) / 100,
      cpuMs: Math.round(cpuMs * 100) / 100,
      firstPhaseWallMs: Math.round(first.wallMs * 100) / 100,
      firstPhaseCpuMs: Math.round(first.cpuMs * 100) / 100,
      virtualMs,
      dmMessages,
      loadAvg1: loadAverage(),
    };
  },
};
