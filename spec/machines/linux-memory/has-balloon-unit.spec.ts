/**
 * MachineMemory.hasBalloonUnit answers, without changing anything, whether a balloon allocation of
 * one unit would get it now: the guest driver uses the answer to take a message in one step, so
 * it must agree with allocateBalloonUnits to the last unit, in the calibrated Linux model (zones,
 * watermarks, lowmem reserves) and in the simple one.
 */
import { MachineMemory } from '../../../machines/machine-memory';

const GiB = 1024 ** 3;

describe.each([
  ['the Linux model', () => new MachineMemory({ machineType: 'q35', ramBytes: 4 * GiB })],
  ['the simple model', () => new MachineMemory({ machineType: 'q35', ramBytes: 4 * GiB, kernelReservedPages: 30_000 })],
])('hasBalloonUnit in %s', (_name, make) => {
  it('says yes exactly while allocateBalloonUnits(unitPages, 1) gets a unit, and changes nothing', () => {
    for (const unitPages of [512, 1]) {
      const m = make();
      // Workload pages first, so free memory has holes.
      m.allocateUsed(300_000);
      let yes = 0;
      // Allocations of 1, 2, 4 ... units, back to 1 when one falls short: many asks near the end.
      let k = 1;
      for (;;) {
        const before = [m.freePages(), m.balloonedPages()];
        const predicted = m.hasBalloonUnit(unitPages);
        expect([m.freePages(), m.balloonedPages()]).toEqual(before);
        const got = m.allocateBalloonUnits(unitPages, k);
        expect(predicted).toBe(got.length > 0);
        if (got.length === 0) break;
        yes++;
        k = got.length === k ? k * 2 : 1;
      }
      expect(yes).toBeGreaterThan(0);
    }
  });
});
