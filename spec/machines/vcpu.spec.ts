import { createActor } from 'xstate';
import { VirtualClock } from '../../actors/virtual-clock';
import { costOf } from '../../machines/cost-model';
import { MachineMemory } from '../../machines/machine-memory';
import type { Outbox, PostedEvent } from '../../machines/outbox';
import type { PartId, VcpuJob, WorkItem } from '../../machines/part-events';
import { validateWorkload, vcpuMachine, type VcpuEmitted, type VcpuInput, type WorkloadConfig } from '../../machines/vcpu.machine';

const GiB = 1024 ** 3;

interface Posted {
  to: PartId;
  event: PostedEvent;
  at: number;
}


/** The vCPU on a test clock with a recording Outbox that reads it. */
function harness(input: Omit<VcpuInput, 'outbox'>) {
  const clock = new VirtualClock();
  const posted: Posted[] = [];
  const outbox: Outbox = {
    post: (to, event) => posted.push({ to, event, at: clock.now() }),
    now: () => clock.now(),
  };
  const actor = createActor(vcpuMachine, { clock, input: { ...input, outbox } });
  const emitted: VcpuEmitted[] = [];
  actor.on('*', (e) => emitted.push(e));
  actor.start();
  const advance = (ms: number): void => clock.advance(ms);
  return { clock, actor, posted, emitted, advance };
}

// 1 ms per handled message keeps the arithmetic readable.
const MS = 1_000_000;
const costModel = { messageHandled: MS, pageAllocated: 1000, pageFreed: 1000, pageDirtied: 1000, rangeAllocated: 0 };
const job = (owner: PartId, tag: string, ms: number): VcpuJob => ({ owner, tag, work: [{ kind: 'messageHandled', count: ms }] });

