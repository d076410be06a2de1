/**
 * What one run of a sweep gives back, in a module of its own: the pool (run-pool.ts) needs these in
 * the sweep process before the simulator is loaded there, so that it can start the worker processes
 * first (run-task.ts, which runs a scenario, loads the whole simulator).
 */

export type RunOutcome =
  | { status: 'ok'; figures: Record<string, number | null>; final: unknown }
  | { status: 'error'; error: string }
  | { status: 'timeout'; error: string };

/**
 * An outcome whose `final` is already JSON text: what a pool worker sends back, so that the sweep
 * process writes the text into the results file as it is instead of parsing a run's whole final
 * state from the message and serializing it again (with every core running a worker, the sweep
 * process's work takes time from a worker).
 */
export type SerializedRunOutcome = Exclude<RunOutcome, { status: 'ok' }> | { status: 'ok'; figures: Record<string, number | null>; finalJson: string };

export function serializeOutcome(outcome: RunOutcome): RunOutcome | SerializedRunOutcome {
  if (outcome.status !== 'ok') return outcome;
  const finalJson = JSON.stringify(outcome.final) as string | undefined;
  // A final state JSON has no text for (undefined) stays as it is: the results line leaves it out either way.
  return finalJson === undefined ? outcome : { status: 'ok', figures: outcome.figures, finalJson };
}

export function overBudget(budgetMs: number): RunOutcome {
  return { status: 'timeout', error: `over budget: the run took more than ${budgetMs / 1000} s of wall time` };
}
