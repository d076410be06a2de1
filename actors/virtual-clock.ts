/**
 * The one clock of a simulation: a binary heap of timers ordered by (due time, sequence).
 * It is XState's `clock` (setTimeout/clearTimeout) for the root actor and an rxjs SchedulerLike
 * for time-based streams, so every part of a VM sees the same virtual milliseconds.
 *
 * Inside, time is an integer count of microseconds (docs/architecture.md, "One clock"): every
 * comparison and sum is exact, so a target time is always reached and "now" means one instant.
 * Milliseconds (fractional) are converted at the edges only: setTimeout(ms), runUntil(ms),
 * advance(ms), now(). The *Micros methods give the integer form.
 *
 * Hand-written on purpose: xstate 5.33's SimulatedClock does not fire timers armed during a flush
 * within the same increment, and rxjs 7.8's VirtualTimeScheduler sorts its whole queue on every
 * schedule (measured: 38k firings/s with 1000 timers pending).
 */
import type { SchedulerAction, SchedulerLike } from 'rxjs';
// Subscription from its own module, not rxjs's index (~300 modules): every sweep worker and CLI start loads this.
import { Subscription } from 'rxjs/internal/Subscription';

import { MAX_SPEED, MAX_VIRTUAL_MICROS, microsToMs, msToMicros } from './virtual-time';

export { MAX_SPEED, MAX_VIRTUAL_MICROS, MAX_VIRTUAL_MS, MICROS_PER_MS, microsToMs, msToMicros, quantizeMs } from './virtual-time';

interface Timer {
  /** Due time, integer µs. */
  due: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** The handle `setTimeout` returns; pass it to `clearTimeout`. */
export type TimerHandle = Timer;

export class VirtualClock implements SchedulerLike {
  private heap: Timer[] = [];
  private seq = 0;
  /** Virtual time now, integer µs. */
  private current: number;
  private live = 0;
  private firedCount = 0;

  constructor(startMs = 0) {
    this.current = msToMicros(startMs);
  }

  /** Virtual time now, in ms (derived from the integer µs count). */
  now(): number {
    return microsToMs(this.current);
  }

  /** Virtual time now, integer µs. */
  nowMicros(): number {
    return this.current;
  }

  /** Timers fired since the clock was made. */
  get fired(): number {
    return this.firedCount;
  }

  /** Timers waiting to fire. */
  pending(): number {
    return this.live;
  }

  /** XState Clock: run `fn` after `ms` of virtual time. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.setTimeoutMicros(fn, msToMicros(ms));
  }

  /** Run `fn` after `us` integer microseconds of virtual time. */
  setTimeoutMicros(fn: () => void, us: number): TimerHandle {
    const delay = Number.isSafeInteger(us) && us > 0 ? us : 0;
    const timer: Timer = { due: Math.min(this.current + delay, MAX_VIRTUAL_MICROS), seq: this.seq++, fn, cancelled: false };
    this.push(timer);
    this.live++;
    return timer;
  }

