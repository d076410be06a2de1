/**
 * Linux's virtio_balloon driver, flow by flow, in a whole virtio-balloon VM (device, driver,
 * vCPU, memory) on the virtual clock.
 */
import { createVm, type Vm } from '../../../index';
import type { BusDelivery } from '../../../actors/message-bus';
import type { VirtioBalloonVm } from '../../../actors/vm/virtio-balloon-vm';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

function virtioVm(extra: Record<string, unknown> = {}, memory = '4G'): VirtioBalloonVm {
  return createVm({ machine: { memory }, device: { model: 'virtio-balloon', ...extra } } as never) as unknown as VirtioBalloonVm;
}

function guestLog(vm: Vm): string[] {
  const lines: string[] = [];
  vm.trace$.subscribe((r) => {
    if (r.kind === 'virtio-guest') lines.push(r.event.text);
  });
  return lines;
}

describe('virtio_balloon driver: probe', () => {
  it('probes once the device is found, accepts STATS_VQ, and sends its first stats buffer', () => {
    const vm = virtioVm();
    vm.run(2000);
    const c = vm.virtioCounters();
    expect(c.driver.state).toContain('balloon.idle');
    expect(c.features).toEqual({ statsVq: true, deflateOnOom: false });
    expect(c.queues.stats.buffers).toBe(1);
    vm.dispose();
  });

  it('inflates at probe when the host set a target before the driver was there', () => {
    const vm = virtioVm();
    vm.balloon(3 * GiB); // at time 0: the guest has not probed yet
    vm.run(5000);
    expect(vm.queryBalloon().actual).toBe(3 * GiB);
    vm.dispose();
  });
});

describe('virtio_balloon driver: inflate (fill_balloon, tell_host)', () => {
  it('sends at most 256 PFNs per buffer and waits for each buffer before the next', () => {
    const vm = virtioVm();
    vm.run(2000);
    let inFlight = 0;
    let maxInFlight = 0;
    vm.bus.trace$.subscribe((d: BusDelivery) => {
      if (d.type === 'virtio.kick' && d.to === 'device') maxInFlight = Math.max(maxInFlight, ++inFlight);
      if (d.type === 'virtio.interrupt' && d.to === 'guest') inFlight--;
    });
    vm.balloon(4 * GiB - 10 * MiB);
    vm.run(10_000);
    const c = vm.virtioCounters();
    expect(vm.queryBalloon().actual).toBe(4 * GiB - 10 * MiB);
    expect(c.queues.inflate.buffers).toBe(10); // 10 MiB = 2560 PFNs = 10 buffers of 256
    expect(c.queues.inflate.bytes).toBe(2560 * 4);
    expect(c.device.pfnsInflated).toBe(2560);
    expect(maxInFlight).toBe(1);
    expect(vm.memory.balloonedPages()).toBe(2560);
    vm.dispose();
  });

  it('writes actual after every buffer, so query-balloon moves 1 MiB at a time', () => {
    const vm = virtioVm();
    vm.run(2000);
    const actuals = new Set<number>();
    vm.balloon(4 * GiB - 4 * MiB);
    for (let i = 0; i < 200 && vm.queryBalloon().actual !== 4 * GiB - 4 * MiB; i++) {
      vm.run(0.05);
      actuals.add(vm.queryBalloon().actual);
    }
    expect([...actuals].every((a) => (4 * GiB - a) % MiB === 0)).toBe(true);
    expect(actuals.size).toBeGreaterThanOrEqual(4);
    vm.dispose();
  });

  it('logs "Out of puff!" when pages run out, sleeps 200 ms and tries again, keeping what it got', () => {
    const vm = virtioVm();
    const log = guestLog(vm);
    vm.run(2000);
    vm.balloon(64 * MiB); // far below what the kernel can give up
    vm.run(60_000);
    const puffs = log.filter((l) => l.startsWith('Out of puff!'));
    expect(puffs.length).toBeGreaterThan(10);
    expect(puffs[0]).toBe("Out of puff! Can't get 1 pages");
    const actual = vm.queryBalloon().actual;
    expect(actual).toBeGreaterThan(64 * MiB);
    expect(actual).toBeLessThan(GiB);
    // About one attempt per 200 ms once memory has run out.
    const before = vm.virtioCounters().driver.outOfPuff;
    vm.run(2000);
    expect(vm.virtioCounters().driver.outOfPuff - before).toBeGreaterThanOrEqual(9);
    expect(vm.virtioCounters().driver.outOfPuff - before).toBeLessThanOrEqual(10);
    vm.dispose();
  });
});

