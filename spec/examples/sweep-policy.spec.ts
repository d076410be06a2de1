/**
 * examples/sweep-policy.json: a policy sweep over a host scenario (buffer × weight × demand of one
 * VM). A few of its 27 runs, in this process, check what its description claims; the sweep
 * machinery has its own specs (spec/actors/sweep/).
 */
import { join } from 'node:path';
import { combinationOf, loadSweepFile } from '../../actors/sweep/sweep-file';
import { runTask } from '../../actors/sweep/run-task';
import { taskOf } from '../../actors/sweep/sweep-runner';

jest.setTimeout(120_000);

const sweep = loadSweepFile(join(__dirname, '..', '..', 'examples', 'sweep-policy.json'));

function figuresOf(buffer: number, weight: number, peak: string): Record<string, number | null> {
  const wanted = JSON.stringify({ 'vms[0].dynamicMemory.buffer': buffer, 'vms[0].dynamicMemory.weight': weight, 'vms[0].workload.toBytes': peak });
  let index = 0;
  while (JSON.stringify(combinationOf(sweep, index)) !== wanted) index++;
  const outcome = runTask(taskOf(sweep, index));
  if (outcome.status !== 'ok') throw new Error(`run ${index}: ${outcome.error}`);
  return outcome.figures;
}

describe('sweep-policy.json', () => {
  it('is 27 runs of a host scenario: three buffers, three weights, three peaks of db', () => {
    expect(sweep.kind).toBe('host');
    expect(sweep.runs).toBe(27);
    expect(sweep.axes.map((a) => a.path)).toEqual(['vms[0].dynamicMemory.buffer', 'vms[0].dynamicMemory.weight', 'vms[0].workload.toBytes']);
  });

  it('at a 2 GiB peak db never pages', () => {
    expect(figuresOf(20, 5000, '2G')).toMatchObject({ dbPaged: 0 });
  });

  it('a 50 % buffer keeps db from paging at its 5.5 GiB peak, and batch pays for it', () => {
    const generous = figuresOf(50, 5000, '5.5G');
    const usual = figuresOf(20, 5000, '5.5G');
    expect(generous.dbPaged).toBe(0);
    expect(usual.dbPaged).toBeGreaterThan(1024);
    expect(generous.batchPaged).toBeGreaterThan(usual.batchPaged!);
    expect(generous.dbAssigned).toBeGreaterThan(usual.dbAssigned!);
  });
});