  /** XState Clock: cancel a timer (no-op if it already fired). */
  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle && !handle.cancelled) {
      handle.cancelled = true;
      this.live--;
    }
  }

  /** The due time (ms) of the next live timer, or undefined when nothing is pending. */
  nextDue(): number | undefined {
    const due = this.nextDueMicros();
    return due === undefined ? undefined : microsToMs(due);
  }

  /** The due time (integer µs) of the next live timer, or undefined when nothing is pending. */
  nextDueMicros(): number | undefined {
    this.dropCancelledTop();
    return this.heap.length > 0 ? this.heap[0]!.due : undefined;
  }

  /** Fire the next timer (jumping time to it). False when nothing is pending. */
  runNext(): boolean {
    this.dropCancelledTop();
    const top = this.heap.length > 0 ? this.pop() : undefined;
    if (!top) return false;
    this.live--;
    top.cancelled = true;
    if (top.due > this.current) this.current = top.due;
    this.firedCount++;
    top.fn();
    return true;
  }

  /**
   * Fire, in (due, seq) order, every timer due at or before `t` — including timers armed by the
   * ones that fire — then leave the clock at `t`.
   */
  runUntil(t: number): void {
    this.runUntilMicros(msToMicros(t));
  }

  /**
   * runUntil in integer µs. With `maxFirings`, stops after that many timers (time stays at the
   * last one fired) and returns false; the rest runs on the next call, in the same order, so a
   * run cut into slices fires exactly what one call would. True when `t` was reached.
   */
  runUntilMicros(t: number, maxFirings = Number.POSITIVE_INFINITY): boolean {
    let fired = 0;
    for (;;) {
      const due = this.nextDueMicros();
      if (due === undefined || due > t) break;
      if (fired >= maxFirings) return false;
      this.runNext();
      fired++;
    }
    if (t > this.current) this.current = t;
    return true;
  }

  /** runUntil(now + ms). */
  advance(ms: number): void {
    this.runUntilMicros(Math.min(this.current + msToMicros(ms), MAX_VIRTUAL_MICROS));
  }

  /** Fire timers until none is left or `limitMs` of virtual time would be passed; returns the time reached (ms). */
  runToIdle(limitMs = Number.POSITIVE_INFINITY): number {
    const end = limitMs === Number.POSITIVE_INFINITY ? MAX_VIRTUAL_MICROS : Math.min(this.current + msToMicros(limitMs), MAX_VIRTUAL_MICROS);
    for (;;) {
      const due = this.nextDueMicros();
      if (due === undefined || due > end) break;
      this.runNext();
    }
    return this.now();
  }

  /** rxjs SchedulerLike: schedule `work` after `delay` ms; the action may re-arm itself (interval). */
  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    return new VirtualAction<T>(this, work).schedule(state, delay);
  }

  private push(timer: Timer): void {
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  private dropCancelledTop(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

/** An rxjs SchedulerAction on the virtual clock. */
class VirtualAction<T> extends Subscription implements SchedulerAction<T> {
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: VirtualClock,
    private readonly work: (this: SchedulerAction<T>, state?: T) => void,
  ) {
    super(() => this.clock.clearTimeout(this.timer));
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.work.call(this, state);
    }, delay);
    return this;
  }
}

/** Wall ms one tick of real-time mode may spend firing timers before it yields to the event loop. */
const TICK_BUDGET_MS = 25;
/** Timers fired between two looks at the wall clock. */
const FIRINGS_PER_CHECK = 512;

/**
 * Real-time mode: virtual time follows wall time times `speed`. The wall clock is read here, in the
 * runtime, never inside the simulated core. A tick spends at most TICK_BUDGET_MS firing timers, so
 * sockets and signals are served however far behind the simulation falls; when it falls behind,
 * virtual time runs as fast as the host allows instead of piling up a debt. Returns a stop function.
 */
export function followWallClock(
  clock: VirtualClock,
  options: { speed?: number; tickMs?: number; onTick?: (virtualMs: number) => void } = {},
): { stop(): void; setSpeed(speed: number): void; pause(): void; resume(): void; readonly paused: boolean } {
  let speed = Math.min(options.speed ?? 1, MAX_SPEED);
  const tickMs = options.tickMs ?? 10;
  let paused = false;
  let wallBase = performance.now();
  let virtualBase = clock.now();
  const rebase = (): void => {
    wallBase = performance.now();
    virtualBase = clock.now();
  };
  const handle = setInterval(() => {
    if (paused) return;
    const started = performance.now();
    const target = msToMicros(virtualBase + (started - wallBase) * speed);
    while (!clock.runUntilMicros(target, FIRINGS_PER_CHECK)) {
      if (performance.now() - started > TICK_BUDGET_MS) {
        rebase();
        break;
      }
    }
    options.onTick?.(clock.now());
  }, tickMs);
  return {
    stop: () => clearInterval(handle),
    setSpeed: (s: number) => {
      rebase();
      speed = Math.min(s, MAX_SPEED);
    },
    pause: () => {
      paused = true;
    },
    resume: () => {
      rebase();
      paused = false;
    },
    get paused() {
      return paused;
    },
  };
}
