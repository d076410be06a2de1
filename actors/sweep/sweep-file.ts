/**
 * Sweep files: a base scenario, the axes to vary (any scenario field by its path, as a list, an
 * integer range "1..1000" or a numeric {from, to, step}), the figures to read from each run and a
 * wall-time budget per run. Every combination of axis values is one run; combinations are
 * numbered in a fixed order (the first axis varies slowest), which is the order of the results.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { PACKAGE_VERSION } from '../package-root';
import { parseDuration, parseSize } from '../units';
import { FieldPathError, formatFieldPath, parseFieldPath, writeFieldPath, type PathSegment } from './field-path';
import { kindOf, type ScenarioKind } from './scenario-kinds';

/** A sweep file that cannot be used; the message names the file, the field and the value. */
export class SweepError extends Error {
  override readonly name = 'SweepError';
}

export interface SweepAxis {
  path: string;
  segments: PathSegment[];
  values: unknown[];
}

export interface SweepFigure {
  name: string;
  path: string;
  segments: PathSegment[];
  /** The unit the figure is given in ("MiB", "s"), or undefined for the raw value. */
  unit?: string;
  /** The raw value is divided by this. */
  divisor: number;
}

export interface Sweep {
  name: string;
  description?: string;
  /** The sweep file (error messages and result files name it). */
  source: string;
  /** Identifies this sweep's runs (in results files and queue jobs): a hash of what decides its results. */
  id: string;
  kind: string;
  /** The base scenario as JSON; each run sets its axis values on a copy. */
  base: Record<string, unknown>;
  baseSource: string;
  axes: SweepAxis[];
  figures: SweepFigure[];
  /** Wall-clock ms a run may take before it is recorded as over budget. */
  budgetMs: number;
  /** Number of combinations (runs). */
  runs: number;
}

const SWEEP_FIELDS = ['name', 'description', 'base', 'axes', 'figures', 'budget'];
export const DEFAULT_BUDGET_MS = 120_000;
/** More runs than this is a mistake in a range, not a sweep. */
export const MAX_RUNS = 10_000_000;
const MAX_AXIS_VALUES = 1_000_000;

/** Reads and checks a sweep file; each axis value is tried on the base scenario before anything runs. */
export function loadSweepFile(path: string): Sweep {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SweepError(code ? `${path}: cannot read the sweep file (${code})` : `${path}: not valid JSON (${(err as Error).message})`);
  }
  const sweep = parseSweep(json, path, dirname(resolve(path)));
  if ((json as { name?: unknown }).name === undefined) sweep.name = basename(path).replace(/\.json$/i, '');
  return sweep;
}

