/**
 * The summary at the end of a sweep: for each axis value, how many runs, how many failed, and the
 * mean, min and max of each figure over its successful runs. Computed from every run of the sweep,
 * those resumed from the results file included, so an interrupted sweep ends with the same summary.
 */
import type { RunDigest } from './results-file';
import type { Sweep } from './sweep-file';

export interface FigureStats {
  mean: number | null;
  min: number | null;
  max: number | null;
  /** Runs that gave this figure a number. */
  count: number;
}

export interface GroupSummary {
  runs: number;
  ok: number;
  failed: number;
  overBudget: number;
  figures: Record<string, FigureStats>;
}

export interface AxisSummary {
  path: string;
  values: Array<{ value: unknown } & GroupSummary>;
}

export interface SweepSummary {
  sweep: string;
  id: string;
  runs: number;
  all: GroupSummary;
  axes: AxisSummary[];
}

class Accumulator {
  runs = 0;
  ok = 0;
  failed = 0;
  overBudget = 0;
  private readonly sums = new Map<string, { sum: number; min: number; max: number; count: number }>();

  constructor(private readonly figureNames: readonly string[]) {}

  add(run: RunDigest): void {
    this.runs++;
    if (run.status === 'error') this.failed++;
    if (run.status === 'timeout') this.overBudget++;
    if (run.status !== 'ok') return;
    this.ok++;
    for (const name of this.figureNames) {
      const value = run.figures?.[name];
      if (typeof value !== 'number') continue;
      const s = this.sums.get(name);
      if (!s) this.sums.set(name, { sum: value, min: value, max: value, count: 1 });
      else {
        s.sum += value;
        s.min = Math.min(s.min, value);
        s.max = Math.max(s.max, value);
        s.count++;
      }
    }
  }

  result(): GroupSummary {
    const figures: Record<string, FigureStats> = {};
    for (const name of this.figureNames) {
      const s = this.sums.get(name);
      figures[name] = s ? { mean: s.sum / s.count, min: s.min, max: s.max, count: s.count } : { mean: null, min: null, max: null, count: 0 };
    }
    return { runs: this.runs, ok: this.ok, failed: this.failed, overBudget: this.overBudget, figures };
  }
}

export function summarize(sweep: Sweep, runs: Iterable<RunDigest>): SweepSummary {
  const names = sweep.figures.map((f) => f.name);
  const all = new Accumulator(names);
  const perAxis = sweep.axes.map((axis) => axis.values.map(() => new Accumulator(names)));
  // Stride of each axis in the combination numbering (the last axis varies fastest).
  const strides = sweep.axes.map((_, i) => sweep.axes.slice(i + 1).reduce((n, a) => n * a.values.length, 1));
  for (const run of runs) {
    all.add(run);
    sweep.axes.forEach((axis, i) => perAxis[i][Math.floor(run.index / strides[i]) % axis.values.length].add(run));
  }
  return {
    sweep: sweep.name,
    id: sweep.id,
    runs: sweep.runs,
    all: all.result(),
    axes: sweep.axes.map((axis, i) => ({ path: axis.path, values: axis.values.map((value, j) => ({ value, ...perAxis[i][j].result() })) })),
  };
}

/** Axes with more values than this (seeds, typically) are left out of the table (not of --json). */
export const TABLE_MAX_VALUES = 20;

/** The summary as text tables, one per axis, figures as mean / min / max. */
export function summaryTables(summary: SweepSummary, sweep: Sweep): string {
  const names = sweep.figures.map((f) => f.name);
  const header = (first: string): string[] => [first, 'runs', 'failed', ...names.map((n) => `${n}${unitOf(sweep, n)} mean / min / max`)];
  const row = (label: string, g: GroupSummary): string[] => [
    label,
    String(g.runs),
    String(g.failed + g.overBudget),
    ...names.map((n) => {
      const f = g.figures[n];
      return f.count === 0 ? '-' : `${formatNumber(f.mean!)} / ${formatNumber(f.min!)} / ${formatNumber(f.max!)}`;
    }),
  ];
  const blocks: string[] = [];
  const skipped: string[] = [];
  for (const axis of summary.axes) {
    if (axis.values.length > TABLE_MAX_VALUES) {
      skipped.push(`${axis.path} (${axis.values.length} values)`);
      continue;
    }
    blocks.push(table([header(axis.path), ...axis.values.map((v) => row(typeof v.value === 'string' ? v.value : JSON.stringify(v.value), v))]));
  }
  blocks.push(table([header('all runs'), row('', summary.all)]));
  let out = blocks.join('\n');
  if (skipped.length > 0) out += `\nnot tabled (too many values; see --json): ${skipped.join(', ')}\n`;
  return out;
}

function unitOf(sweep: Sweep, name: string): string {
  const unit = sweep.figures.find((f) => f.name === name)?.unit;
  return unit ? ` (${unit})` : '';
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
  return rows.map((r) => r.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))).join('  ').trimEnd()).join('\n') + '\n';
}

export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  return String(Number(value.toFixed(magnitude >= 100 ? 1 : magnitude >= 1 ? 2 : 4)));
}
