/**
 * A scenario file named on the command line (run, compare, view, trace-diff): loaded and checked,
 * its errors (ScenarioError: the field and the value) turned into the CLI's one-line error.
 */
import { CliError } from './cli-error';
import type { Scenario } from '../scenario/scenario';

export function loadScenarioForCli(file: string): Scenario {
  // Loaded when a command runs, not when the CLI starts (the cli-startup benchmark).
  const { loadScenarioFile, ScenarioError } = require('../scenario/scenario') as typeof import('../scenario/scenario');
  try {
    return loadScenarioFile(file);
  } catch (err) {
    if (err instanceof ScenarioError) throw new CliError(err.message);
    throw err;
  }
}
