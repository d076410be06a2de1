/**
 * Issue #9, item 2: virtual time is an integer count of microseconds inside the clock, so a
 * fractional target is reached exactly and "now" is one instant for timers and settles alike.
 */
import { MAX_VIRTUAL_MS, VirtualClock, msToMicros, quantizeMs } from '../../actors/virtual-clock';

describe('VirtualClock keeps integer microseconds', () => {
  it('reaches a fractional target exactly and reports it in ms', () => {
    const clock = new VirtualClock();
    clock.runUntil(131072.02);
    expect(clock.nowMicros()).toBe(131_072_020);
    expect(clock.now()).toBe(131072.02);
    expect(clock.now() >= 131072.02).toBe(true);
  });

  it('fires a timer armed "now" at the settle of that same instant, for every instant tried', () => {
    const clock = new VirtualClock();
    let missed = 0;
    for (let i = 0; i < 20_000; i++) {
      clock.runUntil(131072 + i * 0.01 + (i % 7) * 0.001);
      let fired = false;
      clock.setTimeout(() => (fired = true), 0);
      clock.runUntil(clock.now());
      if (!fired) missed++;
    }
    expect(missed).toBe(0);
  });

  it('sums fractional delays without float drift', () => {
    const clock = new VirtualClock();
    for (let i = 0; i < 1000; i++) clock.advance(0.01);
    expect(clock.nowMicros()).toBe(10_000);
    expect(clock.now()).toBe(10);
  });

  it('a run cut into slices of N timers fires the same timers in the same order as one run', () => {
    const schedule = (clock: VirtualClock, out: string[]): void => {
      for (let i = 0; i < 300; i++) {
        clock.setTimeout(() => {
          out.push(`${i}@${clock.nowMicros()}`);
          if (i % 3 === 0) clock.setTimeout(() => out.push(`${i}+@${clock.nowMicros()}`), 0.5);
        }, (i * 7919) % 97 + 0.0005 * i);
      }
    };
    const whole: string[] = [];
    const a = new VirtualClock();
    schedule(a, whole);
    a.runUntil(200);
    const sliced: string[] = [];
    const b = new VirtualClock();
    schedule(b, sliced);
    let slices = 0;
    while (!b.runUntilMicros(msToMicros(200), 7)) slices++;
    expect(slices).toBeGreaterThan(10);
    expect(sliced).toEqual(whole);
    expect(b.nowMicros()).toBe(a.nowMicros());
  });

  it('quantizes ms the way the clock holds them, and names its range', () => {
    expect(quantizeMs(0.0004)).toBe(0);
    expect(quantizeMs(1.0005)).toBe(1.001);
    expect(MAX_VIRTUAL_MS).toBe(Math.floor(Number.MAX_SAFE_INTEGER / 1000));
  });
});
