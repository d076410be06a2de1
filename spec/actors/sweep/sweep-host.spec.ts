/**
 * Sweeps over a host scenario (many VMs under a memory policy): the host kind is recognised, its
 * figures are read by path, by VM name and as totals over the VMs, each run's final state is
 * what running that combination's scenario gives, and an axis value the host refuses is one error.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHostScenario } from '../../../actors/host/host-config';
import { runHostScenario } from '../../../actors/host/host-scenario';
import { loadSweepFile, parseSweep, scenarioOf, SweepError } from '../../../actors/sweep/sweep-file';
import { runSweep, type SweepReport } from '../../../actors/sweep/sweep-runner';

jest.setTimeout(240_000);

const dir = mkdtempSync(join(tmpdir(), 'hvb-sweep-host-'));

/** Two VMs whose demand ramps to 4 GiB each on a host with 7 GiB for VMs: someone pages, and weight says who. */
const host = {
  name: 'two VMs short of memory',
  seed: 3,
  host: { memory: '8G', reserve: '1G', policy: { kind: 'hyperv' } },
  vms: ['db', 'batch'].map((name) => ({
    name,
    dynamicMemory: { startup: '2G', minimum: '512M', maximum: '6G', weight: 5000 },
    workload: { kind: 'demand', shape: 'ramp', fromBytes: '1G', toBytes: '4G', startMs: '1min', durationMs: '3min' },
  })),
  until: '6min',
};
writeFileSync(join(dir, 'host.json'), JSON.stringify(host));
const sweepFile = join(dir, 'weights.json');
writeFileSync(
  sweepFile,
  JSON.stringify({
    base: 'host.json',
    axes: { 'vms[0].dynamicMemory.weight': [1000, 5000, 9000] },
    figures: {
      dbPaged: { path: 'final.vms[0].pagedBytes', in: 'MiB' },
      dbPagedByName: { path: 'vm.db.pagedBytes', in: 'MiB' },
      batchPaged: { path: 'vm.batch.pagedBytes', in: 'MiB' },
      totalPaged: { path: 'totals.pagedBytes', in: 'MiB' },
      overcommit: 'final.host.overcommitBytes',
      decisions: 'policy.decisions',
    },
  }),
);

type Line = { index: number; status: string; figures: Record<string, number>; final: unknown };
const lines = (file: string): Line[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);

let report: SweepReport;
const out = join(dir, 'weights.jsonl');

beforeAll(async () => {
  report = await runSweep(loadSweepFile(sweepFile), { out, workers: 2 });
});

describe('a sweep over a host scenario', () => {
  it('reads figures by path, by VM name and summed over the VMs; the heavier db pages less and batch pays', () => {
    expect(loadSweepFile(sweepFile).kind).toBe('host');
    const runs = lines(out);
    expect(runs.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
    for (const { figures: f } of runs) {
      expect(f.dbPagedByName).toBe(f.dbPaged);
      expect(f.totalPaged).toBeCloseTo(f.dbPaged + f.batchPaged, 6);
      expect(f.overcommit).toBe(0);
      expect(f.decisions).toBeGreaterThan(0);
    }
    const [light, even, heavy] = runs.map((r) => r.figures);
    expect(light.dbPaged).toBeGreaterThan(even.dbPaged);
    expect(even.dbPaged).toBeGreaterThan(heavy.dbPaged);
    expect(light.batchPaged).toBeLessThan(heavy.batchPaged);
    expect(report.summary.axes[0].values.map((v) => [v.value, v.ok])).toEqual([
      [1000, 1],
      [5000, 1],
      [9000, 1],
    ]);
  });

  it("keeps as each run's final state what running that combination's host scenario gives", () => {
    const sweep = loadSweepFile(sweepFile);
    const { host: built, ...direct } = runHostScenario(parseHostScenario(scenarioOf(sweep, 2), 'heavy.json'));
    built.dispose();
    expect(lines(out)[2].final).toEqual(JSON.parse(JSON.stringify(direct.final)));
  });

  it('summarizes paging, overcommit and free host memory when the sweep names no figures', () => {
    const sweep = parseSweep({ base: 'host.json', axes: { seed: [1] } }, join(dir, 'default.json'), dir);
    expect(sweep.figures.map((f) => [f.name, f.path, f.unit])).toEqual([
      ['pagedGiB', 'totals.pagedBytes', 'GiB'],
      ['overcommitGiB', 'final.host.overcommitBytes', 'GiB'],
      ['freeGiB', 'final.host.freeBytes', 'GiB'],
    ]);
  });

  it('refuses an axis value the host refuses, naming the axis, the value and the rule', () => {
    const attempt = (): unknown => parseSweep({ base: 'host.json', axes: { 'vms[1].dynamicMemory.buffer': [20, 3] } }, 'policy.json', dir);
    expect(attempt).toThrow(SweepError);
    expect(attempt).toThrow(/^policy\.json: axes\["vms\[1\]\.dynamicMemory\.buffer"\] value 3: .*vms\[1\]\.dynamicMemory\.buffer.*3/);
  });
});