describe('virtio_balloon driver: deflate (leak_balloon)', () => {
  it('tells the host first: the pages stay in the balloon until the host returns the buffer, then are freed', () => {
    const vm = virtioVm();
    vm.run(2000);
    vm.balloon(4 * GiB - MiB);
    vm.run(1000);
    expect(vm.memory.balloonedPages()).toBe(256);
    const seen: Array<{ type: string; ballooned: number }> = [];
    vm.bus.trace$.subscribe((d: BusDelivery) => {
      if (d.to === 'device' && d.type === 'virtio.kick') seen.push({ type: 'kick', ballooned: vm.memory.balloonedPages() });
      if (d.to === 'guest' && d.type === 'virtio.interrupt') seen.push({ type: 'used', ballooned: vm.memory.balloonedPages() });
    });
    vm.balloon(4 * GiB);
    vm.run(1000);
    expect(seen).toEqual([
      { type: 'kick', ballooned: 256 },
      { type: 'used', ballooned: 256 },
    ]);
    expect(vm.memory.balloonedPages()).toBe(0);
    expect(vm.queryBalloon().actual).toBe(4 * GiB);
    vm.dispose();
  });
});

describe('virtio_balloon driver: DEFLATE_ON_OOM (virtio_balloon_oom_notify)', () => {
  const workload = { kind: 'script', steps: [{ atMs: 30_000, op: 'allocate', bytes: '3G' }] };

  it('with deflate-on-oom, an allocation that fails gives 256 pages back and updates actual', () => {
    const vm = createVm({ machine: { memory: '4G' }, device: { model: 'virtio-balloon', deflateOnOom: true }, workload } as never) as unknown as VirtioBalloonVm;
    vm.run(2000);
    vm.balloon(2 * GiB);
    vm.run(20_000);
    expect(vm.queryBalloon().actual).toBe(2 * GiB);
    vm.run(20_000);
    const c = vm.virtioCounters();
    expect(c.features.deflateOnOom).toBe(true);
    expect(c.driver.oomDeflates).toBe(1);
    expect(vm.queryBalloon().actual).toBe(2 * GiB + MiB);
    // The target stays: nothing re-inflates until the host changes it.
    vm.run(20_000);
    expect(vm.queryBalloon().actual).toBe(2 * GiB + MiB);
    vm.dispose();
  });

  it('without it, the balloon keeps its pages', () => {
    const vm = createVm({ machine: { memory: '4G' }, device: { model: 'virtio-balloon' }, workload } as never) as unknown as VirtioBalloonVm;
    vm.run(2000);
    vm.balloon(2 * GiB);
    vm.run(40_000);
    expect(vm.virtioCounters().driver.oomDeflates).toBe(0);
    expect(vm.queryBalloon().actual).toBe(2 * GiB);
    vm.dispose();
  });
});

describe('virtio_balloon driver: stats (stats_request, update_balloon_stats)', () => {
  it('answers each poll with fresh numbers the host reads with qom-get guest-stats', () => {
    const vm = virtioVm({ guestStatsPollingInterval: 2 });
    vm.run(2000);
    vm.balloon(3 * GiB);
    vm.run(10_000);
    const reply = vm.execute({ execute: 'qom-get', arguments: { path: '/machine/peripheral/balloon0', property: 'guest-stats' } }) as {
      return: { 'last-update': number; stats: Record<string, number> };
    };
    const stats = reply.return.stats;
    expect(stats['stat-free-memory']).toBe(vm.memory.freePages() * 4096);
    expect(stats['stat-total-memory']).toBe(vm.memory.managedPages() * 4096);
    expect(stats['stat-available-memory']).toBe(vm.memory.availablePages() * 4096);
    expect(stats['stat-swap-in']).toBe(0);
    expect(reply.return['last-update']).toBeGreaterThanOrEqual(10);
    // Every 2 s the buffer goes back and returns refreshed.
    expect(vm.virtioCounters().queues.stats.buffers).toBeGreaterThanOrEqual(5);
    vm.dispose();
  });
});

describe('virtio_balloon driver: reboot', () => {
  it('re-probes after system_reset and inflates again to the target the device kept', () => {
    const vm = virtioVm();
    vm.run(2000);
    vm.balloon(3 * GiB);
    vm.run(5000);
    vm.systemReset();
    expect(vm.memory.balloonedPages()).toBe(0);
    vm.run(10_000);
    expect(vm.queryBalloon().actual).toBe(3 * GiB);
    expect(vm.memory.balloonedPages()).toBe(GiB / 4096);
    vm.dispose();
  });
});
