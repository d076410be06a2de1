/**
 * `worker --queue redis://HOST:PORT [--workers N] [--stall-timeout 30s] [--idle-exit 1min]`: takes
 * sweep runs from a Redis queue (`sweep --queue`) and runs them on this machine's cores until
 * stopped (Ctrl-C or SIGTERM: running jobs finish first) or, with --idle-exit, until the queue has
 * been empty that long. Start one per machine; see docs/sweeps.md for a cluster.
 */
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { withSignalAbort } from '../signal-abort';
import type { CliIo } from '../cli-io';

interface WorkerFlags {
  queue?: string;
  queueName?: string;
  workers?: string;
  stallTimeout: string;
  idleExit?: string;
}

export function registerWorkerCommand(program: Command, io: CliIo): void {
  program
    .command('worker')
    .description('run sweep runs from a Redis queue (`sweep --queue`) on this machine, one per worker process')
    .requiredOption('--queue <url>', 'the Redis the sweep was queued on (redis://HOST:PORT)')
    .option('--queue-name <name>', 'the queue name (default hv-balloon-sim)')
    .option('--workers <n>', 'runs at once on this machine, each in its own worker process (default: one per core)')
    .option('--stall-timeout <time>', "how long a worker may go silent before its job is given to another (a lost machine's runs come back after this)", '30s')
    .option('--idle-exit <time>', 'stop once the queue has been empty this long (for batch jobs, e.g. a Kubernetes Job); default: run until stopped')
    .addHelpText('after', '\nExample:\n  hv-balloon-sim worker --queue redis://10.0.0.5:6379 --idle-exit 1min')
    .action(async (flags: WorkerFlags) => {
      await workerCommand(flags, io);
    });
}

export async function workerCommand(flags: WorkerFlags, io: CliIo): Promise<void> {
  // Loaded when the command runs, not when the CLI starts (the cli-startup benchmark).
  const { QueueError } = require('../../sweep/redis-queue') as typeof import('../../sweep/redis-queue');
  const { MissingPackageError } = require('../../sweep/optional-package') as typeof import('../../sweep/optional-package');
  const { startQueueWorker } = require('../../sweep/queue-worker') as typeof import('../../sweep/queue-worker');
  const { queueFlag, timeFlag, workersFlag } = require('../../sweep/sweep-options') as typeof import('../../sweep/sweep-options');
  const target = queueFlag(flags.queue ?? '', flags.queueName);
  const threads = workersFlag(flags.workers);
  const stallTimeoutMs = timeFlag('--stall-timeout', flags.stallTimeout);
  const idleExitMs = flags.idleExit === undefined ? undefined : timeFlag('--idle-exit', flags.idleExit);
  const log = (message: string): void => io.stderr(`worker: ${message}\n`);
  let handle;
  try {
    handle = await startQueueWorker({ ...target, threads, stallTimeoutMs, idleExitMs, log });
  } catch (err) {
    if (err instanceof QueueError || err instanceof MissingPackageError) throw new CliError(err.message);
    throw err;
  }
  const running = handle;
  await withSignalAbort(
    () => running.done,
    (signal) => {
      log(`${signal}: finishing the runs in progress, then stopping`);
      void running.stop();
    },
  );
}
