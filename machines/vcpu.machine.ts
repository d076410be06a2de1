/**
 * The guest's vCPU as a statechart (systemId 'vcpu'). Guest work costs time because it runs here:
 * parts post `vcpu.run` with a job (a list of WorkItems), the vCPU runs one job at a time in FIFO
 * order, charges its cost from the cost model as an `after` delay, then posts
 * `{ type: 'job.done', tag, costMs }` to the job's owner.
 *
 * It also runs the guest workload (allocate / dirty / free memory, scripted or a seeded steady
 * churn) as its own jobs, calling the MachineMemory workload operations. A workload operation
 * takes effect when its job starts (so its cost reflects what really happened) and completes
 * when the cost has elapsed.
 *
 * A job that finds the vCPU idle has its job.done posted ahead (Outbox.postWhenDue): the bus
 * posts it when the job's time is up, where the vCPU's own timer would have, and the vCPU is not
 * woken then (docs/architecture.md, "Performance design: the guest side").
 *
 * States: running (idle | busy | ending: jobs wait behind a job posted ahead), halted (the queue
 * waits; a job cut short keeps its remaining time), resetting (system reset: queued jobs are dropped, the workload restarts from its
 * beginning once the reset time has passed). A halt survives a reset, as a stopped QEMU VM stays
 * stopped across system_reset.
 */
import { assign, cancel, enqueueActions, setup } from 'xstate';
import { PAGE_SIZE } from '../protocol/constants';
import { type CostOverrides, type CostTable, costOf, resolveCostTable } from './cost-model';
import type { Outbox, PendingPost } from './outbox';
import type { JobDoneEvent, PartId, VcpuEvent, VcpuJob, WorkItem } from './part-events';
import { SeededPrng } from './seeded-prng';
import { demandAt, validateDemandCurve, DemandCurveError, type DemandCurve } from './workload/demand-curve';
import { followDemand, isPagingMemory } from './workload/paging';

/** Virtual ms the vCPU is unavailable during a system reset. Assumption: QEMU's device reset pass. */
export const DEFAULT_VCPU_RESET_MS = 10;

/** One scripted workload step, `atMs` after the vCPU starts (or after a reset). */
export interface WorkloadStep {
  atMs: number;
  op: 'allocate' | 'dirty' | 'free';
  bytes: number;
}

export type WorkloadConfig =
  /** No workload: the guest only runs what other parts ask. */
  | { kind: 'idle' }
  /** Allocate, dirty or free given amounts at given times. */
  | { kind: 'script'; steps: WorkloadStep[] }
  /**
   * A working set of `usedBytes` allocated at `startMs` (default 0), then every `periodMs` the
   * set moves to usedBytes + a seeded-uniform offset in [-churnBytes, +churnBytes] (allocating
   * or freeing the difference) and `dirtyBytes` (default 0) of it are written.
   */
  | { kind: 'steady'; usedBytes: number; churnBytes: number; periodMs: number; dirtyBytes?: number; startMs?: number }
  /**
   * Demand over time (machines/workload/demand-curve.ts): every `periodMs` (default 10 s) the
   * workload's footprint follows the curve; what free memory cannot hold is swapped, and
   * `activeBytes` (default 1/16 of the demand) are touched per period (machines/workload/paging.ts).
   */
  | ({ kind: 'demand'; periodMs?: number; activeBytes?: number } & DemandCurve);

/** Default tick of a demand workload. */
export const DEFAULT_DEMAND_PERIOD_MS = 10_000;

/** What the workload needs from the memory model (MachineMemory implements it). */
export interface WorkloadMemory {
  allocateUsed(pages: number): { startPage: number; pageCount: number }[];
  freeUsed(pages: number): number;
  dirty(pages: number): number;
  workloadUsedPages(): number;
}

export interface VcpuInput {
  outbox: Outbox;
  /** The memory model, by reference (never copied); needed unless the workload is idle. */
  memory?: WorkloadMemory;
  workload?: WorkloadConfig;
  /** Seed of the workload's PRNG. Default 1. */
  seed?: number;
  /** Cost-model overrides from the VM config (ns per unit). */
  costModel?: CostOverrides;
  /** Reset time in virtual ms. Default {@link DEFAULT_VCPU_RESET_MS}. */
  resetMs?: number;
}

type WorkloadOp = { op: 'allocate' | 'dirty' | 'free'; pages: number } | { op: 'churn' } | { op: 'follow'; elapsedMs: number };

