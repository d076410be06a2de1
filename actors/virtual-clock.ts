/**
 * The one clock of a simulation: a binary heap of timers ordered by (due time, sequence).
 * It is XState's `clock` (setTimeout/clearTimeout) for the root actor and an rxjs SchedulerLike
 * for time-based streams, so every part of a VM sees the same virtual milliseconds.
 *
 * Hand-written on purpose: xstate 5.33's SimulatedClock does not fire timers armed during a flush
 * within the same increment, and rxjs 7.8's VirtualTimeScheduler sorts its whole queue on every
 * schedule (measured: 38k firings/s with 1000 timers pending).
 */
import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';

interface Timer {
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
  private current: number;
  private live = 0;
  private firedCount = 0;

  constructor(startMs = 0) {
    this.current = startMs;
  }

  /** Virtual time now, in ms. */
  now(): number {
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
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: Timer = { due: toMicros(this.current + delay), seq: this.seq++, fn, cancelled: false };
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

  /** The due time of the next live timer, or undefined when nothing is pending. */
  nextDue(): number | undefined {
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
    t = Math.floor(t * 1000) / 1000;
    for (;;) {
      const due = this.nextDue();
      if (due === undefined || due > t) break;
      this.runNext();
    }
    if (t > this.current) this.current = t;
  }

  /** runUntil(now + ms). */
  advance(ms: number): void {
    this.runUntil(this.current + ms);
  }

  /** Fire timers until none is left or `limitMs` of virtual time would be passed; returns the time reached. */
  runToIdle(limitMs = Number.POSITIVE_INFINITY): number {
    const end = this.current + limitMs;
    for (;;) {
      const due = this.nextDue();
      if (due === undefined || due > end) break;
      this.runNext();
    }
    return this.current;
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

/**
 * Virtual time has a resolution of 1 µs: sums of fractional delays (a 10 µs signal latency, costs in
 * ns) would otherwise drift into float noise like 80818.92159700001 in traces and QMP replies.
 */
function toMicros(ms: number): number {
  return Math.round(ms * 1000) / 1000;
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

/**
 * Real-time mode: virtual time follows wall time times `speed`. The wall clock is read here, in the
 * runtime, never inside the simulated core. Returns a stop function.
 */
export function followWallClock(
  clock: VirtualClock,
  options: { speed?: number; tickMs?: number; onTick?: (virtualMs: number) => void } = {},
): { stop(): void; setSpeed(speed: number): void; pause(): void; resume(): void; readonly paused: boolean } {
  let speed = options.speed ?? 1;
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
    const target = virtualBase + (performance.now() - wallBase) * speed;
    clock.runUntil(target);
    options.onTick?.(clock.now());
  }, tickMs);
  return {
    stop: () => clearInterval(handle),
    setSpeed: (s: number) => {
      rebase();
      speed = s;
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
