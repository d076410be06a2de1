/** The results file: written in combination order whatever order runs finish in; read back for a resume, torn or foreign lines handled. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lineOf, OrderedResultsWriter, readResults, recordOf, startResults } from '../../../actors/sweep/results-file';
import { serializeOutcome, type RunOutcome } from '../../../actors/sweep/run-task';
import { combinationOf, parseSweep } from '../../../actors/sweep/sweep-file';

const dir = mkdtempSync(join(tmpdir(), 'hvb-results-'));
const sweep = parseSweep({ base: { until: '1s' }, axes: { seed: '1..5' } }, 's.json');
const ok = (index: number) => recordOf(sweep, index, combinationOf(sweep, index), { status: 'ok', figures: { actualMiB: 4096 }, final: { actualBytes: 2 ** 32 } });
const indices = (file: string): number[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { index: number }).index);

describe('the results file', () => {
  it('holds each run back until every earlier run is written, and skips runs already in the file', () => {
    const file = join(dir, 'ordered.jsonl');
    startResults(file);
    const written: number[] = [];
    const writer = new OrderedResultsWriter(file, [1, 2, 4], (r) => written.push(r.index));
    writer.add(ok(4));
    writer.add(ok(2));
    expect(indices(file)).toEqual([]);
    expect(writer.waiting).toBe(2);
    writer.add(ok(1));
    expect(indices(file)).toEqual([1, 2, 4]);
    expect(written).toEqual([1, 2, 4]);
  });

  it('writes a run whose final state came as JSON text from a worker byte for byte as one that came as an object', () => {
    const final = { actualBytes: 2 ** 32, deviceState: 'S_IDLE', counters: { a: [1, -0, 0.1, null], s: 'é"\\' }, last: null };
    const outcome: RunOutcome = { status: 'ok', figures: { actualMiB: 4096, none: null }, final };
    const asText = recordOf(sweep, 3, combinationOf(sweep, 3), serializeOutcome(outcome));
    expect(asText).not.toHaveProperty('final');
    expect(lineOf(asText)).toBe(JSON.stringify(recordOf(sweep, 3, combinationOf(sweep, 3), outcome)));
    // Failed runs carry no final state: their line is the record as it is.
    const failed: RunOutcome = { status: 'timeout', error: 'over budget' };
    expect(lineOf(recordOf(sweep, 4, combinationOf(sweep, 4), serializeOutcome(failed)))).toBe(JSON.stringify(recordOf(sweep, 4, combinationOf(sweep, 4), failed)));
  });

  it('reads back what a resume needs and drops a line torn by a killed process', () => {
    const file = join(dir, 'torn.jsonl');
    writeFileSync(file, `${JSON.stringify(ok(0))}\n${JSON.stringify(ok(1))}\n${JSON.stringify(ok(2)).slice(0, 40)}`);
    const warnings: string[] = [];
    const done = readResults(file, sweep, (m) => warnings.push(m));
    expect([...done.keys()]).toEqual([0, 1]);
    expect(done.get(1)).toEqual({ index: 1, status: 'ok', figures: { actualMiB: 4096 } });
    expect(warnings).toEqual([`${file}: dropping an unfinished last line (the sweep was stopped while writing it)`]);
    expect(indices(file)).toEqual([0, 1]);
  });

  it("refuses another sweep's results instead of mixing them in", () => {
    const other = parseSweep({ base: { until: '2s' }, axes: { seed: '1..5' } }, 'other.json');
    const file = join(dir, 'other.jsonl');
    writeFileSync(file, `${JSON.stringify(recordOf(other, 0, {}, { status: 'error', error: 'x' }))}\n`);
    expect(() => readResults(file, sweep, () => undefined)).toThrow(
      `${file} holds results of another sweep (id ${other.id}; s.json is ${sweep.id}: its base, axes or figures differ): use another --out file, or --restart to replace them`,
    );
  });
});
