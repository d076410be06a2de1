/**
 * `fuzz --profile malicious --seeds N [--start S] [--steps K] [--json] [--verbose]`: long hostile runs
 * outside CI. Prints seeds, steps, virtual time, wall and CPU time, exceptions and invariant
 * breaks; for each break the seed and step that replay it. Exit 1 when anything broke.
 */
import { Option, type Command } from 'commander';
import { CliError } from '../cli/cli-error';
import { withSignalAbort } from '../cli/signal-abort';
import type { CliIo } from '../cli/cli-io';
import { formatDuration } from '../units';
import { FUZZ_PROFILES, type FuzzProfile } from './fuzz-case';
import type { FuzzSummary } from './fuzz-runner';

interface FuzzFlags {
  profile: FuzzProfile;
  seeds: string;
  start: string;
  steps: string;
  json?: boolean;
  verbose?: boolean;
}

export function registerFuzzCommand(program: Command, io: CliIo): void {
  program
    .command('fuzz')
    .description('hostile guests and users against the emulator: seeded cases, invariants checked after every step')
    .addOption(new Option('--profile <profile>', 'guest profile of the cases').choices(FUZZ_PROFILES).default('malicious'))
    .option('--seeds <n>', 'how many seeds to run', '100')
    .option('--start <seed>', 'the first seed', '1')
    .option('--steps <n>', 'user actions per seed', '40')
    .option('--json', 'print one JSON object')
    .option('--verbose', 'print every step and its reply (for replaying one seed)')
    .addHelpText('after', '\nExample:\n  hv-balloon-sim fuzz --profile malicious --seeds 1000\n  hv-balloon-sim fuzz --profile malicious --start 1234 --seeds 1 --verbose   # replay one seed')
    .action(async (flags: FuzzFlags) => {
      // Loaded when the command runs, not when the CLI starts (the cli-startup benchmark).
      const { runFuzz } = require('./fuzz-runner') as typeof import('./fuzz-runner');
      const { SingleBar } = require('cli-progress') as typeof import('cli-progress');
      const seeds = count(flags.seeds, '--seeds', 1);
      const start = count(flags.start, '--start', 0);
      const steps = count(flags.steps, '--steps', 1);
      // SIGINT/SIGTERM stop the fuzz between seeds; the seeds done so far are reported.
      let interrupted = false;
      const bar = !flags.json && !flags.verbose && process.stderr.isTTY ? new SingleBar({ format: 'fuzz {bar} {value}/{total} seeds | breaks {breaks}', stream: process.stderr, clearOnComplete: true }) : undefined;
      bar?.start(seeds, 0, { breaks: 0 });
      let breaks = 0;
      let summary: FuzzSummary;
      try {
        summary = await withSignalAbort(
          (signal) =>
            runFuzz({
              profile: flags.profile,
              seeds,
              firstSeed: start,
              steps,
              signal,
              onSeed: (result, done) => {
                breaks += result.breaks.length;
                bar?.update(done, { breaks });
              },
              ...(flags.verbose ? { onStep: (seed: number, step: number, action: string, reply: unknown) => io.stdout(`seed ${seed} step ${step}: ${action} -> ${JSON.stringify(reply)}\n`) } : {}),
            }),
          () => {
            interrupted = true;
          },
        );
      } finally {
        bar?.stop();
      }
      if (flags.json) io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
      else io.stdout(report(summary, interrupted));
      if (summary.breaks.length > 0) throw new CliError(`${summary.breaks.length} invariant break(s)`, 1);
    });
}

function report(s: FuzzSummary, interrupted: boolean): string {
  const lines = [
    `fuzz --profile ${s.profile}${interrupted ? ' (interrupted)' : ''}`,
    `seeds          ${s.seeds} (${s.firstSeed}..${s.firstSeed + s.seeds - 1})`,
    `steps          ${s.steps}`,
    `virtual time   ${formatDuration(s.virtualMs)}`,
    `wall time      ${formatDuration(s.wallMs)} (CPU ${formatDuration(s.cpuMs)})`,
    `exceptions     ${s.exceptions}`,
    `breaks         ${s.breaks.length}`,
  ];
  for (const b of s.breaks.slice(0, 50)) {
    lines.push(`  seed ${b.seed} step ${b.step} (${b.action}): ${b.invariant}: ${b.detail}`);
    lines.push(`    replay: hv-balloon-sim fuzz --profile ${s.profile} --start ${b.seed} --seeds 1 --verbose`);
  }
  return `${lines.join('\n')}\n`;
}

function count(text: string, flag: string, min: number): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(value) || value < min) throw new CliError(`${flag} ${JSON.stringify(text)}: expected an integer >= ${min}`);
  return value;
}
