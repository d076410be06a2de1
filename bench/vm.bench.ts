/**
 * Whole-VM benchmarks: how fast the simulation runs the seed's 200 GB case and idle time.
 * Wall time is read here (bench/ only); the VM itself runs on virtual time.
 */
import { createVm, type Vm } from '../actors/vm/create-vm';
import type { Benchmark } from './benchmark';

const GiB = 2 ** 30;

function settle(vm: Vm, done: () => boolean, limitMs: number): number {
  const start = vm.now();
  while (!done() && vm.now() - start < limitMs) vm.run(50);
  return vm.now() - start;
}

export const vmBalloon200gBench: Benchmark = {
  name: 'vm-balloon-200g',
  description: "whole VM: a 256 GiB Linux guest balloons 200 GiB out and back (the case QEMU's hv-balloon commit message measured); wall time of the simulation",
  target: { figure: 'wallMs', op: '<=', value: 5000, unit: 'ms' },
  run() {
    const vm = createVm({ machine: { memory: '256G' }, device: { statusReport: true }, guest: { profile: 'linux' } });
    settle(vm, () => vm.deviceState() === 'S_IDLE', 120_000);
    const t0 = performance.now();
    vm.balloon(56 * GiB);
    const balloonMs = settle(vm, () => vm.queryBalloon().actual <= 56 * GiB && vm.deviceState() === 'S_IDLE', 600_000);
    vm.balloon(256 * GiB);
    vm.run(1);
    const unballoonMs = settle(vm, () => vm.deviceState() === 'S_IDLE', 600_000) + 1;
    const wallMs = performance.now() - t0;
    const ok = vm.queryBalloon().actual === 256 * GiB;
    vm.dispose();
    return {
      wallMs: Math.round(wallMs),
      virtualBalloonSec: balloonMs / 1000,
      virtualUnballoonSec: unballoonMs / 1000,
      balloonGBPerMin: Math.round(((200 * GiB) / 1e9 / (balloonMs / 60_000)) * 10) / 10,
      backToBootSize: ok ? 1 : 0,
    };
  },
};

export const vmIdleHourBench: Benchmark = {
  name: 'vm-idle-hour',
  description: 'whole VM: one hour of virtual time of a 4 GiB guest with status reports on and a steady workload',
  target: { figure: 'virtualPerWall', op: '>=', value: 100, unit: 'x real time' },
  run() {
    const vm = createVm({
      machine: { memory: '4G' },
      device: { statusReport: true },
      guest: { profile: 'linux' },
      workload: { kind: 'steady', usedBytes: '1G', churnBytes: '64M', periodMs: '1s', dirtyBytes: '16M' },
    });
    const t0 = performance.now();
    vm.run(3_600_000);
    const wallMs = performance.now() - t0;
    vm.dispose();
    return { wallMs: Math.round(wallMs), virtualPerWall: Math.round(3_600_000 / wallMs) };
  },
};
