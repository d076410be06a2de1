/**
 * trace-diff: run a scenario and line its `hv_balloon_*` trace points up with a real QEMU trace
 * log, one by one in order, reporting the first place they differ in order, kind or fields.
 *
 * Compared: every hv_balloon trace point's name and every field QEMU prints. Not compared by
 * default: the guest's transaction ids (incoming balloon/unballoon/hot-add responses), which count
 * every message the guest sent before, status reports included, so they move with the guest's
 * timing (the recordings ran under TCG, several times slower than KVM); `strictTransIds` compares
 * them too. Times are reported beside a divergence, never compared.
 */
import { runScenario, type Scenario } from '../scenario/scenario';
import { formatTracePoint, guestTransIdField, parseTraceLine, parseTraceLog, type ParsedTracePoint } from './qemu-trace-format';

export interface TraceDiffOptions {
  /** Also compare the guest's transaction ids. Default false. */
  strictTransIds?: boolean;
}

export type TraceDivergence =
  | { kind: 'name'; index: number; expected: ParsedTracePoint; actual: ParsedTracePoint }
  | { kind: 'field'; index: number; field: string; expectedValue: string; actualValue: string; expected: ParsedTracePoint; actual: ParsedTracePoint }
  | { kind: 'missing'; index: number; expected: ParsedTracePoint; remaining: number }
  | { kind: 'extra'; index: number; actual: ParsedTracePoint; remaining: number };

export interface TraceDiffResult {
  /** Trace points compared equal before the first divergence (all of them without one). */
  matched: number;
  expectedCount: number;
  actualCount: number;
  divergence: TraceDivergence | null;
}

/** Compare two traces in order; the first difference ends the comparison. */
export function diffTracePoints(expected: readonly ParsedTracePoint[], actual: readonly ParsedTracePoint[], options: TraceDiffOptions = {}): TraceDiffResult {
  const n = Math.min(expected.length, actual.length);
  const base = { expectedCount: expected.length, actualCount: actual.length };
  for (let i = 0; i < n; i++) {
    const e = expected[i] as ParsedTracePoint;
    const a = actual[i] as ParsedTracePoint;
    if (e.name !== a.name) return { ...base, matched: i, divergence: { kind: 'name', index: i, expected: e, actual: a } };
    const skip = options.strictTransIds ? undefined : guestTransIdField(e.name);
    for (const field of Object.keys(e.fields)) {
      if (field === skip) continue;
      if (e.fields[field] !== a.fields[field]) {
        return {
          ...base,
          matched: i,
          divergence: { kind: 'field', index: i, field, expectedValue: e.fields[field] as string, actualValue: a.fields[field] ?? '(none)', expected: e, actual: a },
        };
      }
    }
  }
  if (expected.length > n) {
    return { ...base, matched: n, divergence: { kind: 'missing', index: n, expected: expected[n] as ParsedTracePoint, remaining: expected.length - n } };
  }
  if (actual.length > n) {
    return { ...base, matched: n, divergence: { kind: 'extra', index: n, actual: actual[n] as ParsedTracePoint, remaining: actual.length - n } };
  }
  return { ...base, matched: n, divergence: null };
}

/** The emulator's trace points of one scenario run, as QEMU would have printed them. */
export function emulatorTracePoints(scenario: Scenario): ParsedTracePoint[] {
  const points: ParsedTracePoint[] = [];
  const result = runScenario(scenario, {
    onTrace: (r) => {
      if (r.kind !== 'device' || r.event.type !== 'trace') return;
      const parsed = parseTraceLine(formatTracePoint(r.event.name, r.event.args));
      if (parsed.kind === 'trace') points.push({ ...parsed.point, timeS: r.time / 1000 });
    },
  });
  result.vm.dispose();
  return points;
}

/** Run `scenario` and compare it with a QEMU trace log's text. */
export function traceDiff(qemuLog: string, scenario: Scenario, options: TraceDiffOptions = {}): TraceDiffResult {
  return diffTracePoints(parseTraceLog(qemuLog), emulatorTracePoints(scenario), options);
}

function where(p: ParsedTracePoint, side: 'qemu' | 'emulator'): string {
  const t = p.timeS === null ? '' : ` t=${p.timeS.toFixed(3)}s`;
  return side === 'qemu' ? `QEMU (line ${p.line}${t})` : `emulator (${t.trim() || 'no time'})`;
}

function show(p: ParsedTracePoint): string {
  return `${p.name} ${p.text}`;
}

/** A readable report: one line without a divergence, a few lines naming it otherwise. */
export function formatTraceDiff(result: TraceDiffResult): string {
  const d = result.divergence;
  if (d === null) {
    return `no divergence: ${result.matched} hv_balloon trace points match in order, kind and fields\n`;
  }
  const head = `first divergence at trace point #${d.index + 1} (after ${result.matched} matching):`;
  switch (d.kind) {
    case 'name':
      return `${head} kind differs\n  ${where(d.expected, 'qemu')}: ${show(d.expected)}\n  ${where(d.actual, 'emulator')}: ${show(d.actual)}\n`;
    case 'field':
      return (
        `${head} ${d.expected.name} field ${d.field}: QEMU ${d.expectedValue}, emulator ${d.actualValue}\n` +
        `  ${where(d.expected, 'qemu')}: ${show(d.expected)}\n  ${where(d.actual, 'emulator')}: ${show(d.actual)}\n`
      );
    case 'missing':
      return `${head} the emulator's trace ends; QEMU has ${d.remaining} more, the first:\n  ${where(d.expected, 'qemu')}: ${show(d.expected)}\n`;
    case 'extra':
      return `${head} QEMU's log ends; the emulator has ${d.remaining} more, the first:\n  ${where(d.actual, 'emulator')}: ${show(d.actual)}\n`;
  }
}

