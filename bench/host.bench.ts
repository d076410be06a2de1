/**
 * host-100vm-day: one host, 100 VMs, one virtual day, on one core — the scale a policy designer
 * needs (a VDI farm, a cloud host). Every VM is the full VM (device, channel, guest driver with
 * status reports every second, vCPU, memory) on the host's one clock, under the Hyper-V-like
 * policy. Reports wall and CPU time, virtual time per wall time, and heap per VM.
 * Wall time is read here (bench/ only).
 */
import { createHost } from '../actors/host/create-host';
import { parseHostScenario } from '../actors/host/host-config';
import type { Benchmark } from './benchmark';

const DAY_MS = 86_400_000;

/** 100 VMs: 60 desktops (a working day), 30 servers (steady with noise), 10 spiky batch VMs. */
export function hostBenchScenario(vmCount = 100, untilMs = DAY_MS): ReturnType<typeof parseHostScenario> {
  const desktops = Math.round(vmCount * 0.6);
  const servers = Math.round(vmCount * 0.3);
  const batch = vmCount - desktops - servers;
  const vms: unknown[] = [
    {
      name: 'desk',
      count: desktops,
      dynamicMemory: { startup: '1G', minimum: '512M', maximum: '4G' },
      workload: { kind: 'demand', periodMs: '30s', shape: 'diurnal', minBytes: '300M', maxBytes: '2G', peakMs: '11h', jitterMs: '1h', noiseBytes: '64M' },
    },
    {
      name: 'srv',
      count: servers,
      dynamicMemory: { startup: '2G', minimum: '1G', maximum: '8G', weight: 8000 },
      workload: { kind: 'demand', periodMs: '30s', shape: 'steady', baseBytes: '1500M', noiseBytes: '256M', noisePeriodMs: '10min' },
    },
  ];
  if (batch > 0) {
    vms.push({
      name: 'batch',
      count: batch,
      dynamicMemory: { startup: '2G', minimum: '512M', maximum: '16G', weight: 1000 },
      workload: { kind: 'demand', periodMs: '30s', shape: 'spikes', baseBytes: '500M', spikeBytes: '6G', everyMs: '4h', spikeMs: '40min' },
    });
  }
  return parseHostScenario({ seed: 1, host: { memory: `${Math.round(vmCount * 1.6) + 8}G`, reserve: '4G', policy: { kind: 'hyperv' } }, vms, until: untilMs }, 'host-100vm-day');
}

export function measureHost(vmCount: number, untilMs: number): Record<string, number> {
  (globalThis as { gc?: () => void }).gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const host = createHost(hostBenchScenario(vmCount, untilMs));
  const heapBuilt = process.memoryUsage().heapUsed;
  let decisions = 0;
  host.decisions$.subscribe(() => decisions++);
  host.runUntil(untilMs);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - wall0;
  (globalThis as { gc?: () => void }).gc?.();
  const heapEnd = process.memoryUsage().heapUsed;
  const state = host.hostState();
  host.dispose();
  return {
    wallMs: Math.round(wallMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    virtualPerWall: Math.round(untilMs / wallMs),
    heapPerVmKiB: Math.round((heapEnd - heap0) / vmCount / 1024),
    heapPerVmAtStartKiB: Math.round((heapBuilt - heap0) / vmCount / 1024),
    decisions,
    timersFired: host.clock.fired,
    hostFreeGiB: Math.round((state.freeBytes / 2 ** 30) * 10) / 10,
  };
}

export const host100VmDayBench: Benchmark = {
  name: 'host-100vm-day',
  description: 'a host with 100 full VMs (status reports every second, demand workloads) under the Hyper-V-like policy for one virtual day, on one core: wall time and heap per VM',
  // From the first measurement (docs/benchmarks.md): 100 VMs x 1 h took 80 s of CPU, so a day needs
  // about 32 min of one core; the target allows 25% on top of that before calling it a regression.
  target: { figure: 'cpuMs', op: '<=', value: 2_400_000, unit: 'ms CPU' },
  // A virtual day of 100 VMs is long: one measured run, no separate warm-up (its first minutes are
  // one), and only when asked for by name (`bench --only host-100vm-day`).
  maxRepeats: 1,
  warmUp: false,
  onlyByName: true,
  run: () => measureHost(100, DAY_MS),
};
