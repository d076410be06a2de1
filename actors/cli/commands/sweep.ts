/**
 * `sweep <sweep.json> [--json] [--workers N] [--out results.jsonl] [--queue redis://HOST:PORT]`:
 * every combination of a sweep file's axes is one run, on this machine's cores or through a Redis
 * queue; runs stream to a JSON-lines results file in combination order, the sweep ends with a
 * summary per axis value. Started again with the same results file, it resumes (docs/sweeps.md).
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { SingleBar } from 'cli-progress';
import { CliError } from '../cli-error';
import type { CliIo } from '../cli-io';
import { withSignalAbort } from '../signal-abort';
import type { Sweep } from '../../sweep/sweep-file';
import type { RunPool } from '../../sweep/run-pool';
import type { RunSweepOptions, SweepProgress, SweepReport } from '../../sweep/sweep-runner';

interface SweepFlags {
  json?: boolean;
  workers?: string;
  out?: string;
  queue?: string;
  queueName?: string;
  restart?: boolean;
}

/** Exit code of a sweep stopped by Ctrl-C (128 + SIGINT), as shells report it. */
const EXIT_INTERRUPTED = 130;
/** Exit code of a sweep stopped by SIGTERM (128 + SIGTERM). */
const EXIT_TERMINATED = 143;

export function registerSweepCommand(program: Command, io: CliIo): void {
  program
    .command('sweep')
    .description('run every combination of a sweep file (a base scenario and axes to vary) on all cores or through a Redis queue; resumable')
    .argument('<sweep>', 'path of the sweep JSON file')
    .option('--json', 'print the summary as one JSON object instead of tables')
    .option('--workers <n>', 'worker processes on this machine, each running one scenario at a time (default: one per core)')
    .option('--out <file>', 'results file, one JSON line per run (default: <sweep name>.results.jsonl); an existing one is resumed')
    .option('--restart', 'replace the runs already in the results file instead of resuming')
    .option('--queue <url>', 'run through a BullMQ queue on this Redis (redis://HOST:PORT) instead, for `hv-balloon-sim worker`s on any machines')
    .option('--queue-name <name>', 'with --queue: the queue name (default hv-balloon-sim)')
    .addHelpText('after', '\nExamples:\n  hv-balloon-sim sweep examples/sweep-ring-sizes.json --workers 2\n  hv-balloon-sim sweep examples/sweep-ring-sizes.json --queue redis://10.0.0.5:6379')
    .action(async (file: string, flags: SweepFlags) => {
      await sweepCommand(file, flags, io);
    });
}

export async function sweepCommand(file: string, flags: SweepFlags, io: CliIo): Promise<SweepReport> {
  // The sweep's wall and CPU time count from here: the worker processes' start included.
  const startedAt = { wallMs: performance.now(), cpu: process.cpuUsage() };
  // Loaded when the command runs, not when the CLI starts (the cli-startup benchmark). What starts
  // the pool comes first and does not load the simulator (see below).
  const { MissingPackageError } = require('../../sweep/optional-package') as typeof import('../../sweep/optional-package');
  const { queueFlag, workersFlag } = require('../../sweep/sweep-options') as typeof import('../../sweep/sweep-options');
  const { createRunPool } = require('../../sweep/run-pool') as typeof import('../../sweep/run-pool');
  const workers = flags.workers === undefined ? undefined : workersFlag(flags.workers);
  if (flags.queue === undefined && flags.queueName !== undefined) throw new CliError('--queue-name needs --queue');
  if (flags.queue !== undefined && flags.workers !== undefined) throw new CliError('--workers is for this machine; with --queue, give it to each `hv-balloon-sim worker`');
  const queue = flags.queue === undefined ? undefined : queueFlag(flags.queue, flags.queueName);
  const out = flags.out ?? `${basename(file).replace(/\.json$/i, '')}.results.jsonl`;
  if (out.trim() === '') throw new CliError('--out: expected a file name, got ""');

  // The worker processes start now, and load the simulator while this process loads it too and
  // reads and checks the sweep file (each takes a few tenths of a second; one after the other they
  // were the first second of every sweep). A sweep file that is refused closes them again.
  let pool: RunPool | undefined;
  try {
    pool = queue === undefined ? createRunPool(workers ?? workersFlag(undefined)) : undefined;
  } catch (err) {
    if (err instanceof MissingPackageError) throw new CliError(err.message);
    throw err;
  }
  try {
    return await sweepWithPool(file, flags, io, { out, workers, queue, pool, startedAt });
  } finally {
    // Closed by the sweep when it ran; here when it did not get that far (a refused file, a results file of another sweep).
    await pool?.close();
  }
}

