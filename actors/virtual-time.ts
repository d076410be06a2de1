/**
 * Virtual time's units and limits, apart from the clock so that the control plane (QMP and HMP
 * commands, the CLI) can check times without loading the clock's rxjs scheduler. Inside the clock
 * time is an integer count of microseconds; milliseconds are converted at the edges
 * (docs/architecture.md, "Virtual time").
 */

/** Virtual time's resolution: 1 µs. */
export const MICROS_PER_MS = 1000;

/**
 * The latest virtual time the clock can represent exactly: 2^53 - 1 µs, about 285 years. Any time
 * or advance past it is refused where it enters (QMP, HMP, scenarios), naming this limit.
 */
export const MAX_VIRTUAL_MICROS = Number.MAX_SAFE_INTEGER;
export const MAX_VIRTUAL_MS = Math.floor(MAX_VIRTUAL_MICROS / MICROS_PER_MS);

/** The largest speed factor real-time mode accepts (`--speed`, x-sim-speed): 11.6 virtual days per wall second. */
export const MAX_SPEED = 1_000_000;

/** Milliseconds (any finite number >= 0) to the clock's integer microseconds, rounded to nearest. */
export function msToMicros(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? Math.min(Math.round(ms * MICROS_PER_MS), MAX_VIRTUAL_MICROS) : 0;
}

/** The clock's integer microseconds as milliseconds (what now() returns). */
export function microsToMs(us: number): number {
  return us / MICROS_PER_MS;
}

/** A time in ms as the clock will hold it: rounded to the microsecond. */
export function quantizeMs(ms: number): number {
  return microsToMs(msToMicros(ms));
}
