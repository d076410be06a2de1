/**
 * The give-back of issue #14 (vm-unballoon-200g): a 256 GiB Linux guest ballooned down to 56 GiB
 * gets its 200 GiB back, as 100 DM_UNBALLOON_REQUESTs of 2 GiB (QEMU posts them all at once) and
 * one DM_UNBALLOON_RESPONSE. The benchmark times `giveBack`; run as a program this file profiles
 * that phase only (the boot and the balloon phase before it are left out):
 *
 *   npm run build && node dist/bench/perf-giveback.js [runs] [out.cpuprofile]
 *
 * prints self time per part of the program (as perf-profile.js does for the 1 TiB balloon phase),
 * the heaviest functions, and what one give-back takes in bus deliveries and XState microsteps
 * per part (counted in a separate, inspected run).
 */
import { writeFileSync } from 'node:fs';
import type { InspectionEvent } from 'xstate';
import { createVm, type Vm } from '../actors/vm/create-vm';
import { loadAverage, runUntilDone, watchDeviceIdle } from './perf-measure';
import { profilePhases, summarizeProfile, topFunctions, type CpuProfile } from './perf-profile';

const GiB = 2 ** 30;

export const UNBALLOON_VM = { machine: { memory: '256G' }, device: { statusReport: true }, guest: { profile: 'linux' as const } };

/** A booted 256 GiB guest ballooned to 56 GiB, its device idle: ready for the give-back. */
export function ballooned256g(options: { inspect?: (e: InspectionEvent) => void } = {}): { vm: Vm; idle: { idle: boolean; reset(): void } } {
  const vm = createVm(UNBALLOON_VM, options.inspect ? { inspect: options.inspect } : {});
  const idle = watchDeviceIdle(vm);
  runUntilDone(vm, () => idle.idle, 50, 120_000, 'vm-unballoon-200g boot');
  idle.reset();
  vm.balloon(56 * GiB);
  runUntilDone(vm, () => idle.idle, 100, 600_000, 'vm-unballoon-200g balloon');
  if (vm.queryBalloon().actual !== 56 * GiB) throw new Error(`vm-unballoon-200g: ballooned to ${vm.queryBalloon().actual} bytes, not 56 GiB`);
  idle.reset();
  return { vm, idle };
}

/** The phase measured: the target back to 256 GiB, run until the device is idle again. */
export function giveBack(vm: Vm, idle: { idle: boolean }): void {
  vm.balloon(256 * GiB);
  runUntilDone(vm, () => idle.idle, 10, 600_000, 'vm-unballoon-200g give-back');
}

/** Profiles `runs` give-backs (after one unprofiled run to warm the code up). */
export function profileGiveBack(runs: number): CpuProfile[] {
  return profilePhases(runs, 100, () => {
    const { vm, idle } = ballooned256g();
    return { phase: () => giveBack(vm, idle), dispose: () => vm.dispose() };
  });
}

/** One give-back, inspected: XState microsteps and bus deliveries per part, and the DM messages. */
export function countGiveBack(): { microsteps: Record<string, number>; deliveries: Record<string, number>; dmMessages: number } {
  const microsteps: Record<string, number> = {};
  let counting = false;
  const { vm, idle } = ballooned256g({
    inspect: (e) => {
      if (!counting || e.type !== '@xstate.microstep') return;
      const part = (e.actorRef as { systemId?: string }).systemId ?? 'other';
      microsteps[part] = (microsteps[part] ?? 0) + 1;
    },
  });
  const deliveries: Record<string, number> = {};
  vm.trace$.subscribe((r) => {
    if (counting && r.kind === 'bus') deliveries[`${r.to} ${r.type}`] = (deliveries[`${r.to} ${r.type}`] ?? 0) + 1;
  });
  const total = (): number => Object.values(vm.messageCounts()).reduce<number>((n, c) => n + (c ?? 0), 0);
  const before = total();
  counting = true;
  giveBack(vm, idle);
  counting = false;
  const dmMessages = total() - before;
  vm.dispose();
  return { microsteps, deliveries, dmMessages };
}

if (require.main === module) {
  const runs = Number(process.argv[2] ?? 10);
  const out = process.argv[3];
  const profiles = profileGiveBack(runs);
  if (out) writeFileSync(out, JSON.stringify(profiles[profiles.length - 1]));
  const merged: Record<string, number> = {};
  let total = 0;
  for (const p of profiles) for (const row of summarizeProfile(p)) (merged[row.part] = (merged[row.part] ?? 0) + row.ms), (total += row.ms);
  process.stdout.write(`vm-unballoon-200g give-back, ${runs} profiled runs, ${(total / runs).toFixed(1)} ms of samples per run, load average ${loadAverage()}\n`);
  for (const [part, t] of Object.entries(merged).sort((a, b) => b[1] - a[1])) {
    process.stdout.write(`${part.padEnd(46)} ${(t / runs).toFixed(2).padStart(8)} ms  ${((100 * t) / total).toFixed(1).padStart(5)} %\n`);
  }
  process.stdout.write('\nheaviest functions (self time per run):\n');
  const fns = new Map<string, number>();
  for (const p of profiles) for (const f of topFunctions(p, 60)) fns.set(f.fn, (fns.get(f.fn) ?? 0) + f.ms);
  for (const [fn, t] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, 20)) process.stdout.write(`${(t / runs).toFixed(2).padStart(8)} ms  ${fn}\n`);
  const counts = countGiveBack();
  process.stdout.write(`\none give-back: ${counts.dmMessages} DM messages\n`);
  process.stdout.write(`XState microsteps per part: ${JSON.stringify(counts.microsteps)}\n`);
  process.stdout.write('bus deliveries:\n');
  for (const [k, n] of Object.entries(counts.deliveries).sort((a, b) => b[1] - a[1])) process.stdout.write(`${String(n).padStart(8)}  ${k}\n`);
}
