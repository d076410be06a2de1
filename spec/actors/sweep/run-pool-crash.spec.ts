/**
 * A batch of runs whose worker process dies (a run that crashes its process: a user's policy module
 * that exits, a native crash, the OOM killer): the pool runs the batch's runs again one at a time,
 * so only the run that takes its process down is recorded as failed, the others give what they
 * give anywhere, and a new process takes the dead one's place.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunPool } from '../../../actors/sweep/run-pool';
import { runTask, type RunTask } from '../../../actors/sweep/run-task';

jest.setTimeout(240_000);

const dir = mkdtempSync(join(tmpdir(), 'hvb-sweep-crash-'));
// A policy with a fatal bug for one setting: it takes its whole process down.
writeFileSync(
  join(dir, 'crash-policy.js'),
  `exports.policy = (tick) => {
    if (tick.vms[0].settings.weight === 1003) process.kill(process.pid, 'SIGKILL');
    return [];
  };\n`,
);

const taskFor = (weight: number): RunTask => ({
  kind: 'host',
  // The policy module resolves relative to the scenario's file.
  source: join(dir, 'host.json'),
  scenario: {
    seed: 1,
    host: { memory: '4G', reserve: '512M', policy: { kind: 'module', module: 'crash-policy.js' } },
    vms: [{ name: 'a', dynamicMemory: { startup: '1G', minimum: '512M', maximum: '2G', weight } }],
    until: '10s',
  },
  figures: [],
  budgetMs: 60_000,
});

describe('a batch whose worker process dies', () => {
  it('is run again run by run: the run that killed the process alone fails, the others are as if never batched', async () => {
    const pool = createRunPool(1);
    try {
      const weights = [1001, 1002, 1003, 1004, 1005];
      const { outcomes, runMs } = await pool.runBatch(weights.map(taskFor));
      expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok', 'error', 'ok', 'ok']);
      expect(outcomes[2]).toEqual({ status: 'error', error: expect.stringMatching(/^the run's worker process failed: /) });
      // Run again one by one, so the batch has no time of its own.
      expect(runMs).toBeUndefined();
      for (const i of [0, 1, 3, 4]) expect(outcomes[i]).toEqual(runTask(taskFor(weights[i])));
      // The pool goes on with a new process in the dead one's place.
      const after = await pool.runBatch([taskFor(1006), taskFor(1007)]);
      expect(after.outcomes.map((o) => o.status)).toEqual(['ok', 'ok']);
      expect(after.runMs).toEqual(expect.any(Number));
    } finally {
      await pool.close();
    }
  });
});