export type QueueEntry = { source: 'part'; job: VcpuJob } | { source: 'workload'; tag: string; op: WorkloadOp };

interface RunningJob {
  entry: QueueEntry;
  costMs: number;
  /** Time still to run; shrinks when a halt interrupts the job. */
  remainingMs: number;
  startedAt: number;
  /** For workload jobs: pages the operation asked for and pages it really moved. */
  requestedPages: number;
  donePages: number;
  /**
   * A part's job started on an idle vCPU: its job.done was handed to the bus to be posted when
   * the job's time is up (Outbox.postWhenDue), so nothing wakes the vCPU then. Null otherwise.
   */
  posted: PendingPost | null;
}

export interface VcpuContext {
  outbox: Outbox;
  memory: WorkloadMemory | null;
  workload: WorkloadConfig;
  /** A script's steps sorted by time (stable), computed once. */
  steps: WorkloadStep[];
  prng: SeededPrng;
  costTable: CostTable;
  resetMs: number;
  queue: QueueEntry[];
  current: RunningJob | null;
  /** A vcpu.halt is in force (kept across a reset). */
  paused: boolean;
  /** Script step index / steady tick count since start or reset. */
  tick: number;
  /** Workload jobs created so far (for their tags). */
  workloadSeq: number;
  jobsDone: number;
}

type WorkloadTick = { type: 'workload.tick' };
/** The bus posted the job.done of a job posted ahead (the vCPU asked to be woken then). */
type PostedJobEnded = { type: 'vcpu.posted-job-ended' };
export type VcpuMachineEvent = VcpuEvent | WorkloadTick | PostedJobEnded;

/** Emitted (actor.on) for tracing; not posted to any part. */
export type VcpuEmitted =
  | { type: 'vcpu.job-done'; owner: PartId | 'workload'; tag: string; costMs: number; at: number }
  | {
      type: 'vcpu.workload-step';
      tag: string;
      op: 'allocate' | 'dirty' | 'free' | 'churn' | 'follow';
      requestedPages: number;
      pages: number;
      /** Pages the workload holds after the step. */
      usedPages: number;
      costMs: number;
      at: number;
    };

/** Bad workload configuration; `field` names it (e.g. "workload.steps[2].bytes"). */
export class WorkloadConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'WorkloadConfigError';
  }
}

function requireNumber(field: string, value: unknown, opts: { min: number; exclusiveMin?: boolean }): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < opts.min || (opts.exclusiveMin === true && value === opts.min)) {
    const bound = opts.exclusiveMin === true ? `> ${opts.min}` : `>= ${opts.min}`;
    throw new WorkloadConfigError(field, `${field} must be a number ${bound}, got ${String(value)}`);
  }
  return value;
}

/** Check a workload config; throws WorkloadConfigError naming the field. */
export function validateWorkload(workload: WorkloadConfig, hasMemory: boolean): void {
  switch (workload.kind) {
    case 'idle':
      return;
    case 'script':
      if (!Array.isArray(workload.steps)) throw new WorkloadConfigError('workload.steps', 'workload.steps must be an array');
      workload.steps.forEach((s, i) => {
        requireNumber(`workload.steps[${i}].atMs`, s.atMs, { min: 0 });
        requireNumber(`workload.steps[${i}].bytes`, s.bytes, { min: 0 });
        if (s.op !== 'allocate' && s.op !== 'dirty' && s.op !== 'free') {
          throw new WorkloadConfigError(`workload.steps[${i}].op`, `workload.steps[${i}].op must be allocate, dirty or free, got ${String(s.op)}`);
        }
      });
      break;
    case 'steady':
      requireNumber('workload.usedBytes', workload.usedBytes, { min: 0 });
      requireNumber('workload.churnBytes', workload.churnBytes, { min: 0 });
      requireNumber('workload.periodMs', workload.periodMs, { min: 0, exclusiveMin: true });
      if (workload.dirtyBytes !== undefined) requireNumber('workload.dirtyBytes', workload.dirtyBytes, { min: 0 });
      if (workload.startMs !== undefined) requireNumber('workload.startMs', workload.startMs, { min: 0 });
      if (Math.floor(workload.churnBytes / PAGE_SIZE) >= 2 ** 31) {
        throw new WorkloadConfigError('workload.churnBytes', `workload.churnBytes is too large, got ${workload.churnBytes}`);
      }
      break;
    case 'demand':
      if (workload.periodMs !== undefined) requireNumber('workload.periodMs', workload.periodMs, { min: 0, exclusiveMin: true });
      if (workload.activeBytes !== undefined) requireNumber('workload.activeBytes', workload.activeBytes, { min: 0 });
      try {
        validateDemandCurve(workload, 'workload');
      } catch (err) {
        if (err instanceof DemandCurveError) throw new WorkloadConfigError(err.field, err.message);
        throw err;
      }
      break;
    default: {
      const kind = (workload as { kind?: unknown }).kind;
      throw new WorkloadConfigError('workload.kind', `workload.kind must be idle, script, steady or demand, got ${String(kind)}`);
    }
  }
  if (!hasMemory) throw new WorkloadConfigError('memory', `a '${workload.kind}' workload needs input.memory`);
}

