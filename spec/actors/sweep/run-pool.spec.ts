/**
 * How the local pool hands out runs: short runs go to a worker in batches (one message each way
 * for many runs), long runs one at a time, and the last runs in small pieces so the workers finish
 * together; every run is handed out once and its outcome comes back under its own index.
 */
import { batchSize, runAll, RunTimer, type RunPool } from '../../../actors/sweep/run-pool';
import type { RunOutcome, RunTask, SerializedRunOutcome } from '../../../actors/sweep/run-task';

describe('batches of runs for the pool', () => {
  it('sends one run at a time until a run has been timed, then about 100 ms of runs at once', () => {
    expect(batchSize(undefined, 1000, 2)).toBe(1);
    expect(batchSize(6, 1000, 2)).toBe(16);
    expect(batchSize(0.5, 100_000, 2)).toBe(32);
    // A run of a second or of two minutes goes alone, as before batching.
    expect(batchSize(900, 1000, 2)).toBe(1);
    expect(batchSize(120_000, 1000, 8)).toBe(1);
  });

  it('keeps batches small near the end so no worker is left with a long last batch', () => {
    expect(batchSize(6, 40, 2)).toBe(5);
    expect(batchSize(6, 7, 2)).toBe(1);
    expect(batchSize(6, 1, 1)).toBe(1);
  });

  it('runs every index once and reports each outcome under its index', async () => {
    const batches: number[][] = [];
    const pool: RunPool = {
      workers: 2,
      run: () => Promise.reject(new Error('unused')),
      runBatch: async (tasks: readonly RunTask[]) => {
        batches.push(tasks.map((t) => t.scenario.seed as number));
        await new Promise((resolve) => setTimeout(resolve, 1));
        return { outcomes: tasks.map((t): RunOutcome => ({ status: 'ok', figures: { seed: t.scenario.seed as number }, final: null })), runMs: tasks.length * 2 };
      },
      cpuMs: () => 0,
      close: () => Promise.resolve(),
    };
    const indices = Array.from({ length: 300 }, (_, i) => i * 2);
    const seen = new Map<number, RunOutcome | SerializedRunOutcome>();
    await runAll(
      pool,
      indices,
      (index) => ({ kind: 'vm', source: 's', scenario: { seed: index }, figures: [], budgetMs: 1000 }),
      (outcomes) => outcomes.forEach(([index, outcome]) => seen.set(index, outcome)),
    );
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual(indices);
    for (const [index, outcome] of seen) expect(outcome).toEqual({ status: 'ok', figures: { seed: index }, final: null });
    expect(batches.flat().sort((a, b) => a - b)).toEqual(indices);
    // The first runs go one at a time; the rest in batches.
    expect(batches[0]).toHaveLength(1);
    expect(Math.max(...batches.map((b) => b.length))).toBeGreaterThan(1);
  });

  it('keeps two batches per worker out, so a worker has its next batch as soon as it sends one back', async () => {
    let out = 0;
    let mostOut = 0;
    const pool: RunPool = {
      workers: 2,
      run: () => Promise.reject(new Error('unused')),
      runBatch: async (tasks: readonly RunTask[]) => {
        mostOut = Math.max(mostOut, ++out);
        await new Promise((resolve) => setTimeout(resolve, 2));
        out--;
        return { outcomes: tasks.map((): RunOutcome => ({ status: 'ok', figures: {}, final: null })), runMs: tasks.length * 5 };
      },
      cpuMs: () => 0,
      close: () => Promise.resolve(),
    };
    await runAll(pool, [...Array(200).keys()], (index) => ({ kind: 'vm', source: 's', scenario: { seed: index }, figures: [], budgetMs: 1000 }), () => undefined);
    expect(mostOut).toBe(4);
  });
});

describe('the time per run that sizes batches', () => {
  it('is the workers\' own time per run, following the latest batches rather than the slow first runs', () => {
    const timer = new RunTimer();
    expect(timer.runMs).toBeUndefined();
    // A worker's first run, while V8 compiles: 60 ms.
    timer.add(60, 1);
    expect(timer.runMs).toBe(60);
    expect(batchSize(timer.runMs, 1000, 2)).toBe(1);
    // Then batches of runs at 5 ms each: within ten batches the size is what 5 ms runs give (20), not what the mean since the start would.
    for (let i = 0; i < 10; i++) timer.add(50, 10);
    expect(batchSize(timer.runMs, 1000, 2)).toBeGreaterThanOrEqual(18);
    expect(batchSize(timer.runMs, 1000, 2)).toBeLessThanOrEqual(20);
  });
});
