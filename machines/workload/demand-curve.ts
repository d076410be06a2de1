/**
 * Demand over time: how much memory a guest's applications want at a virtual time, as a pure,
 * seeded function of (curve, seed, elapsed ms). The vCPU's `demand` workload follows it; the host
 * layer never reads it (a host only sees what the guest reports). Every shape is stateless, so a
 * curve can be sampled at any time, in any order, with the same answer — what a day-long host run
 * with 100 VMs needs to stay deterministic.
 */
import { SeededPrng } from '../seeded-prng';

export type DemandShape =
  /** Flat at `baseBytes`. */
  | { shape: 'steady'; baseBytes: number }
  /** From `fromBytes` to `toBytes`, linearly over `durationMs` starting at `startMs`; flat outside. */
  | { shape: 'ramp'; fromBytes: number; toBytes: number; startMs?: number; durationMs: number }
  /**
   * A day: a cosine between `minBytes` (night) and `maxBytes` (at `peakMs` after midnight).
   * `dayMs` (default 24 h) is the period; time 0 is midnight plus `offsetMs` (default 0).
   */
  | { shape: 'diurnal'; minBytes: number; maxBytes: number; peakMs?: number; dayMs?: number; offsetMs?: number }
  /**
   * `baseBytes`, plus `spikeBytes` during spikes of `spikeMs`: one spike in every window of
   * `everyMs`, at a seeded offset within it.
   */
  | { shape: 'spikes'; baseBytes: number; spikeBytes: number; everyMs: number; spikeMs: number }
  /** Piecewise constant: `bytes` from each step's `atMs` on (0 before the first step). */
  | { shape: 'steps'; steps: { atMs: number; bytes: number }[] };

/** A curve: a shape plus optional seeded noise and a seeded start delay. */
export type DemandCurve = DemandShape & {
  /** Uniform noise in [-noiseBytes, +noiseBytes], drawn per `noisePeriodMs` (default 60 s) window. */
  noiseBytes?: number;
  noisePeriodMs?: number;
  /** The curve starts late by a seeded delay in [0, jitterMs] (e.g. users logging in at 8:00 +- a few minutes). */
  jitterMs?: number;
};

export const DEMAND_SHAPES = ['steady', 'ramp', 'diurnal', 'spikes', 'steps'] as const;

const DAY_MS = 86_400_000;
const DEFAULT_NOISE_PERIOD_MS = 60_000;

