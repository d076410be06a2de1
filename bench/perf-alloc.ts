/**
 * What vm-balloon-1t's balloon phase allocates, by function: V8's sampling heap profiler (through
 * node:inspector) from the `balloon` command to the device's S_IDLE, after unprofiled phases to
 * compile the code. Unlike time, allocation hardly depends on the machine's load, so it compares
 * builds on a shared machine. With `--survivors`, only what outlived a scavenge is counted (objects
 * freed by minor GCs are left out): what the young generation promotes.
 *
 *   npm run build && node dist/bench/perf-alloc.js [--survivors] [top]
 */
import { Session } from 'node:inspector';
import { createVm } from '../actors/vm/create-vm';
import { TERABYTE_BALLOON_AT_MS, TERABYTE_TARGET_BYTES, TERABYTE_VM } from '../actors/golden-trace/terabyte-run';
import { inspectorPost, runUntilDone, watchDeviceIdle } from './perf-measure';

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

/** Bytes allocated per function (`name file:line`) in one balloon phase, after `warmUp` unprofiled ones. */
export function allocationsOfBalloon1t(options: { survivorsOnly?: boolean; warmUp?: number } = {}): Map<string, number> {
  const session = new Session();
  session.connect();
  inspectorPost(session, 'HeapProfiler.enable');
  const warmUp = options.warmUp ?? 2;
  let profile: { head: SamplingNode } | undefined;
  for (let i = 0; i <= warmUp; i++) {
    const vm = createVm(TERABYTE_VM);
    vm.runUntil(TERABYTE_BALLOON_AT_MS);
    const idle = watchDeviceIdle(vm);
    if (i === warmUp) {
      inspectorPost(session, 'HeapProfiler.startSampling', {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: options.survivorsOnly !== true,
      });
    }
    vm.balloon(TERABYTE_TARGET_BYTES);
    runUntilDone(vm, () => idle.idle, 100, 600_000, 'alloc balloon phase');
    if (i === warmUp) profile = inspectorPost<{ profile: { head: SamplingNode } }>(session, 'HeapProfiler.stopSampling').profile;
    vm.dispose();
  }
  session.disconnect();
  const bytes = new Map<string, number>();
  const walk = (node: SamplingNode): void => {
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules\/|dist\/)/, '$1')}:${f.lineNumber}`;
    if (node.selfSize > 0) bytes.set(key, (bytes.get(key) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child);
  };
  if (profile) walk(profile.head);
  return bytes;
}

if (require.main === module) {
  const survivorsOnly = process.argv.includes('--survivors');
  const top = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 25);
  const bytes = allocationsOfBalloon1t({ survivorsOnly });
  let total = 0;
  for (const b of bytes.values()) total += b;
  process.stdout.write(`vm-balloon-1t balloon phase: ${(total / 1e6).toFixed(1)} MB ${survivorsOnly ? 'outlived a scavenge' : 'allocated'} (sampled every 4 KiB)\n`);
  for (const [fn, b] of [...bytes].sort((x, y) => y[1] - x[1]).slice(0, top)) {
    process.stdout.write(`${(b / 1e6).toFixed(2).padStart(8)} MB  ${fn}\n`);
  }
}
