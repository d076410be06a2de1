/**
 * Where vm-balloon-1t's time goes: a V8 CPU profile of the balloon phase only (the profiler runs
 * through node:inspector from the balloon command to the device's S_IDLE, the boot left out),
 * summed by self time per part of the program. On the compiled package:
 *
 *   npm run build && node dist/bench/perf-profile.js [runs] [out.cpuprofile]
 *
 * prints the table docs/benchmarks.md quotes and writes the profile for Chrome DevTools or speedscope.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { createVm } from '../actors/vm/create-vm';
import { TERABYTE_BALLOON_AT_MS, TERABYTE_TARGET_BYTES, TERABYTE_VM } from '../actors/golden-trace/terabyte-run';
import { inspectorPost, loadAverage, runUntilDone, watchDeviceIdle } from './perf-measure';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The parts of the program, by where a function's code lives (the first match wins). */
const PARTS: ReadonlyArray<[string, (url: string, fn: string) => boolean]> = [
  ['GC', (_u, fn) => fn === '(garbage collector)'],
  ['idle/program', (u, fn) => u === '' && (fn === '(program)' || fn === '(idle)' || fn === '(root)')],
  ['XState internals', (u) => u.includes('/node_modules/xstate/')],
  ['rxjs', (u) => u.includes('/node_modules/rxjs/')],
  ['range trees (sorted-btree, page-range-tree)', (u) => u.includes('/node_modules/sorted-btree/') || u.includes('/machines/page-range-tree')],
  ['codec (protocol/)', (u) => u.includes('/protocol/')],
  ['device (hv-balloon-device)', (u) => u.includes('/machines/hv-balloon-device')],
  ['guest driver (dm-guest)', (u) => u.includes('/machines/dm-guest')],
  ['memory model (machine-memory, linux-memory)', (u) => u.includes('/machines/machine-memory') || u.includes('/machines/linux-memory') || u.includes('/machines/pc-memory') || u.includes('/machines/q35')],
  ['VMBus ring and channel', (u) => u.includes('/machines/vmbus')],
  ['vCPU, memory controller, workload', (u) => u.includes('/machines/vcpu') || u.includes('/machines/memory-controller') || u.includes('/machines/workload') || u.includes('/machines/cost-model')],
  ['bus, clock, VM (actors/)', (u) => u.includes('/actors/')],
  ['other machines/', (u) => u.includes('/machines/')],
  ['Node and V8 built-ins', (u) => u.startsWith('node:') || u === ''],
];

export function partOf(url: string, functionName: string): string {
  for (const [name, test] of PARTS) if (test(url, functionName)) return name;
  return 'other';
}

/** Nodes under the profiler's own stop call (serialising the profile): not the run's time. */
function profilerNodes(profile: CpuProfile): Set<number> {
  const out = new Set<number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const mark = (id: number): void => {
    out.add(id);
    for (const c of byId.get(id)?.children ?? []) mark(c);
  };
  for (const n of profile.nodes) if (n.callFrame.url === 'node:inspector') mark(n.id);
  return out;
}

/** Self time per part, in ms, from a profile's samples. */
export function summarizeProfile(profile: CpuProfile): Array<{ part: string; ms: number; share: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const skip = profilerNodes(profile);
  const ms = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    if (skip.has(id)) return;
    const node = byId.get(id)!;
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const part = partOf(node.callFrame.url, node.callFrame.functionName);
    ms.set(part, (ms.get(part) ?? 0) + dt);
    total += dt;
  });
  return [...ms].map(([part, t]) => ({ part, ms: t, share: t / total })).sort((a, b) => b.ms - a.ms);
}

/** The heaviest functions by self time (for the detail under the table). */
export function topFunctions(profile: CpuProfile, n: number): Array<{ fn: string; ms: number }> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const skip = profilerNodes(profile);
  const ms = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    if (skip.has(id)) return;
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules\/|dist\/)/, '$1')}`;
    ms.set(key, (ms.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...ms].map(([fn, t]) => ({ fn, ms: t })).sort((a, b) => b.ms - a.ms).slice(0, n);
}

/**
 * CPU profiles of `runs` phases, after one unprofiled phase to warm the code up: `prepare` builds
 * the VM up to the phase (not profiled) and returns the phase to profile and how to dispose of it.
 */
export function profilePhases(runs: number, defaultIntervalUs: number, prepare: () => { phase(): void; dispose(): void }): CpuProfile[] {
  const session = new Session();
  session.connect();
  inspectorPost(session, 'Profiler.enable');
  inspectorPost(session, 'Profiler.setSamplingInterval', { interval: Number(process.env.PROFILE_INTERVAL_US ?? defaultIntervalUs) });
  const profiles: CpuProfile[] = [];
  for (let i = 0; i <= runs; i++) {
    const { phase, dispose } = prepare();
    if (i > 0) inspectorPost(session, 'Profiler.start');
    phase();
    if (i > 0) profiles.push(inspectorPost<{ profile: CpuProfile }>(session, 'Profiler.stop').profile);
    dispose();
  }
  session.disconnect();
  return profiles;
}

/** Profiles `runs` balloon phases of the 1 TiB run (after one unprofiled run to warm the code up). */
export function profileBalloon1t(runs: number): CpuProfile[] {
  return profilePhases(runs, 250, () => {
    const vm = createVm(TERABYTE_VM);
    vm.runUntil(TERABYTE_BALLOON_AT_MS);
    const idle = watchDeviceIdle(vm);
    return {
      phase: () => {
        vm.balloon(TERABYTE_TARGET_BYTES);
        runUntilDone(vm, () => idle.idle, 100, 600_000, 'profile balloon phase');
      },
      dispose: () => vm.dispose(),
    };
  });
}

if (require.main === module) {
  const runs = Number(process.argv[2] ?? 3);
  const out = process.argv[3];
  const profiles = profileBalloon1t(runs);
  if (out) writeFileSync(out, JSON.stringify(profiles[profiles.length - 1]));
  // All runs together: more samples.
  const merged: Record<string, number> = {};
  let total = 0;
  for (const p of profiles) for (const row of summarizeProfile(p)) (merged[row.part] = (merged[row.part] ?? 0) + row.ms), (total += row.ms);
  process.stdout.write(`vm-balloon-1t balloon phase, ${runs} profiled runs, ${(total / runs).toFixed(0)} ms of samples per run, load average ${loadAverage()}\n`);
  for (const [part, t] of Object.entries(merged).sort((a, b) => b[1] - a[1])) {
    process.stdout.write(`${part.padEnd(46)} ${(t / runs).toFixed(1).padStart(8)} ms  ${((100 * t) / total).toFixed(1).padStart(5)} %\n`);
  }
  process.stdout.write('\nheaviest functions (self time per run):\n');
  const fns = new Map<string, number>();
  for (const p of profiles) for (const f of topFunctions(p, 60)) fns.set(f.fn, (fns.get(f.fn) ?? 0) + f.ms);
  for (const [fn, t] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stdout.write(`${(t / runs).toFixed(1).padStart(8)} ms  ${fn}\n`);
}
