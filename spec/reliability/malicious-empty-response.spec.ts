/**
 * Issue #9, item 1: the overlappingRanges misbehaviour on an empty balloon response (a small guest
 * at its floor, before any earlier range) threw inside the guest part and stopped the whole VM;
 * every later command, system_reset included, then failed.
 */
import { corruptRanges } from '../../machines/dm-guest/malicious-plan';
import { createVm } from '../../actors/vm/create-vm';

describe('a malicious guest with nothing to overlap', () => {
  it('notes that it has no range to overlap instead of throwing', () => {
    const out = corruptRanges([], [{ kind: 'overlappingRanges', response: 1 }], null, 1);
    expect(out.ranges).toEqual([]);
    expect(out.notes).toEqual([{ kind: 'overlappingRanges', text: 'balloon response #1: no range to overlap' }]);
  });

  it.each([72, 80, 96])('a %i MiB guest at its floor keeps the VM alive: queries answer and reset returns to boot size', (mib) => {
    const boot = mib * 2 ** 20;
    const vm = createVm({
      machine: { memory: `${mib}M` },
      device: {},
      guest: { profile: 'malicious', plan: [{ kind: 'overlappingRanges', response: 1 }] },
    });
    const notes: string[] = [];
    vm.trace$.subscribe((r) => {
      if (r.kind === 'guest' && r.event.type === 'misbehaviour') notes.push(r.event.text);
    });
    vm.run(60_000);
    // Far below what the guest can give: its first response is empty (it is at its floor).
    vm.balloon(4096);
    vm.run(30_000);
    expect(() => vm.counters()).not.toThrow();
    expect(vm.queryBalloon().actual).toBeLessThanOrEqual(boot);
    vm.systemReset();
    expect(vm.queryBalloon()).toEqual({ actual: boot });
    const device = vm.counters().device!;
    expect([device.removedGuestCtr, device.removedBothCtr]).toEqual([0, 0]);
    // The plan did fire, on an empty response: the guest had nothing to overlap.
    expect(notes).toContain('balloon response #1: no range to overlap');
    vm.dispose();
  });
});
