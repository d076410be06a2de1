/**
 * One run of a sweep: the code a pool worker process executes (for the local pool or a queue worker). It builds the scenario's
 * simulation, runs it to its end, and reads the sweep's figures from the result. A run that throws
 * or passes its wall-time budget is an outcome like any other, never a crash of the sweep.
 */
import { readFieldPath, type PathSegment } from './field-path';
import { overBudget, type RunOutcome } from './run-outcome';
import { kindNamed } from './scenario-kinds';

export interface RunTaskFigure {
  name: string;
  segments: PathSegment[];
  divisor: number;
}

/** Everything a run needs, as plain data (it crosses processes and machines). */
export interface RunTask {
  kind: string;
  /** Where the scenario came from, for error messages. */
  source: string;
  scenario: Record<string, unknown>;
  figures: RunTaskFigure[];
  /** Wall-clock ms the run may take, counted from when it starts in its worker. */
  budgetMs: number;
}

export { overBudget, serializeOutcome, type RunOutcome, type SerializedRunOutcome } from './run-outcome';

class OverBudget extends Error {}

/** Runs one task to its outcome (in a pool worker process, pool-worker.ts, or a test's own process). */
export function runTask(task: RunTask, wallNow: () => number = () => performance.now()): RunOutcome {
  const started = wallNow();
  // Checked as virtual time passes; the pool's abort is the backstop for a run stuck in one step.
  const checkBudget = (): void => {
    if (wallNow() - started > task.budgetMs) throw new OverBudget();
  };
  try {
    const { final, result } = kindNamed(task.kind).run(task.scenario, task.source, checkBudget);
    return { status: 'ok', figures: readFigures(result, task.figures), final };
  } catch (err) {
    if (err instanceof OverBudget) return overBudget(task.budgetMs);
    return { status: 'error', error: err instanceof Error ? err.message : String(err) };
  }
}

/** Figures are numbers; true/false count as 1/0; a missing or non-numeric value is null. */
function readFigures(result: Record<string, unknown>, figures: readonly RunTaskFigure[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const figure of figures) {
    const raw = readFieldPath(result, figure.segments);
    const value = typeof raw === 'boolean' ? Number(raw) : raw;
    out[figure.name] = typeof value === 'number' && Number.isFinite(value) ? value / figure.divisor : null;
  }
  return out;
}
