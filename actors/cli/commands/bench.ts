/** `bench [--json] [--only <names...>] [--repeats <n>]`: run the benchmarks in bench/. */

import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliIo } from '../cli-io';

interface BenchOptions {
  inProcess?: boolean;
  json?: boolean;
  only?: string[];
  repeats?: string;
}

export function registerBenchCommand(program: Command, io: CliIo): void {
  program
    .command('bench')
    .description('run the benchmarks and print the median of each figure beside its target')
    .option('--json', 'print a JSON array of {name, ...figures, target, met}')
    .option('--only <names...>', 'run only these benchmarks')
    .option('--repeats <n>', 'measured runs per benchmark, after one warm-up where the benchmark has one (default 5)')
    .option('--in-process', 'run every benchmark in this process instead of one fresh process each')
    .addHelpText('after', '\nExample:\n  hv-balloon-sim bench --only range-tree-1TiB --json')
    .action((options: BenchOptions) => {
      // Loaded when the command runs, not when the CLI starts (the cli-startup benchmark).
      const { unknownBenchmarks } = require('../../../bench/benchmark') as typeof import('../../../bench/benchmark');
      const { benchCommand } = require('../../../bench/main') as typeof import('../../../bench/main');
      const { BENCHMARKS } = require('../../../bench/registry') as typeof import('../../../bench/registry');
      const unknown = unknownBenchmarks(options.only ?? []);
      if (unknown.length > 0) {
        const known = BENCHMARKS.map((b) => b.name).join(', ');
        throw new CliError(`unknown benchmark ${unknown.map((n) => JSON.stringify(n)).join(', ')} (known: ${known})`);
      }
      let repeats: number | undefined;
      if (options.repeats !== undefined) {
        repeats = Number(options.repeats);
        if (!/^\d+$/.test(options.repeats) || repeats < 1) {
          throw new CliError(`bad --repeats ${JSON.stringify(options.repeats)}: must be a positive integer`);
        }
      }
      const code = benchCommand({ json: options.json === true, only: options.only, repeats, isolate: options.inProcess !== true }, io);
      // Arguments were checked above, so a non-zero code means a target was missed.
      if (code !== 0) throw new CliError('some benchmarks missed their target', 1);
    });
}