/** A bad curve; `field` names it (e.g. "workload.maxBytes"). */
export class DemandCurveError extends Error {
  override readonly name = 'DemandCurveError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** A deterministic uniform float in [0, 1) for (seed, stream, index): no state to carry. */
export function hashUniform(seed: number, stream: number, index: number): number {
  const mixed = ((seed >>> 0) * 0x1_0000 + ((stream * 7919 + index) % 0x1_0000_0000)) % Number.MAX_SAFE_INTEGER;
  return new SeededPrng(mixed).nextFloat();
}

/** The demand in bytes at `elapsedMs` after the workload started (or the VM rebooted). */
export function demandAt(curve: DemandCurve, seed: number, elapsedMs: number): number {
  const delay = curve.jitterMs ? Math.floor(hashUniform(seed, 1, 0) * curve.jitterMs) : 0;
  const t = elapsedMs - delay;
  let bytes = shapeAt(curve, seed, t);
  if (curve.noiseBytes) {
    const window = Math.floor(Math.max(0, elapsedMs) / (curve.noisePeriodMs ?? DEFAULT_NOISE_PERIOD_MS));
    bytes += (hashUniform(seed, 2, window) * 2 - 1) * curve.noiseBytes;
  }
  return Math.max(0, Math.round(bytes));
}

function shapeAt(curve: DemandShape, seed: number, t: number): number {
  switch (curve.shape) {
    case 'steady':
      return curve.baseBytes;
    case 'ramp': {
      const start = curve.startMs ?? 0;
      if (t <= start) return curve.fromBytes;
      if (curve.durationMs === 0 || t >= start + curve.durationMs) return curve.toBytes;
      return curve.fromBytes + ((curve.toBytes - curve.fromBytes) * (t - start)) / curve.durationMs;
    }
    case 'diurnal': {
      const day = curve.dayMs ?? DAY_MS;
      const clock = t + (curve.offsetMs ?? 0);
      const phase = (2 * Math.PI * (clock - (curve.peakMs ?? day * (14 / 24)))) / day;
      return curve.minBytes + ((curve.maxBytes - curve.minBytes) * (1 + Math.cos(phase))) / 2;
    }
    case 'spikes': {
      if (t < 0) return curve.baseBytes;
      const window = Math.floor(t / curve.everyMs);
      const start = window * curve.everyMs + Math.floor(hashUniform(seed, 3, window) * (curve.everyMs - curve.spikeMs));
      return t >= start && t < start + curve.spikeMs ? curve.baseBytes + curve.spikeBytes : curve.baseBytes;
    }
    case 'steps': {
      let bytes = 0;
      for (const s of curve.steps) if (s.atMs <= t) bytes = s.bytes;
      return bytes;
    }
  }
}

/** Checks a curve (sizes already in bytes, times in ms); throws DemandCurveError naming the field. */
export function validateDemandCurve(curve: DemandCurve, path: string): void {
  const c = curve as unknown as Record<string, unknown>;
  const num = (key: string, opts: { positive?: boolean; optional?: boolean } = {}): void => {
    const v = c[key];
    if (v === undefined && opts.optional) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (opts.positive && v === 0)) {
      throw new DemandCurveError(`${path}.${key}`, `${path}.${key}: expected ${opts.positive ? 'a number > 0' : 'a number >= 0'}, got ${JSON.stringify(v)}`);
    }
  };
  switch (curve.shape) {
    case 'steady':
      num('baseBytes');
      break;
    case 'ramp':
      num('fromBytes');
      num('toBytes');
      num('startMs', { optional: true });
      num('durationMs');
      break;
    case 'diurnal':
      num('minBytes');
      num('maxBytes');
      num('peakMs', { optional: true });
      num('dayMs', { optional: true, positive: true });
      num('offsetMs', { optional: true });
      if (curve.maxBytes < curve.minBytes) {
        throw new DemandCurveError(`${path}.maxBytes`, `${path}.maxBytes: must be at least minBytes (${curve.minBytes}), got ${curve.maxBytes}`);
      }
      break;
    case 'spikes':
      num('baseBytes');
      num('spikeBytes');
      num('everyMs', { positive: true });
      num('spikeMs', { positive: true });
      if (curve.spikeMs > curve.everyMs) {
        throw new DemandCurveError(`${path}.spikeMs`, `${path}.spikeMs: a spike (${curve.spikeMs} ms) must fit in its window everyMs (${curve.everyMs} ms)`);
      }
      break;
    case 'steps':
      if (!Array.isArray(curve.steps) || curve.steps.length === 0) {
        throw new DemandCurveError(`${path}.steps`, `${path}.steps: expected a non-empty array of {"atMs", "bytes"}, got ${JSON.stringify(curve.steps)}`);
      }
      curve.steps.forEach((s, i) => {
        if (typeof s.atMs !== 'number' || !(s.atMs >= 0)) throw new DemandCurveError(`${path}.steps[${i}].atMs`, `${path}.steps[${i}].atMs: expected a time >= 0, got ${JSON.stringify(s.atMs)}`);
        if (typeof s.bytes !== 'number' || !(s.bytes >= 0)) throw new DemandCurveError(`${path}.steps[${i}].bytes`, `${path}.steps[${i}].bytes: expected a size >= 0, got ${JSON.stringify(s.bytes)}`);
        if (i > 0 && s.atMs < curve.steps[i - 1]!.atMs) throw new DemandCurveError(`${path}.steps[${i}].atMs`, `${path}.steps[${i}].atMs: steps must be in time order`);
      });
      break;
    default:
      throw new DemandCurveError(`${path}.shape`, `${path}.shape: expected one of ${DEMAND_SHAPES.join(', ')}, got ${JSON.stringify((curve as { shape?: unknown }).shape)}`);
  }
  num('noiseBytes', { optional: true });
  num('noisePeriodMs', { optional: true, positive: true });
  num('jitterMs', { optional: true });
}
