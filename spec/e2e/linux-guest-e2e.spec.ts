/**
 * End to end: QEMU's hv-balloon device, the VMBus channel, the Linux guest driver, the memory
 * controller and the vCPU in one VM (actors/vm/create-vm.ts), all on the virtual clock. A 4 GiB
 * guest boots and negotiates, is shrunk to 2 GiB, given its memory back, grown past its boot size
 * by hot-add, and rebooted. Then the limits: a guest ballooned as far as its floor lets it, a
 * hot-add nobody onlines (5 s per block, counted as committed), a Windows guest at its reserve.
 */
import type { AnyActorRef } from 'xstate';
import { createVm, type Vm } from '../../actors/vm/create-vm';
import type { DmGuestDriverContext } from '../../machines/dm-guest-driver.machine';
import { balloonFloorPages } from '../../machines/dm-guest/balloon-floor';

const GiB = 1024 ** 3;
const PAGES_PER_GiB = 262_144;

function guestContext(vm: Vm): DmGuestDriverContext {
  return (vm.root.system.get('guest') as AnyActorRef).getSnapshot().context as DmGuestDriverContext;
}

/** Run until the device is idle again (at most `limitMs`). */
function settle(vm: Vm, limitMs = 120_000): void {
  const end = vm.clock.now() + limitMs;
  do vm.run(500);
  while (vm.deviceState() !== 'S_IDLE' && vm.clock.now() < end);
  vm.run(2_000);
}

describe('Linux guest with the hv-balloon device', () => {
  const vm = createVm({
    machine: { memory: '4G', maxmem: '40G' },
    device: { memdev: '4G', statusReport: true },
    guest: { profile: 'linux' },
    seed: 7,
  });
  const log: string[] = [];
  vm.trace$.subscribe((r) => {
    if (r.kind === 'guest' && r.event.type === 'log') log.push(r.event.text);
  });

  afterAll(() => vm.dispose());

  it('boots and negotiates version 2.0, then the device waits its 50 s', () => {
    vm.run(2_000);
    expect(guestContext(vm).dmState).toBe('Initialized');
    expect(log).toContain('Using Dynamic Memory protocol version 2.0');
    expect(vm.deviceState()).toBe('S_POST_INIT_WAIT');
    vm.run(50_000);
    expect(vm.deviceState()).toBe('S_IDLE');
    expect(vm.queryBalloon().actual).toBe(4 * GiB);
  });

  it('shrinks the 4 GiB guest to 2 GiB', () => {
    vm.balloon(2 * GiB);
    settle(vm);
    expect(vm.queryBalloon().actual).toBe(2 * GiB);
    expect(vm.memory.balloonedPages()).toBe(2 * PAGES_PER_GiB);
    expect(guestContext(vm).stats.balloonResponses).toBeGreaterThanOrEqual(3);
  });

  it('gives the memory back', () => {
    vm.balloon(4 * GiB);
    settle(vm);
    expect(vm.queryBalloon().actual).toBe(4 * GiB);
    expect(vm.memory.balloonedPages()).toBe(0);
    expect(vm.messageCounts().DM_UNBALLOON_RESPONSE).toBe(1);
  });

  it('grows past the boot size by hot-add, onlining the new memory', () => {
    vm.balloon(6 * GiB);
    settle(vm);
    expect(vm.queryBalloon().actual).toBe(6 * GiB);
    const ctx = guestContext(vm);
    expect(ctx.hotAdd.addedPages).toBe(2 * PAGES_PER_GiB);
    expect(ctx.hotAdd.onlinedPages).toBe(2 * PAGES_PER_GiB);
    expect(vm.memory.offlinePageCount()).toBe(0);
  });

  it('reboots back to the boot size and negotiates again from trans_id 1', () => {
    vm.execute({ execute: 'system_reset' });
    vm.run(2_000);
    const ctx = guestContext(vm);
    expect(ctx.dmState).toBe('Initialized');
    expect(ctx.transId).toBeLessThanOrEqual(3);
    expect(ctx.hotAdd.regions).toHaveLength(0);
    vm.run(50_000);
    expect(vm.queryBalloon().actual).toBe(4 * GiB);
  });
});

