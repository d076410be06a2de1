/** Demand curves: each shape's value over time, seeded parts repeat exactly, bad curves are refused naming the field. */
import { demandAt, validateDemandCurve, type DemandCurve } from '../../../machines/workload/demand-curve';

const G = 2 ** 30;
const M = 2 ** 20;
const H = 3_600_000;

describe('demand curves', () => {
  it('steady stays at its base', () => {
    const c: DemandCurve = { shape: 'steady', baseBytes: G };
    expect([0, H, 24 * H].map((t) => demandAt(c, 1, t))).toEqual([G, G, G]);
  });

  it('ramp goes linearly from one size to another, flat before and after', () => {
    const c: DemandCurve = { shape: 'ramp', fromBytes: G, toBytes: 3 * G, startMs: H, durationMs: 2 * H };
    expect(demandAt(c, 1, 0)).toBe(G);
    expect(demandAt(c, 1, 2 * H)).toBe(2 * G);
    expect(demandAt(c, 1, 5 * H)).toBe(3 * G);
  });

  it('diurnal peaks at its peak time and bottoms out twelve hours away', () => {
    const c: DemandCurve = { shape: 'diurnal', minBytes: G, maxBytes: 5 * G, peakMs: 14 * H };
    expect(demandAt(c, 1, 14 * H)).toBe(5 * G);
    expect(demandAt(c, 1, 2 * H)).toBe(G);
    expect(demandAt(c, 1, 8 * H)).toBe(3 * G);
  });

  it('spikes: one spike of spikeMs in every window, at a seeded place', () => {
    const c: DemandCurve = { shape: 'spikes', baseBytes: G, spikeBytes: 2 * G, everyMs: H, spikeMs: 10 * 60_000 };
    for (const seed of [1, 2, 3]) {
      for (let w = 0; w < 4; w++) {
        let high = 0;
        for (let t = w * H; t < (w + 1) * H; t += 60_000) if (demandAt(c, seed, t) === 3 * G) high++;
        expect(high).toBe(10);
      }
    }
    const where = (seed: number): number => [...Array(60).keys()].find((m) => demandAt(c, seed, m * 60_000) > G)!;
    expect(new Set([1, 2, 3, 4, 5].map(where)).size).toBeGreaterThan(1);
  });

  it('steps hold each size from its time on', () => {
    const c: DemandCurve = { shape: 'steps', steps: [{ atMs: 0, bytes: 300 * M }, { atMs: H, bytes: 2 * G }] };
    expect(demandAt(c, 1, H - 1)).toBe(300 * M);
    expect(demandAt(c, 1, H)).toBe(2 * G);
  });

  it('jitter delays the curve by a seeded amount within jitterMs; the same seed, the same delay', () => {
    const c: DemandCurve = { shape: 'steps', steps: [{ atMs: 0, bytes: 0 }, { atMs: H, bytes: G }], jitterMs: 10 * 60_000 };
    const start = (seed: number): number => [...Array(80).keys()].find((m) => demandAt(c, seed, H + (m - 5) * 30_000) > 0)!;
    const starts = [1, 2, 3, 4, 5, 6].map(start);
    // Sampled every 30 s from 2.5 min before the step: index 5 is the step's own time, 25 is 10 min later.
    for (const s of starts) expect(s).toBeGreaterThanOrEqual(5);
    for (const s of starts) expect(s).toBeLessThanOrEqual(25);
    expect(new Set(starts).size).toBeGreaterThan(1);
    expect(start(3)).toBe(start(3));
  });

  it('noise stays within +-noiseBytes and never below 0', () => {
    const c: DemandCurve = { shape: 'steady', baseBytes: 100 * M, noiseBytes: 200 * M };
    for (let t = 0; t < 100; t++) {
      const d = demandAt(c, 9, t * 60_000);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(300 * M);
    }
  });

  it.each([
    [{ shape: 'sawtooth' }, 'workload.shape'],
    [{ shape: 'steady', baseBytes: -1 }, 'workload.baseBytes'],
    [{ shape: 'diurnal', minBytes: 2 * G, maxBytes: G }, 'workload.maxBytes'],
    [{ shape: 'spikes', baseBytes: 0, spikeBytes: G, everyMs: 1000, spikeMs: 2000 }, 'workload.spikeMs'],
    [{ shape: 'steps', steps: [] }, 'workload.steps'],
    [{ shape: 'steps', steps: [{ atMs: 10, bytes: 1 }, { atMs: 5, bytes: 1 }] }, 'workload.steps[1].atMs'],
  ])('refuses %j naming %s', (curve, field) => {
    expect(() => validateDemandCurve(curve as DemandCurve, 'workload')).toThrow(expect.objectContaining({ field }));
  });
});
