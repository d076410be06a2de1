/**
 * A pool worker process: loads the simulator once, then runs one sweep task after another for its
 * parent's pool (workerpool's worker side: tasks and outcomes come and go over the IPC channel).
 */
import { worker } from 'workerpool';
import { runTask, serializeOutcome, type RunTask } from './run-task';
import type { PoolBatchReply, PoolReply } from './run-pool';
import { loadRunners } from './scenario-kinds';

// The simulator loads while the sweep process reads and checks the sweep file, not in the first run.
loadRunners();

// Ctrl-C in a terminal reaches the whole process group: the sweep decides what happens to its
// runs (it drops those in flight and ends this process), so the worker does not die under it
// first. A parent that dies without ending it closes the IPC channel, and workerpool exits then.
process.on('SIGINT', () => undefined);

/** This process's CPU so far (its start-up and GC included): the sweep's CPU figure adds up its workers'. */
function cpuMs(): number {
  const cpu = process.cpuUsage();
  return (cpu.user + cpu.system) / 1000;
}

worker({
  run: (task: RunTask): PoolReply => {
    const started = performance.now();
    const outcome = runTask(task);
    return { outcome, pid: process.pid, cpuMs: cpuMs(), runMs: performance.now() - started };
  },
  runBatch: (tasks: RunTask[]): PoolBatchReply => {
    const started = performance.now();
    const outcomes = tasks.map((task) => serializeOutcome(runTask(task)));
    return { outcomes, pid: process.pid, cpuMs: cpuMs(), runMs: performance.now() - started };
  },
});
