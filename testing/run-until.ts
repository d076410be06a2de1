/** Advancing a testbed's virtual clock until a condition holds, with a bound. */
import type { VirtualClock } from '../actors/virtual-clock';
import { TestKitAssertionError } from './assertions';

export interface RunUntilOptions {
  /** Give up (throw) after this much virtual time. Default 60 000 ms. */
  limitMs?: number;
  /** Check the condition every `stepMs` of virtual time. Default 1 ms. */
  stepMs?: number;
  /** What is awaited, for the error message. */
  what?: string;
}

/** Runs `clock` in steps until `done()` holds; returns the virtual ms it took. */
export function runUntil(clock: VirtualClock, done: () => boolean, options: RunUntilOptions = {}): number {
  const limitMs = options.limitMs ?? 60_000;
  const stepMs = options.stepMs ?? 1;
  const start = clock.now();
  while (!done()) {
    if (clock.now() - start >= limitMs) {
      throw new TestKitAssertionError(`gave up waiting for ${options.what ?? 'the condition'} after ${limitMs} ms of virtual time`);
    }
    clock.advance(stepMs);
  }
  return clock.now() - start;
}