/** Checks a sweep (parsed JSON). A `base` given as a file name is read relative to `baseDir`. */
export function parseSweep(value: unknown, source = 'sweep', baseDir = process.cwd()): Sweep {
  const fail = (field: string, message: string): never => {
    throw new SweepError(`${source}: ${field}: ${message}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('(top level)', 'expected a JSON object');
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) if (!SWEEP_FIELDS.includes(key)) fail(key, `unknown field (expected one of: ${SWEEP_FIELDS.join(', ')})`);
  if (obj.name !== undefined && typeof obj.name !== 'string') fail('name', `expected a string, got ${JSON.stringify(obj.name)}`);
  if (obj.description !== undefined && typeof obj.description !== 'string') fail('description', 'expected a string');

  const { base, baseSource } = readBase(obj.base, source, baseDir, fail);
  const kind = kindOf(base);
  try {
    kind.check(base, baseSource);
  } catch (err) {
    fail('base', (err as Error).message);
  }

  if (typeof obj.axes !== 'object' || obj.axes === null || Array.isArray(obj.axes) || Object.keys(obj.axes).length === 0) {
    fail('axes', 'expected an object of field path -> values, e.g. {"channel.ringBytes": ["4K", "16K"], "seed": "1..10"}');
  }
  const axes: SweepAxis[] = Object.entries(obj.axes as Record<string, unknown>).map(([path, raw]) => {
    let segments: PathSegment[];
    try {
      segments = parseFieldPath(path);
    } catch (err) {
      return fail(`axes`, (err as Error).message);
    }
    return { path, segments, values: axisValues(raw, `axes["${path}"]`, fail) };
  });
  const runs = axes.reduce((n, axis) => n * axis.values.length, 1);
  if (runs > MAX_RUNS) fail('axes', `${runs} combinations is more than ${MAX_RUNS}`);
  for (const axis of axes) checkAxis(base, axis, kind, baseSource, fail);

  const figures = readFigures(obj.figures ?? kind.defaultFigures, fail);
  let budgetMs = DEFAULT_BUDGET_MS;
  if (obj.budget !== undefined) {
    try {
      budgetMs = parseDuration(obj.budget as string | number, 'budget');
    } catch (err) {
      fail('budget', `${(err as Error).message.replace(/^budget: /, '')} (wall-clock time a run may take)`);
    }
    if (budgetMs <= 0) fail('budget', 'must be more than 0');
  }
  const name = (obj.name as string | undefined) ?? 'sweep';
  const sweep: Sweep = { name, source, id: '', kind: kind.name, base, baseSource, axes, figures, budgetMs, runs };
  if (typeof obj.description === 'string') sweep.description = obj.description;
  sweep.id = sweepId(sweep);
  return sweep;
}

function readBase(raw: unknown, source: string, baseDir: string, fail: (field: string, message: string) => never): { base: Record<string, unknown>; baseSource: string } {
  if (typeof raw === 'string') {
    const file = resolve(baseDir, raw);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      return fail('base', `cannot read the base scenario "${raw}" (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      return fail('base', `${raw}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('base', `${raw}: expected a scenario object`);
    const base = json as Record<string, unknown>;
    // Named after its file, as `run` names it, so runs say which scenario they came from.
    if (base.name === undefined) base.name = basename(raw).replace(/\.json$/i, '');
    // As the user reaches it from here: messages name a file they can open, and what a scenario
    // names relative to itself (a host's policy module) resolves from any working directory.
    return { base, baseSource: relative(process.cwd(), file) || file };
  }
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) return { base: raw as Record<string, unknown>, baseSource: `${source}: base` };
  return fail('base', `expected a scenario file name (relative to the sweep file) or a scenario object, got ${JSON.stringify(raw)}`);
}

/** An axis's values: a list, "a..b" (integers), or {from, to, step}. */
function axisValues(raw: unknown, field: string, fail: (field: string, message: string) => never): unknown[] {
  if (Array.isArray(raw)) {
    if (raw.length === 0) fail(field, 'an empty list (an axis needs at least one value)');
    return raw;
  }
  if (typeof raw === 'string') {
    const match = /^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$/.exec(raw);
    if (!match) return fail(field, `"${raw}" is not a range (expected a list of values, "1..1000" or {"from", "to", "step"})`);
    const [from, to] = [Number(match[1]), Number(match[2])];
    if (to < from) fail(field, `"${raw}" ends before it starts`);
    if (to - from + 1 > MAX_AXIS_VALUES) fail(field, `"${raw}" has more than ${MAX_AXIS_VALUES} values`);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  }
  if (typeof raw === 'object' && raw !== null) {
    const { from, to, step, ...rest } = raw as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) fail(`${field}.${extra[0]}`, 'unknown field (expected from, to, step)');
    for (const [key, v] of Object.entries({ from, to, step })) {
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${field}.${key}`, `expected a number, got ${JSON.stringify(v)}`);
    }
    const [a, b, s] = [from as number, to as number, step as number];
    if (s <= 0) fail(`${field}.step`, `must be more than 0, got ${s}`);
    if (b < a) fail(field, `to (${b}) is before from (${a})`);
    const count = Math.floor((b - a) / s + 1e-9) + 1;
    if (count > MAX_AXIS_VALUES) fail(field, `${count} values is more than ${MAX_AXIS_VALUES}`);
    // Computed from the index, not by repeated addition, so 0.1 steps do not drift.
    return Array.from({ length: count }, (_, i) => Number((a + i * s).toPrecision(12)));
  }
  return fail(field, `expected a list of values, "1..1000" or {"from", "to", "step"}, got ${JSON.stringify(raw)}`);
}

/** Each value of an axis, set alone on the base scenario, must give a scenario that can run. */
function checkAxis(base: Record<string, unknown>, axis: SweepAxis, kind: ScenarioKind, baseSource: string, fail: (field: string, message: string) => never): void {
  for (const value of axis.values) {
    const field = `axes["${axis.path}"] value ${JSON.stringify(value)}`;
    let scenario: Record<string, unknown>;
    try {
      scenario = withValues(base, [axis], [value]);
    } catch (err) {
      return fail(`axes["${axis.path}"]`, (err as Error).message);
    }
    try {
      kind.check(scenario, baseSource);
    } catch (err) {
      fail(field, (err as Error).message);
    }
  }
}

function readFigures(raw: unknown, fail: (field: string, message: string) => never): SweepFigure[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail('figures', 'expected an object of name -> path into the run result, e.g. {"actualMiB": {"path": "final.actualBytes", "in": "MiB"}}');
  }
  return Object.entries(raw as Record<string, unknown>).map(([name, spec]) => {
    const field = `figures.${name}`;
    const { path, in: unit } =
      typeof spec === 'string' ? { path: spec, in: undefined } : typeof spec === 'object' && spec !== null ? (spec as { path?: unknown; in?: unknown }) : { path: undefined, in: undefined };
    if (typeof path !== 'string') return fail(field, `expected a path into the run result ("final.actualBytes") or {"path", "in"}, got ${JSON.stringify(spec)}`);
    if (typeof spec === 'object' && spec !== null) {
      const extra = Object.keys(spec).filter((k) => k !== 'path' && k !== 'in');
      if (extra.length > 0) fail(`${field}.${extra[0]}`, 'unknown field (expected path, in)');
    }
    let segments: PathSegment[] = [];
    try {
      segments = parseFieldPath(path);
    } catch (err) {
      fail(field, (err as Error).message);
    }
    if (unit === undefined) return { name, path, segments, divisor: 1 };
    if (typeof unit !== 'string') return fail(`${field}.in`, `expected a unit like "MiB", "GiB", "s" or "min", got ${JSON.stringify(unit)}`);
    return { name, path, segments, unit, divisor: unitDivisor(unit, `${field}.in`, fail) };
  });
}

