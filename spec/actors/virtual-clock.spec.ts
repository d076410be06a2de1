import { createActor, setup } from 'xstate';
import { interval, take } from 'rxjs';
import { VirtualClock } from '../../actors/virtual-clock';

describe('VirtualClock', () => {
  it('fires timers in (due time, arming order) and leaves time at the target', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@10'), 10);
    clock.setTimeout(() => fired.push('a@5'), 5);
    clock.setTimeout(() => fired.push('c@10'), 10);
    clock.runUntil(35);
    expect(fired).toEqual(['a@5', 'b@10', 'c@10']);
    expect(clock.now()).toBe(35);
  });

  it('fires chained XState `after` timers within one advance (SimulatedClock does not)', () => {
    const clock = new VirtualClock();
    const chain = setup({}).createMachine({
      initial: 'a',
      states: { a: { after: { 10: 'b' } }, b: { after: { 10: 'c' } }, c: {} },
    });
    const actor = createActor(chain, { clock }).start();
    clock.advance(20);
    expect(actor.getSnapshot().value).toBe('c');
  });

  it('does not fire a cleared timer', () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    const h = clock.setTimeout(() => fired.push(1), 5);
    clock.setTimeout(() => fired.push(2), 6);
    clock.clearTimeout(h);
    expect(clock.pending()).toBe(1);
    clock.advance(10);
    expect(fired).toEqual([2]);
    expect(clock.pending()).toBe(0);
  });

  it('is an rxjs scheduler: interval ticks on virtual time', () => {
    const clock = new VirtualClock(20);
    const ticks: number[] = [];
    interval(7, clock)
      .pipe(take(3))
      .subscribe(() => ticks.push(clock.now()));
    clock.advance(100);
    expect(ticks).toEqual([27, 34, 41]);
  });

  it('jumps straight to the next due timer (as fast as possible)', () => {
    const clock = new VirtualClock();
    clock.setTimeout(() => undefined, 50_000);
    expect(clock.nextDue()).toBe(50_000);
    expect(clock.runNext()).toBe(true);
    expect(clock.now()).toBe(50_000);
    expect(clock.runNext()).toBe(false);
    expect(clock.nextDue()).toBeUndefined();
  });

  it('gives the same firing order for the same schedule (determinism)', () => {
    const run = (): string[] => {
      const clock = new VirtualClock();
      const out: string[] = [];
      for (let i = 0; i < 200; i++) clock.setTimeout(() => out.push(`${i}@${clock.now()}`), (i * 7919) % 97);
      clock.runToIdle();
      return out;
    };
    expect(run()).toEqual(run());
  });
});