describe('vCPU job queue', () => {
  test('jobs run one at a time in FIFO order and job.done goes to each owner when its cost has elapsed', () => {
    const h = harness({ costModel });
    h.actor.send({ type: 'vcpu.run', job: job('guest', 'a', 5) });
    h.actor.send({ type: 'vcpu.run', job: job('device', 'b', 3) });
    h.actor.send({ type: 'vcpu.run', job: job('guest', 'c', 0) });
    h.advance(20);
    expect(h.posted).toEqual([
      { to: 'guest', event: { type: 'job.done', tag: 'a', costMs: 5 }, at: 5 },
      { to: 'device', event: { type: 'job.done', tag: 'b', costMs: 3 }, at: 8 },
      { to: 'guest', event: { type: 'job.done', tag: 'c', costMs: 0 }, at: 8 },
    ]);
    expect(h.actor.getSnapshot().value).toEqual({ running: 'idle' });
  });

  test('a job costs what the cost model says, and virtual time passes by that much', () => {
    const h = harness({});
    const work: WorkItem[] = [
      { kind: 'pageAllocated', count: 100_000 },
      { kind: 'rangeAllocated', count: 200 },
      { kind: 'messageSent', count: 1 },
    ];
    const expected = costOf(work);
    expect(expected).toBeGreaterThan(50);
    h.actor.send({ type: 'vcpu.run', job: { owner: 'guest', tag: 'balloon', work } });
    h.clock.advance(expected - 1);
    expect(h.posted).toEqual([]);
    h.clock.advance(1);
    expect(h.posted).toEqual([{ to: 'guest', event: { type: 'job.done', tag: 'balloon', costMs: expected }, at: expected }]);
  });

  test('cost-model overrides from the config change the price', () => {
    const h = harness({ costModel: { messageSent: 2 * MS } });
    h.actor.send({ type: 'vcpu.run', job: { owner: 'guest', tag: 'x', work: [{ kind: 'messageSent', count: 3 }] } });
    h.advance(10);
    expect(h.posted[0]).toMatchObject({ event: { costMs: 6 }, at: 6 });
  });

  test('halted, the queue waits and a job cut short keeps its remaining time', () => {
    const h = harness({ costModel });
    h.actor.send({ type: 'vcpu.run', job: job('guest', 'a', 10) });
    h.advance(4);
    h.actor.send({ type: 'vcpu.halt' });
    h.actor.send({ type: 'vcpu.run', job: job('guest', 'b', 1) });
    expect(h.actor.getSnapshot().value).toBe('halted');
    h.advance(100);
    expect(h.posted).toEqual([]);
    h.actor.send({ type: 'vcpu.resume' });
    h.advance(20);
    expect(h.posted.map((p) => [p.event, p.at])).toEqual([
      [{ type: 'job.done', tag: 'a', costMs: 10 }, 110],
      [{ type: 'job.done', tag: 'b', costMs: 1 }, 111],
    ]);
  });

  test('system.reset drops queued and running jobs, resets for the reset time, then runs new jobs', () => {
    const h = harness({ costModel, resetMs: 10 });
    h.actor.send({ type: 'vcpu.run', job: job('guest', 'a', 5) });
    h.actor.send({ type: 'vcpu.run', job: job('guest', 'b', 5) });
    h.advance(2);
    h.actor.send({ type: 'system.reset' });
    expect(h.actor.getSnapshot().value).toBe('resetting');
    h.actor.send({ type: 'vcpu.run', job: job('guest', 'after', 1) });
    h.advance(9);
    expect(h.actor.getSnapshot().value).toBe('resetting');
    h.advance(20);
    expect(h.posted).toEqual([{ to: 'guest', event: { type: 'job.done', tag: 'after', costMs: 1 }, at: 13 }]);
    expect(h.actor.getSnapshot().value).toEqual({ running: 'idle' });
  });

  test('a second reset while resetting restarts the reset time', () => {
    const h = harness({ costModel, resetMs: 10 });
    h.actor.send({ type: 'system.reset' });
    h.advance(5);
    h.actor.send({ type: 'system.reset' });
    h.advance(9);
    expect(h.actor.getSnapshot().value).toBe('resetting');
    h.advance(1);
    expect(h.actor.getSnapshot().value).toEqual({ running: 'idle' });
  });

  test('a halt survives a reset (a stopped VM stays stopped across system_reset)', () => {
    const h = harness({ costModel, resetMs: 5 });
    h.actor.send({ type: 'vcpu.halt' });
    h.actor.send({ type: 'system.reset' });
    h.advance(10);
    expect(h.actor.getSnapshot().value).toBe('halted');
    h.actor.send({ type: 'vcpu.resume' });
    expect(h.actor.getSnapshot().value).toEqual({ running: 'idle' });
  });
});

