/** Heap measurement helpers for memory benchmarks. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFn: (() => void) | undefined;

/**
 * A full garbage collection, for memory benchmarks. Node only exposes gc() with --expose-gc;
 * setting the flag at run time and fetching gc from a fresh context works without it.
 */
export function forceGc(): void {
  if (gcFn === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') {
      gcFn = exposed;
    } else {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
  }
  gcFn();
  gcFn();
}

/** heapUsed after a full collection. */
export function heapUsedAfterGc(): number {
  forceGc();
  return process.memoryUsage().heapUsed;
}
