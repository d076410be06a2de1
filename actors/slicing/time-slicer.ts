/**
 * Long advances of virtual time, cut into slices that yield to Node's event loop between them, so
 * a QMP server keeps serving its other clients, signals end the process, a monitor shows progress
 * and Ctrl-C can cancel. Runtime code (actors/): the simulated core stays synchronous. Slicing
 * never changes what the simulation does: running to t1 and then to t2 fires the same timers in
 * the same order as running to t2 at once (integer virtual time; the clock's (due, seq) order).
 */
import { quantizeMs } from '../virtual-time';

/** What the slicer drives: a VM (or any VmControl). */
export interface SliceableVm {
  now(): number;
  runUntil(t: number): void;
}

export interface SliceOptions {
  /** Cancels between slices; the run then ends early, with time where the last slice left it. */
  signal?: AbortSignal;
  /** After each slice: virtual ms reached, the target. */
  onProgress?(nowMs: number, targetMs: number): void;
  /** Wall ms a slice aims to take (default 20): slices grow or shrink in virtual time to match. */
  sliceWallMs?: number;
}

/** How a sliced run ended. */
export type SliceOutcome = 'done' | 'cancelled';

/** Virtual ms the first slice covers; later slices adapt to the wall time the last one took. */
const FIRST_SLICE_MS = 1000;
const MIN_SLICE_MS = 1;
/** At most ~30 virtual days per slice, so progress moves even on a VM with nothing to do. */
const MAX_SLICE_MS = 30 * 86_400_000;

/**
 * Sizes slices in virtual time so each takes about `aimMs` of wall time: a quiet VM covers days
 * per slice, a busy one milliseconds. Reads the wall clock (runtime only); what the simulation does
 * does not depend on where the slices fall.
 */
export class SliceSizer {
  private sliceMs = FIRST_SLICE_MS;
  private started = 0;

  constructor(private readonly aimMs = 20) {}

  /** Virtual ms the next slice should cover; starts its wall stopwatch. */
  next(): number {
    this.started = performance.now();
    return this.sliceMs;
  }

  /** The slice is done: adapt the next one to how long it took. */
  done(): void {
    const took = performance.now() - this.started;
    if (took < this.aimMs / 2) this.sliceMs = Math.min(MAX_SLICE_MS, this.sliceMs * 2);
    else if (took > this.aimMs * 2) this.sliceMs = Math.max(MIN_SLICE_MS, this.sliceMs / 2);
  }
}

/**
 * Runs `vm` to virtual time `targetMs` in slices, awaiting a macrotask (setImmediate) between
 * slices. Errors from the VM (a stopped VM, a failed part) reject the promise.
 */
export async function runUntilInSlices(vm: SliceableVm, targetMs: number, options: SliceOptions = {}): Promise<SliceOutcome> {
  const target = quantizeMs(targetMs);
  const sizer = new SliceSizer(options.sliceWallMs);
  while (vm.now() < target) {
    if (options.signal?.aborted) return 'cancelled';
    vm.runUntil(Math.min(target, vm.now() + sizer.next()));
    sizer.done();
    options.onProgress?.(vm.now(), target);
    if (vm.now() < target) await yieldToEventLoop();
  }
  return 'done';
}

/** Lets timers, sockets and signal handlers run (a macrotask, not a microtask). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
