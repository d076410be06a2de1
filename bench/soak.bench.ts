/**
 * Soak: seven virtual days of churn on one VM, the heap sampled after a full GC at every virtual
 * day. The figure is the heap's least-squares slope in KiB per virtual day: flat means nothing
 * grows with the number of messages, timers or ballooning cycles (issue #9 found 28 days flat).
 */
import { createVm } from '../actors/vm/create-vm';
import type { Benchmark } from './benchmark';
import { heapUsedAfterGc } from './heap';

const DAY_MS = 86_400_000;
const DAYS = 7;
const MiB = 2 ** 20;

export const soak7DaysBench: Benchmark = {
  name: 'soak-7-days',
  description: 'seven virtual days of a 1 GiB guest under churn (steady workload, status reports, a balloon cycle every 6 h): heap slope',
  target: { figure: 'heapSlopeKiBPerDay', op: '<=', value: 256, unit: 'KiB per virtual day' },
  // Each run is minutes of CPU: three runs, no warm-up.
  repeats: 3,
  warmUp: false,
  run() {
    const vm = createVm({
      machine: { memory: '1G' },
      device: { statusReport: true },
      guest: { profile: 'linux' },
      workload: { kind: 'steady', usedBytes: '512M', churnBytes: '128M', periodMs: '10s', dirtyBytes: '16M' },
    });
    let events = 0;
    vm.events$.subscribe(() => events++);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    vm.run(60_000);
    const samples: number[] = [heapUsedAfterGc()];
    for (let day = 1; day <= DAYS; day++) {
      for (let quarter = 0; quarter < 4; quarter++) {
        vm.balloon(quarter % 2 === 0 ? 768 * MiB : 1024 * MiB);
        vm.run(DAY_MS / 4);
      }
      samples.push(heapUsedAfterGc());
    }
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const fired = vm.clock.fired;
    vm.dispose();
    return {
      heapSlopeKiBPerDay: Math.round(slope(samples) / 1024),
      heapDay0MiB: Math.round((samples[0]! / MiB) * 10) / 10,
      heapDay7MiB: Math.round((samples[DAYS]! / MiB) * 10) / 10,
      timersFired: fired,
      qmpEvents: events,
      wallMs: Math.round(wallMs),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    };
  },
};

/** Least-squares slope of equally spaced samples (per step). */
function slope(ys: readonly number[]): number {
  const n = ys.length;
  const meanX = (n - 1) / 2;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  });
  return num / den;
}
