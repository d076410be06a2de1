/** The results file: written in combination order whatever order runs finish in; read back for a resume, torn or foreign lines handled. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OrderedResultsWriter, readResults, recordOf, startResults } from '../../../actors/sweep/results-file';
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
