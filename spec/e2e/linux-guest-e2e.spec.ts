/**
 * End to end: QEMU's hv-balloon device, the VMBus channel, the Linux guest driver, the memory
 * controller and the vCPU in one VM (actors/vm/create-vm.ts), all on the virtual clock. A 4 GiB
 * guest boots and negotiates, is shrunk to 2 GiB, given its memory back, grown past its boot size
 * by hot-add, and rebooted.
 */
import type { AnyActorRef } from 'xstate';
import { createVm, type Vm } from '../../actors/vm/create-vm';
import type { DmGuestDriverContext } from '../../machines/dm-guest-driver.machine';

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