describe('Linux guest at its limits (whole VM)', () => {
  const MiB = 1024 ** 2;

  it('stops ballooning where the balloon floor says: MemAvailable = floor(managed), last answer empty', () => {
    const vm = createVm({ machine: { memory: '4G', maxmem: '44G' }, device: { memdev: '8G' }, guest: { profile: 'linux' }, seed: 3 });
    try {
      vm.run(53_000);
      vm.balloon(1 * MiB);
      settle(vm);
      const managed = vm.memory.managedPages();
      // No workload: the guest converges on 40 MiB + T/4 = T - (kernel 64 MiB + watermarks), T ~ 160 MiB.
      expect(managed).toBeGreaterThan(128 * 256);
      expect(managed).toBeLessThan(512 * 256);
      const floor = 40 * 256 + Math.floor(managed / 4); // Linux compute_balloon_floor, 128 MiB <= T < 512 MiB
      expect(balloonFloorPages(managed)).toBe(floor);
      expect(Math.abs(vm.memory.availablePages() - floor)).toBeLessThanOrEqual(1);
      const responses = vm.messageCounts().DM_BALLOON_RESPONSE ?? 0;
      expect(responses).toBeGreaterThan(2);
      expect(guestContext(vm).work.balloonUp).toBeNull();
      expect(vm.queryBalloon().actual).toBeGreaterThan(managed * 4096);
    } finally {
      vm.dispose();
    }
  });

  it('hot-adds memory nobody onlines: 5 s per 128 MiB block, all of it reported as committed', () => {
    const vm = createVm({
      machine: { memory: '4G', maxmem: '44G' },
      device: { memdev: '8G', statusReport: true },
      guest: { profile: 'linux' },
      memctl: { onlineDelay: null },
      seed: 3,
    });
    try {
      vm.run(53_000);
      const t0 = vm.clock.now();
      vm.balloon(6 * GiB);
      settle(vm, 200_000);
      const elapsed = vm.clock.now() - t0;
      // 2 GiB = 16 blocks, each waited for 5 s, in one 2 GiB request.
      expect(elapsed).toBeGreaterThanOrEqual(80_000);
      expect(elapsed).toBeLessThan(90_000);
      expect(vm.queryBalloon().actual).toBe(6 * GiB);
      const ctx = guestContext(vm);
      expect([ctx.hotAdd.addedPages, ctx.hotAdd.onlinedPages]).toEqual([2 * PAGES_PER_GiB, 0]);
      expect(vm.memory.offlinePageCount()).toBe(2 * PAGES_PER_GiB);
      // Committed_AS (the recorded minimal guest's 3096 kB) + 2 GiB added - 0 onlined + the floor of
      // the ~3.9 GiB MemTotal left after the kernel's boot reservations (232 + 3921/16 = 477 MiB).
      const report = vm.queryHvBalloonStatusReport();
      const floor = balloonFloorPages(vm.memory.managedPages());
      expect(floor).toBeGreaterThan(470 * 256);
      expect(floor).toBeLessThan(480 * 256);
      expect(report.committed).toBe((vm.memory.committedPages() + 2 * PAGES_PER_GiB + floor) * 4096);
      expect(vm.memory.committedPages() * 4).toBe(3096);
    } finally {
      vm.dispose();
    }
  });

  it('a Windows guest ballooned to its minimum keeps its 512 MiB reserve, in few large ranges', () => {
    const vm = createVm({ machine: { memory: '4G', maxmem: '44G' }, device: { memdev: '8G' }, guest: { profile: 'windows' }, seed: 3 });
    try {
      vm.run(53_000);
      vm.balloon(1 * MiB);
      settle(vm);
      expect(vm.memory.availablePages()).toBe(512 * 256);
      expect(vm.messageCounts().DM_BALLOON_RESPONSE).toBeLessThanOrEqual(4);
    } finally {
      vm.dispose();
    }
  });
});