const toPages = (bytes: number): number => Math.floor(bytes / PAGE_SIZE);

function sortedSteps(workload: WorkloadConfig): WorkloadStep[] {
  // Stable sort: steps at the same time keep their order.
  return workload.kind === 'script' ? workload.steps.map((s, i) => ({ s, i })).sort((a, b) => a.s.atMs - b.s.atMs || a.i - b.i).map((x) => x.s) : [];
}

/** Run a workload operation on the memory model; returns the work it cost and the pages moved. */
function runWorkloadOp(
  memory: WorkloadMemory,
  op: WorkloadOp,
  context: VcpuContext,
): { work: WorkItem[]; requested: number; done: number } {
  switch (op.op) {
    case 'allocate': {
      const ranges = memory.allocateUsed(op.pages);
      const done = ranges.reduce((sum, r) => sum + r.pageCount, 0);
      return { work: [{ kind: 'pageAllocated', count: done }, { kind: 'rangeAllocated', count: ranges.length }], requested: op.pages, done };
    }
    case 'free': {
      const done = memory.freeUsed(op.pages);
      return { work: [{ kind: 'pageFreed', count: done }], requested: op.pages, done };
    }
    case 'dirty': {
      // Every page written costs, whether or not its backing had been discarded.
      const touched = Math.min(op.pages, memory.workloadUsedPages());
      memory.dirty(touched);
      return { work: [{ kind: 'pageDirtied', count: touched }], requested: op.pages, done: touched };
    }
    case 'churn': {
      if (context.workload.kind !== 'steady') return { work: [], requested: 0, done: 0 };
      const w = context.workload;
      const churn = toPages(w.churnBytes);
      const target = Math.max(0, toPages(w.usedBytes) + (churn > 0 ? context.prng.nextInt(-churn, churn) : 0));
      const have = memory.workloadUsedPages();
      const work: WorkItem[] = [];
      let moved = 0;
      if (target > have) {
        const ranges = memory.allocateUsed(target - have);
        moved = ranges.reduce((sum, r) => sum + r.pageCount, 0);
        work.push({ kind: 'pageAllocated', count: moved }, { kind: 'rangeAllocated', count: ranges.length });
      } else if (target < have) {
        moved = memory.freeUsed(have - target);
        work.push({ kind: 'pageFreed', count: moved });
      }
      const dirtyPages = Math.min(toPages(w.dirtyBytes ?? 0), memory.workloadUsedPages());
      if (dirtyPages > 0) {
        memory.dirty(dirtyPages);
        work.push({ kind: 'pageDirtied', count: dirtyPages });
      }
      return { work, requested: Math.abs(target - have), done: moved };
    }
    case 'follow': {
      const w = context.workload;
      if (w.kind !== 'demand' || !isPagingMemory(memory)) return { work: [], requested: 0, done: 0 };
      const demand = toPages(demandAt(w, context.prng.seed, op.elapsedMs));
      const active = w.activeBytes === undefined ? Math.floor(demand / 16) : toPages(w.activeBytes);
      const result = followDemand(memory, demand, active);
      return { work: result.work, requested: demand, done: result.moved };
    }
  }
}

/** The first of `queue` started (its workload effect run, its cost priced): the queue and job after. */
function startFirst(context: VcpuContext, queue: readonly QueueEntry[]): { queue: QueueEntry[]; current: RunningJob } {
  const [entry, ...rest] = queue as [QueueEntry, ...QueueEntry[]];
  let work: WorkItem[];
  let requested = 0;
  let done = 0;
  if (entry.source === 'part') {
    work = entry.job.work;
  } else {
    // The memory model is mutated here, once, when the job starts.
    const result = context.memory === null ? { work: [], requested: 0, done: 0 } : runWorkloadOp(context.memory, entry.op, context);
    ({ work, requested, done } = result);
  }
  const costMs = costOf(work, context.costTable);
  const current: RunningJob = {
    entry,
    costMs,
    remainingMs: costMs,
    startedAt: context.outbox.now(),
    requestedPages: requested,
    donePages: done,
    posted: null,
  };
  return { queue: rest, current };
}

