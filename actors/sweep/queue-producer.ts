/**
 * A sweep through a BullMQ queue on Redis: every run still to do becomes a job, workers on any
 * number of machines (`hv-balloon-sim worker`) take them, and their outcomes come back through the
 * queue's event stream. Jobs are named after the sweep and the run, so enqueueing again (a resumed
 * sweep) adds only what is missing and collects what finished while nobody was listening.
 */
import type { Job as BullJob, Queue } from 'bullmq';
import { loadOptional } from './optional-package';
import type { RunOutcome, RunTask } from './run-task';
import { checkRedis, connectionOf, jobIdOf, safeUrl, type RunJobData } from './redis-queue';

export interface QueueTarget {
  url: string;
  name: string;
}

/** Finished jobs are kept this long for a producer that was away; the producer removes them once written. */
const KEEP_FINISHED_S = 7 * 24 * 3600;
/** How often the producer looks for outcomes the event stream may have missed (a reconnect). */
const RESCAN_MS = 10_000;
const CHUNK = 500;

export interface QueueRunHooks {
  onOutcome(index: number, outcome: RunOutcome): void;
  /** Status lines (worker count, waiting for workers). */
  note(message: string): void;
  stopped(): boolean;
  /** Resolves when the user stops the sweep. */
  whenStopped: Promise<void>;
}

export async function runThroughQueue(sweepId: string, todo: readonly number[], taskOf: (index: number) => RunTask, target: QueueTarget, hooks: QueueRunHooks): Promise<void> {
  const { Queue, QueueEvents } = loadOptional<typeof import('bullmq')>('bullmq', 'a sweep through a Redis queue');
  await checkRedis(target.url);
  const connection = connectionOf(target.url);
  const queue = new Queue<RunJobData, RunOutcome>(target.name, { connection });
  const events = new QueueEvents(target.name, { connection });
  const reportError = (err: Error): void => hooks.note(`queue: ${err.message}`);
  queue.on('error', reportError);
  events.on('error', reportError);
  const pending = new Set(todo);
  let settle: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => (settle = resolve));
  const finish = (index: number, outcome: RunOutcome): void => {
    if (!pending.delete(index) || hooks.stopped()) return;
    hooks.onOutcome(index, outcome);
    if (pending.size === 0) settle();
  };
  const indexOf = (jobId: string): number | undefined => {
    const prefix = `${sweepId}-`;
    return jobId.startsWith(prefix) ? Number(jobId.slice(prefix.length)) : undefined;
  };
  try {
    await events.waitUntilReady();
    events.on('completed', ({ jobId, returnvalue }) => {
      const index = indexOf(jobId);
      if (index !== undefined) finish(index, returnvalue as unknown as RunOutcome);
    });
    events.on('failed', ({ jobId }) => {
      const index = indexOf(jobId);
      if (index !== undefined) void collect(queue, jobId, index, finish);
    });
    if (todo.length > 0) {
      for (let i = 0; i < todo.length; i += CHUNK) {
        await queue.addBulk(
          todo.slice(i, i + CHUNK).map((index) => ({
            name: 'run',
            data: { sweep: sweepId, index, task: taskOf(index) },
            opts: {
              jobId: jobIdOf(sweepId, index),
              // A job fails only when its worker does (a run's own failure is an outcome): try it elsewhere.
              attempts: 3,
              backoff: { type: 'fixed', delay: 1000 },
              removeOnComplete: { age: KEEP_FINISHED_S },
              removeOnFail: { age: KEEP_FINISHED_S },
            },
          })),
        );
      }
      const workers = await queue.getWorkersCount();
      hooks.note(
        workers === 0
          ? `${todo.length} runs queued on ${safeUrl(target.url)} (queue "${target.name}"); no worker is connected yet: start \`hv-balloon-sim worker --queue ${safeUrl(target.url)}\` on each machine`
          : `${todo.length} runs queued on ${safeUrl(target.url)} (queue "${target.name}"), ${workers} worker${workers === 1 ? '' : 's'} connected`,
      );
      // Runs that finished before we listened (an earlier, interrupted producer) come from the jobs themselves.
      await scan(queue, sweepId, pending, finish);
      while (pending.size > 0 && !hooks.stopped()) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([allDone, hooks.whenStopped, new Promise<void>((resolve) => (timer = setTimeout(resolve, RESCAN_MS)))]);
        clearTimeout(timer);
        if (pending.size > 0 && !hooks.stopped()) await scan(queue, sweepId, pending, finish);
      }
    }
    // Every outcome is in the results file now: the jobs have done their part.
    if (!hooks.stopped()) {
      for (let i = 0; i < todo.length; i += CHUNK) await Promise.all(todo.slice(i, i + CHUNK).map((index) => queue.remove(jobIdOf(sweepId, index))));
    }
  } finally {
    await events.close();
    await queue.close();
  }
}

async function scan(queue: Queue<RunJobData, RunOutcome>, sweepId: string, pending: ReadonlySet<number>, finish: (index: number, outcome: RunOutcome) => void): Promise<void> {
  const indices = [...pending];
  for (let i = 0; i < indices.length; i += CHUNK) {
    await Promise.all(indices.slice(i, i + CHUNK).map((index) => collect(queue, jobIdOf(sweepId, index), index, finish)));
  }
}

/** Takes a finished job's outcome: its return value, or, for a job whose workers kept failing, an error. */
async function collect(queue: Queue<RunJobData, RunOutcome>, jobId: string, index: number, finish: (index: number, outcome: RunOutcome) => void): Promise<void> {
  const { Job } = loadOptional<typeof import('bullmq')>('bullmq', 'a sweep through a Redis queue');
  const job = (await Job.fromId(queue, jobId)) as BullJob<RunJobData, RunOutcome> | undefined;
  if (!job) return;
  const state = await job.getState();
  if (state === 'completed') finish(index, job.returnvalue);
  else if (state === 'failed') finish(index, { status: 'error', error: `the queue gave up on this run after ${job.attemptsMade} attempts: ${job.failedReason}` });
}