describe('vCPU workload', () => {
  test('a scripted workload allocates, dirties and frees at the given times, charging the cost model', () => {
    const memory = new MachineMemory({ ramBytes: GiB });
    const free = memory.freePages();
    const workload: WorkloadConfig = {
      kind: 'script',
      steps: [
        { atMs: 50, op: 'free', bytes: 40 * 4096 },
        { atMs: 0, op: 'allocate', bytes: 100 * 4096 },
        { atMs: 20, op: 'dirty', bytes: 1000 * 4096 },
      ],
    };
    const h = harness({ costModel, memory, workload });
    h.advance(1);
    expect(memory.workloadUsedPages()).toBe(100);
    expect(memory.freePages()).toBe(free - 100);
    h.advance(100);
    expect(memory.workloadUsedPages()).toBe(60);
    expect(h.emitted.filter((e) => e.type === 'vcpu.workload-step')).toEqual([
      { type: 'vcpu.workload-step', tag: 'workload-1-allocate', op: 'allocate', requestedPages: 100, pages: 100, usedPages: 100, costMs: 0.1, at: 0.1 },
      // Dirtying touches at most the workload's own pages.
      { type: 'vcpu.workload-step', tag: 'workload-2-dirty', op: 'dirty', requestedPages: 1000, pages: 100, usedPages: 100, costMs: 0.1, at: 20.1 },
      { type: 'vcpu.workload-step', tag: 'workload-3-free', op: 'free', requestedPages: 40, pages: 40, usedPages: 60, costMs: 0.04, at: 50.04 },
    ]);
    // Workload jobs report to nobody.
    expect(h.posted).toEqual([]);
  });

  function steadyTrace(seed: number): VcpuEmitted[] {
    const memory = new MachineMemory({ ramBytes: GiB });
    const h = harness({
      costModel,
      memory,
      seed,
      workload: { kind: 'steady', usedBytes: 256 * 1024 ** 2, churnBytes: 64 * 1024 ** 2, periodMs: 50, dirtyBytes: 1024 ** 2 },
    });
    h.advance(1000);
    return h.emitted.filter((e) => e.type === 'vcpu.workload-step');
  }

  test('a steady churn keeps the working set around its mean; the same seed gives the same trace', () => {
    const a = steadyTrace(42);
    expect(a.length).toBeGreaterThan(15);
    expect(a[0]).toMatchObject({ op: 'allocate', pages: 65_536 });
    // Every churn moves the working set to mean +- churn (65,536 +- 16,384 pages).
    for (const e of a.slice(1)) {
      expect(e).toMatchObject({ op: 'churn' });
      if (e.type === 'vcpu.workload-step') {
        expect(e.usedPages).toBeGreaterThanOrEqual(65_536 - 16_384);
        expect(e.usedPages).toBeLessThanOrEqual(65_536 + 16_384);
      }
    }
    expect(new Set(a.map((e) => (e.type === 'vcpu.workload-step' ? e.usedPages : 0))).size).toBeGreaterThan(10);
    expect(steadyTrace(42)).toEqual(a);
    expect(steadyTrace(43)).not.toEqual(a);
  });

  test('while halted, steady churn ticks do not pile up: one churn waits for the resume', () => {
    const memory = new MachineMemory({ ramBytes: GiB });
    const h = harness({ costModel, memory, workload: { kind: 'steady', usedBytes: 4096 * 100, churnBytes: 4096 * 10, periodMs: 50 } });
    h.advance(10);
    h.actor.send({ type: 'vcpu.halt' });
    h.advance(1000);
    expect(h.actor.getSnapshot().context.queue).toHaveLength(1);
    h.actor.send({ type: 'vcpu.resume' });
    h.advance(1);
    expect(h.emitted.filter((e) => e.type === 'vcpu.workload-step').map((e) => e.op)).toEqual(['allocate', 'churn']);
  });

  test('a reset restarts the workload from its first step', () => {
    const memory = new MachineMemory({ ramBytes: GiB });
    const h = harness({ costModel, memory, resetMs: 10, workload: { kind: 'script', steps: [{ atMs: 5, op: 'allocate', bytes: 4096 }] } });
    h.advance(20);
    memory.resetToBoot(); // what the memory controller does on system.reset
    h.actor.send({ type: 'system.reset' });
    h.advance(30);
    const steps = h.emitted.filter((e) => e.type === 'vcpu.workload-step');
    expect(steps.map((e) => e.at)).toEqual([5.001, 30 + 5.001]);
    expect(memory.workloadUsedPages()).toBe(1);
  });

  test('workload config errors name the field', () => {
    expect(() => validateWorkload({ kind: 'steady', usedBytes: 1, churnBytes: 0, periodMs: 0 }, true)).toThrow(
      'workload.periodMs must be a number > 0, got 0',
    );
    expect(() => validateWorkload({ kind: 'script', steps: [{ atMs: -1, op: 'allocate', bytes: 1 }] }, true)).toThrow(
      'workload.steps[0].atMs must be a number >= 0, got -1',
    );
    expect(() => validateWorkload({ kind: 'script', steps: [] }, false)).toThrow("a 'script' workload needs input.memory");
    expect(() => validateWorkload({ kind: 'idle' }, false)).not.toThrow();
  });
});