async function sweepWithPool(
  file: string,
  flags: SweepFlags,
  io: CliIo,
  options: Pick<RunSweepOptions, 'out' | 'workers' | 'queue' | 'pool' | 'startedAt'> & { out: string },
): Promise<SweepReport> {
  const { out, workers, queue, pool, startedAt } = options;
  const { loadSweepFile, SweepError } = require('../../sweep/sweep-file') as typeof import('../../sweep/sweep-file');
  const { runSweep } = require('../../sweep/sweep-runner') as typeof import('../../sweep/sweep-runner');
  const { formatNumber, summaryTables } = require('../../sweep/summary') as typeof import('../../sweep/summary');
  const { QueueError } = require('../../sweep/redis-queue') as typeof import('../../sweep/redis-queue');
  const { MissingPackageError } = require('../../sweep/optional-package') as typeof import('../../sweep/optional-package');
  const { SingleBar: Bar } = require('cli-progress') as typeof import('cli-progress');
  let sweep: Sweep;
  try {
    sweep = loadSweepFile(file);
  } catch (err) {
    if (err instanceof SweepError) throw new CliError(err.message);
    throw err;
  }

  const note = (message: string): void => io.stderr(`${message}\n`);
  const axes = sweep.axes.map((a) => `${a.path} (${a.values.length})`).join(' × ');
  if (!flags.json) io.stdout(`hv-balloon-sim sweep: ${sweep.name} — ${sweep.runs} runs: ${axes}\n`);

  const bar: SingleBar | undefined = process.stderr.isTTY
    ? new Bar({
        format: 'runs {bar} {value}/{total} | failed {failed} | {speed} runs/s | ETA {eta_formatted}',
        stream: process.stderr,
        clearOnComplete: true,
        etaBuffer: 50,
      })
    : undefined;
  const started = performance.now();
  const onProgress = (p: SweepProgress): void => {
    if (!bar) return;
    const speed = formatNumber(Math.round(((p.done - p.resumed) / Math.max(1, (performance.now() - started) / 1000)) * 10) / 10);
    if (!barStarted) {
      bar.start(p.total, p.done, { failed: p.failed, speed });
      barStarted = true;
    } else bar.update(p.done, { failed: p.failed, speed });
  };
  let barStarted = false;
  let report: SweepReport;
  // Ctrl-C (SIGINT) or SIGTERM (kill, systemd, a Kubernetes pod's end) stops the sweep the same way.
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    stoppedBy ??= signal;
    note('stopping: runs in flight are dropped; run the same command again to resume');
  };
  try {
    report = await withSignalAbort(
      (signal) => runSweep(sweep, { out, restart: flags.restart === true, workers, queue, pool, startedAt, onProgress, note, signal }),
      onSignal,
    );
  } catch (err) {
    if (err instanceof SweepError || err instanceof QueueError || err instanceof MissingPackageError) throw new CliError(err.message);
    throw err;
  } finally {
    bar?.stop();
  }
  const { all } = report.summary;
  const seconds = report.wallMs / 1000;
  const runsPerSecond = report.ran / seconds;
  if (flags.json) {
    io.stdout(
      JSON.stringify(
        {
          sweep: sweep.name,
          id: sweep.id,
          results: out,
          runs: sweep.runs,
          done: all.runs,
          ok: all.ok,
          failed: all.failed,
          overBudget: all.overBudget,
          resumed: report.resumed,
          ran: report.ran,
          interrupted: report.interrupted,
          engine: report.engine,
          workers: report.workers,
          wallMs: Math.round(report.wallMs),
          cpuMs: Math.round(report.cpuMs),
          runsPerSecond: Math.round(runsPerSecond * 100) / 100,
          summary: report.summary,
        },
        null,
        2,
      ) + '\n',
    );
  } else {
    const where = report.engine === 'queue' ? `through the queue` : `on ${report.workers} worker process${report.workers === 1 ? '' : 'es'}`;
    const cpu = report.engine === 'queue' ? '' : `, CPU ${formatNumber(Math.round(report.cpuMs / 100) / 10)} s`;
    io.stdout(`${all.runs} of ${sweep.runs} runs: ${all.ok} ok, ${all.failed} failed, ${all.overBudget} over budget\n`);
    io.stdout(`this call: ${report.ran} runs ${where} in ${formatNumber(Math.round(seconds * 10) / 10)} s (${formatNumber(Math.round(runsPerSecond * 10) / 10)} runs/s${cpu})${report.resumed > 0 ? `, ${report.resumed} resumed from the file` : ''}\n`);
    io.stdout(`results: ${out}\n\n`);
    io.stdout(summaryTables(report.summary, sweep));
  }
  if (report.interrupted) {
    throw new CliError(`interrupted with ${all.runs} of ${sweep.runs} runs in ${out}; run the same command again to resume`, stoppedBy === 'SIGTERM' ? EXIT_TERMINATED : EXIT_INTERRUPTED);
  }
  return report;
}
