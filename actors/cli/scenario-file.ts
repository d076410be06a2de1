/**
 * A scenario file named on the command line (run, compare, view, trace-diff; a host scenario for
 * run and qmp --host): loaded and checked, its errors (the field and the value) turned into the
 * CLI's one-line error.
 */
import { CliError } from './cli-error';
import type { Scenario } from '../scenario/scenario';
import type { HostScenario } from '../host/host-config';

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

export function loadHostScenarioForCli(file: string): HostScenario {
  const { loadHostScenarioFile } = require('../host/host-scenario') as typeof import('../host/host-scenario');
  const { HostScenarioError } = require('../host/host-config') as typeof import('../host/host-config');
  try {
    return loadHostScenarioFile(file);
  } catch (err) {
    if (err instanceof HostScenarioError) throw new CliError(err.message);
    throw err;
  }
}