/** "MiB" -> 2^20 (sizes are bytes), "s" -> 1000 (times are ms). */
function unitDivisor(unit: string, field: string, fail: (field: string, message: string) => never): number {
  for (const parse of [parseSize, parseDuration]) {
    try {
      const divisor = parse(`1${unit}`, field);
      if (divisor > 0) return divisor;
    } catch {
      /* try the other kind of unit */
    }
  }
  return fail(field, `unknown unit "${unit}" (a size unit like KiB, MiB, GiB, or a time unit: ms, s, min, h)`);
}

/** The axis values of combination `index` (the last axis varies fastest). */
export function combinationValues(sweep: Pick<Sweep, 'axes'>, index: number): unknown[] {
  const values: unknown[] = new Array(sweep.axes.length);
  let rest = index;
  for (let i = sweep.axes.length - 1; i >= 0; i--) {
    const axis = sweep.axes[i];
    values[i] = axis.values[rest % axis.values.length];
    rest = Math.floor(rest / axis.values.length);
  }
  return values;
}

/** Combination `index` as `{path: value}`, in axis order (what the results file shows). */
export function combinationOf(sweep: Pick<Sweep, 'axes'>, index: number): Record<string, unknown> {
  const values = combinationValues(sweep, index);
  return Object.fromEntries(sweep.axes.map((axis, i) => [axis.path, values[i]]));
}

/** The scenario of combination `index`: the base with its axis values set. */
export function scenarioOf(sweep: Pick<Sweep, 'axes' | 'base'>, index: number): Record<string, unknown> {
  return withValues(sweep.base, sweep.axes, combinationValues(sweep, index));
}

function withValues(base: Record<string, unknown>, axes: readonly SweepAxis[], values: readonly unknown[]): Record<string, unknown> {
  const scenario = structuredClone(base);
  axes.forEach((axis, i) => {
    try {
      writeFieldPath(scenario, axis.segments, structuredClone(values[i]));
    } catch (err) {
      if (err instanceof FieldPathError) throw new FieldPathError(`cannot set ${formatFieldPath(axis.segments)}: ${err.message}`);
      throw err;
    }
  });
  return scenario;
}

/** A hash of everything that decides the results: the simulator's version, the base, the axes, the figures. */
function sweepId(sweep: Sweep): string {
  const decided = {
    version: PACKAGE_VERSION,
    kind: sweep.kind,
    base: sweep.base,
    axes: sweep.axes.map((a) => [a.path, a.values]),
    figures: sweep.figures.map((f) => [f.name, f.path, f.divisor]),
  };
  return createHash('sha256').update(JSON.stringify(decided)).digest('hex').slice(0, 16);
}
