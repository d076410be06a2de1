/**
 * virtio-balloon's simulation cost: every 1 MiB is one buffer round trip (a few bus messages and
 * statechart steps), so its wall time grows with the bytes moved, where hv-balloon's grows with
 * the ranges. Wall and CPU time are read here (bench/ only); the VM runs on virtual time.
 */
import { createVm } from '../actors/vm/create-vm';
import type { Benchmark } from './benchmark';

const GiB = 2 ** 30;

export const vmVirtioBalloon4gBench: Benchmark = {
  name: 'vm-virtio-balloon-4g',
  description: 'whole VM with virtio-balloon: an 8 GiB Linux guest balloons 4 GiB out and back (8192 buffers of 256 PFNs); wall time per buffer',
  target: { figure: 'wallUsPerBuffer', op: '<=', value: 200, unit: 'µs' },
  run() {
    const vm = createVm({ machine: { memory: '8G' }, device: { model: 'virtio-balloon' } });
    vm.run(2000);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    vm.balloon(4 * GiB);
    while (vm.queryBalloon().actual !== 4 * GiB) vm.run(100);
    vm.balloon(8 * GiB);
    while (vm.queryBalloon().actual !== 8 * GiB) vm.run(100);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const buffers = vm.counters().virtio!.queues;
    const n = buffers.inflate.buffers + buffers.deflate.buffers;
    vm.dispose();
    return {
      wallMs: Math.round(wallMs),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      buffers: n,
      wallUsPerBuffer: Math.round((wallMs * 1000) / n),
    };
  },
};