/** The job.done of a part's job just started, handed to the bus to be posted when its time is up. */
function postedAhead(context: VcpuContext, c: RunningJob): RunningJob {
  if (c.entry.source !== 'part' || context.outbox.postWhenDue === undefined) return c;
  const done: JobDoneEvent = { type: 'job.done', tag: c.entry.job.tag, costMs: c.costMs };
  return { ...c, posted: context.outbox.postWhenDue(c.entry.job.owner, done, c.remainingMs) };
}

/** A job posted ahead whose time is up: its vcpu.job-done event, or null if none is due. */
function settledJobDone(c: RunningJob | null): VcpuEmitted | null {
  if (c === null || c.posted === null || c.posted.pending || c.entry.source !== 'part') return null;
  const { owner, tag } = c.entry.job;
  return { type: 'vcpu.job-done', owner, tag, costMs: c.costMs, at: c.startedAt + c.remainingMs };
}

export const vcpuMachine = setup({
  types: {
    input: {} as VcpuInput,
    context: {} as VcpuContext,
    events: {} as VcpuMachineEvent,
    emitted: {} as VcpuEmitted,
  },
  delays: {
    JOB_TIME: ({ context }) => context.current?.remainingMs ?? 0,
    RESET_TIME: ({ context }) => context.resetMs,
  },
  guards: {
    hasCurrent: ({ context }) => context.current !== null,
    /** A job whose job.done was posted ahead is still running. */
    postedJobRunning: ({ context }) => context.current?.posted?.pending === true,
    /** The runtime can post a job's job.done when its time is up (the bus can; a stub may not). */
    canPostAhead: ({ context }) => context.outbox.postWhenDue !== undefined,
    hasQueued: ({ context }) => context.queue.length > 0,
    isPaused: ({ context }) => context.paused,
  },
  actions: {
    enqueueJob: assign({
      queue: ({ context, event }) => (event.type === 'vcpu.run' ? [...context.queue, { source: 'part' as const, job: event.job }] : context.queue),
    }),
    /** Take the next job off the queue, run its effect (workload) and price it. */
    startNext: assign(({ context }) => startFirst(context, context.queue)),
    /**
     * The job just started on an idle vCPU finishes without waking it: job.done is posted when
     * its time is up, in the place among that instant's messages the vCPU's own timer would have
     * given it (docs/architecture.md, "Performance design: the guest side").
     */
    postJobDoneAhead: assign({
      current: ({ context }) => (context.current === null ? null : postedAhead(context, context.current)),
    }),
    /**
     * On an idle vCPU, in one assign (one context copy, not four): settlePostedJob, then queue
     * the job (enqueueJob), start it (startNext) and post its job.done ahead (postJobDoneAhead).
     */
    startJobPostedAhead: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'vcpu.run') return;
      const c = context.current;
      const settled = c !== null && c.posted !== null && !c.posted.pending;
      const jobDone = settledJobDone(c);
      if (jobDone !== null) enqueue.emit(jobDone);
      enqueue.assign(({ context: ctx }) => {
        const started = startFirst(ctx, [...ctx.queue, { source: 'part', job: event.job }]);
        return {
          queue: started.queue,
          current: postedAhead(ctx, started.current),
          jobsDone: settled ? ctx.jobsDone + 1 : ctx.jobsDone,
        };
      });
    }),
    /** A job posted ahead whose time is up is done (the bus has posted its job.done). */
    settlePostedJob: enqueueActions(({ context, enqueue }) => {
      const c = context.current;
      if (c === null || c.posted === null || c.posted.pending) return;
      const jobDone = settledJobDone(c);
      if (jobDone !== null) enqueue.emit(jobDone);
      enqueue.assign({ current: null, jobsDone: context.jobsDone + 1 });
    }),
    resumeCurrent: assign({
      current: ({ context }) => (context.current === null ? null : { ...context.current, startedAt: context.outbox.now() }),
    }),
    /** Jobs wait behind a job posted ahead: the bus wakes the vCPU when it posts that job's job.done. */
    wakeWhenPostedJobEnds: ({ context, self }) => {
      context.current?.posted?.whenPosted(() => self.send({ type: 'vcpu.posted-job-ended' }));
    },
    /** A halt cuts the running job short: keep what is left of its time. */
    suspendCurrent: enqueueActions(({ context, enqueue }) => {
      const c = context.current;
      if (c === null) return;
      if (c.posted !== null && !c.posted.pending) {
        // Its time was already up: it is done (as settlePostedJob).
        if (c.entry.source === 'part') {
          const { owner, tag } = c.entry.job;
          enqueue.emit({ type: 'vcpu.job-done', owner, tag, costMs: c.costMs, at: c.startedAt + c.remainingMs });
        }
        enqueue.assign({ current: null, jobsDone: context.jobsDone + 1 });
        return;
      }
      // A job posted ahead is called off and runs its remaining time after the resume.
      c.posted?.cancel();
      const elapsed = context.outbox.now() - c.startedAt;
      enqueue.assign({ current: { ...c, remainingMs: Math.max(0, c.remainingMs - elapsed), posted: null } });
    }),
    finishCurrent: enqueueActions(({ context, enqueue }) => {
      const c = context.current;
      if (c === null) return;
      const at = context.outbox.now();
      if (c.entry.source === 'part') {
        // A job posted ahead (then another queued behind it) has its job.done on the bus already.
        if (c.posted === null) {
          const done: JobDoneEvent = { type: 'job.done', tag: c.entry.job.tag, costMs: c.costMs };
          context.outbox.post(c.entry.job.owner, done);
        }
        enqueue.emit({ type: 'vcpu.job-done', owner: c.entry.job.owner, tag: c.entry.job.tag, costMs: c.costMs, at });
      } else {
        enqueue.emit({
          type: 'vcpu.workload-step',
          tag: c.entry.tag,
          op: c.entry.op.op,
          requestedPages: c.requestedPages,
          pages: c.donePages,
          usedPages: context.memory?.workloadUsedPages() ?? 0,
          costMs: c.costMs,
          at,
        });
        enqueue.emit({ type: 'vcpu.job-done', owner: 'workload', tag: c.entry.tag, costMs: c.costMs, at });
      }
      enqueue.assign({ current: null, jobsDone: context.jobsDone + 1 });
    }),
    setPaused: assign({ paused: true }),
    clearPaused: assign({ paused: false }),
    dropAll: assign(({ context }) => {
      context.current?.posted?.cancel();
      return { queue: [], current: null };
    }),
    /** (Re)start the workload schedule from its beginning. */
    startWorkload: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ tick: 0 });
      const w = context.workload;
      if (w.kind === 'script') {
        const steps = context.steps;
        if (steps.length > 0) enqueue.raise({ type: 'workload.tick' }, { id: 'workload-tick', delay: steps[0].atMs });
      } else if (w.kind === 'steady') {
        enqueue.raise({ type: 'workload.tick' }, { id: 'workload-tick', delay: w.startMs ?? 0 });
      } else if (w.kind === 'demand') {
        enqueue.raise({ type: 'workload.tick' }, { id: 'workload-tick', delay: 0 });
      }
    }),
    stopWorkload: cancel('workload-tick'),
    /** A workload tick: queue its operations and arm the next tick. */
    workloadTick: enqueueActions(({ context, enqueue }) => {
      const w = context.workload;
      const newEntries: QueueEntry[] = [];
      let seq = context.workloadSeq;
      let tick = context.tick;
      const add = (op: WorkloadOp): void => {
        seq += 1;
        newEntries.push({ source: 'workload', tag: `workload-${seq}-${op.op}`, op });
      };
      if (w.kind === 'script') {
        const steps = context.steps;
        const at = steps[tick]?.atMs;
        while (tick < steps.length && steps[tick].atMs === at) {
          add({ op: steps[tick].op, pages: toPages(steps[tick].bytes) });
          tick += 1;
        }
        if (tick < steps.length && at !== undefined) {
          enqueue.raise({ type: 'workload.tick' }, { id: 'workload-tick', delay: steps[tick].atMs - at });
        }
      } else if (w.kind === 'steady') {
        if (tick === 0) add({ op: 'allocate', pages: toPages(w.usedBytes) });
        // A churn still waiting in the queue (e.g. while halted) absorbs this one: no pile-up.
        else if (!context.queue.some((e) => e.source === 'workload' && e.op.op === 'churn')) add({ op: 'churn' });
        tick += 1;
        enqueue.raise({ type: 'workload.tick' }, { id: 'workload-tick', delay: w.periodMs });
      } else if (w.kind === 'demand') {
        const period = w.periodMs ?? DEFAULT_DEMAND_PERIOD_MS;
        // As with churn: a follow still queued (halted) absorbs this one.
        if (!context.queue.some((e) => e.source === 'workload' && e.op.op === 'follow')) add({ op: 'follow', elapsedMs: tick * period });
        tick += 1;
        enqueue.raise({ type: 'workload.tick' }, { id: 'workload-tick', delay: period });
      }
      enqueue.assign({ queue: [...context.queue, ...newEntries], workloadSeq: seq, tick });
    }),
  },
}).createMachine({
  id: 'vcpu',
  context: ({ input }) => {
    const workload = input.workload ?? { kind: 'idle' };
    validateWorkload(workload, input.memory !== undefined);
    const resetMs = input.resetMs ?? DEFAULT_VCPU_RESET_MS;
    if (!Number.isFinite(resetMs) || resetMs < 0) {
      throw new WorkloadConfigError('resetMs', `resetMs must be a number >= 0, got ${String(resetMs)}`);
    }
    return {
      outbox: input.outbox,
      memory: input.memory ?? null,
      workload,
      steps: sortedSteps(workload),
      prng: new SeededPrng(input.seed ?? 1),
      costTable: resolveCostTable(input.costModel),
      resetMs,
      queue: [],
      current: null,
      paused: false,
      tick: 0,
      workloadSeq: 0,
      jobsDone: 0,
    };
  },
  entry: 'startWorkload',
  initial: 'running',
  on: {
    'vcpu.run': { actions: 'enqueueJob' },
    'workload.tick': { actions: 'workloadTick' },
    // Not reenter: the root's entry (start the workload) must not run again; a reset while
    // resetting still restarts the reset time (the resetting child is exited and re-entered).
    'system.reset': { target: '.resetting', actions: ['dropAll', 'stopWorkload'] },
  },
  states: {
    running: {
      initial: 'pick',
      on: {
        'vcpu.halt': { target: 'halted', actions: ['suspendCurrent', 'setPaused'] },
        'vcpu.resume': {},
      },
      states: {
        pick: {
          always: [
            { guard: 'postedJobRunning', target: 'ending', actions: 'wakeWhenPostedJobEnds' },
            { guard: 'hasCurrent', target: 'busy', actions: 'resumeCurrent' },
            { guard: 'hasQueued', target: 'busy', actions: 'startNext' },
            { target: 'idle' },
          ],
        },
        // Nothing queued. A job starts at once (one step, not two through `pick`); on the bus its
        // job.done is posted ahead, and the vCPU stays here. A second job while that one still
        // runs waits in `busy` for the rest of its time.
        idle: {
          on: {
            'vcpu.run': [
              { guard: 'postedJobRunning', target: 'ending', actions: ['enqueueJob', 'wakeWhenPostedJobEnds'] },
              // settlePostedJob, enqueueJob, startNext and postJobDoneAhead in one step's one assign.
              { guard: 'canPostAhead', actions: 'startJobPostedAhead' },
              { target: 'busy', actions: ['settlePostedJob', 'enqueueJob', 'startNext'] },
            ],
            'workload.tick': { target: 'pick', actions: ['settlePostedJob', 'workloadTick'] },
          },
        },
        // The job's time passes; then the next queued job starts in the same step, or the vCPU idles.
        busy: {
          after: {
            JOB_TIME: [
              { guard: 'hasQueued', target: 'busy', reenter: true, actions: ['finishCurrent', 'startNext'] },
              { target: 'idle', actions: 'finishCurrent' },
            ],
          },
        },
        // A job posted ahead runs with jobs queued behind it: the bus wakes the vCPU right after it
        // posts that job's job.done, where the vCPU's own timer would have fired in `busy`.
        ending: {
          on: {
            'vcpu.posted-job-ended': [
              { guard: 'hasQueued', target: 'busy', actions: ['finishCurrent', 'startNext'] },
              { target: 'idle', actions: 'finishCurrent' },
            ],
          },
        },
      },
    },
    halted: {
      on: {
        'vcpu.resume': { target: 'running', actions: 'clearPaused' },
        'vcpu.halt': {},
      },
    },
    resetting: {
      on: {
        'vcpu.halt': { actions: 'setPaused' },
        'vcpu.resume': { actions: 'clearPaused' },
      },
      after: {
        RESET_TIME: [
          { guard: 'isPaused', target: 'halted', actions: 'startWorkload' },
          { target: 'running', actions: 'startWorkload' },
        ],
      },
    },
  },
});
