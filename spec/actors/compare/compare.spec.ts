/**
 * `compare`: the same scenario on hv-balloon and on virtio-balloon. The seed's figures (QEMU's
 * hv-balloon commit message) must come out of the mechanisms within ±25 %: ballooning 230 vs
 * 70 GB/min, and 200 GB back in ~1 s vs ~2.5 min. Rates do not depend on the size, so the specs run
 * examples/compare-200g.json scaled down to an 8 GiB guest.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../actors/cli/main';
import { compareScenario, type CompareResult } from '../../../actors/compare/compare-run';
import { loadScenarioFile, parseScenario, type Scenario } from '../../../actors/scenario/scenario';

const GiB = 2 ** 30;
const EXAMPLE = join(__dirname, '..', '..', '..', 'examples', 'compare-200g.json');

/** The example with its guest and its balloon targets scaled by the same factor. */
function scaledExample(guestBytes: number): Scenario {
  const s = loadScenarioFile(EXAMPLE);
  const factor = guestBytes / (256 * GiB);
  const steps = s.steps.map((step) => {
    if (!('qmp' in step) || step.qmp.execute !== 'balloon') return step;
    const value = (step.qmp.arguments as { value: number }).value;
    return { ...step, qmp: { execute: 'balloon', arguments: { value: Math.round((value * factor) / 4096) * 4096 } } };
  });
  return { ...s, vm: { ...s.vm, machine: { memory: guestBytes } }, steps };
}

const within25 = (measured: number, seed: number): void => {
  expect(measured).toBeGreaterThanOrEqual(seed * 0.75);
  expect(measured).toBeLessThanOrEqual(seed * 1.25);
};

describe('compare: the seed comparison emerges from the mechanisms (compare-200g.json at 8 GiB)', () => {
  let result: CompareResult;
  beforeAll(() => {
    result = compareScenario(scaledExample(8 * GiB));
  });

  it('balloons out at ~230 GB/min with hv-balloon and ~70 GB/min with virtio-balloon', () => {
    const [hv, virtio] = result.sides;
    expect(hv.phases[0]!.reached && virtio.phases[0]!.reached).toBe(true);
    within25(hv.phases[0]!.gbPerMin!, 230);
    within25(virtio.phases[0]!.gbPerMin!, 70);
  });

  it('gives 200 GB back in ~1 s with hv-balloon and ~2.5 min with virtio-balloon (scaled to 200 GB)', () => {
    const [hv, virtio] = result.sides;
    const movedGB = (p: { fromBytes: number; toBytes: number }) => Math.abs(p.toBytes - p.fromBytes) / 1e9;
    const secondsFor200GB = (p: { settleMs: number | null; fromBytes: number; toBytes: number }) => (p.settleMs! / 1000) * (200 / movedGB(p));
    expect(hv.phases[1]!.reached && virtio.phases[1]!.reached).toBe(true);
    within25(secondsFor200GB(hv.phases[1]!), 1);
    within25(secondsFor200GB(virtio.phases[1]!), 150);
  });

  it('shows why: one 256-PFN buffer per MiB for virtio against a few hundred DM messages, and no host metadata for virtio', () => {
    const [hv, virtio] = result.sides;
    const mib = Math.abs(virtio.phases[0]!.toBytes - virtio.phases[0]!.fromBytes) / 2 ** 20;
    expect(virtio.phases[0]!.messages).toBe(Math.ceil(mib));
    expect(virtio.phases[0]!.bytes).toBe(mib * 256 * 4);
    expect(hv.phases[0]!.messages).toBeLessThan(virtio.phases[0]!.messages / 10);
    expect(hv.hostMetadataBytes).toBeGreaterThan(0);
    expect(virtio.hostMetadataBytes).toBe(0);
  });
});

describe('compare: targets above the boot size', () => {
  it('virtio-balloon stays at the boot size and says why; hv-balloon with a memdev grows', () => {
    const scenario = parseScenario({
      machine: { memory: '2G', maxmem: '44G' },
      device: { memdev: '4G' },
      steps: [{ at: '60s', hmp: 'balloon 3072' }],
      until: '70s',
    });
    const [hv, virtio] = compareScenario(scenario).sides;
    expect(hv.phases[0]!.reached).toBe(true);
    expect(hv.phases[0]!.toBytes).toBe(3 * GiB);
    expect(virtio.phases[0]!.reached).toBe(false);
    expect(virtio.phases[0]!.toBytes).toBe(2 * GiB);
    expect(virtio.phases[0]!.note).toBe('virtio-balloon has no hot-add: QEMU clamps the target to the boot size');
  });
});

describe('compare command line', () => {
  async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await runCli(argv, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
    return { code, out, err };
  }
  const dir = mkdtempSync(join(tmpdir(), 'compare-'));
  const small = join(dir, 'small.json');
  writeFileSync(
    small,
    JSON.stringify({ name: 'small', machine: { memory: '2G' }, steps: [{ at: '60s', hmp: 'balloon 1536' }, { at: '70s', hmp: 'balloon 2048' }], until: '80s' }),
  );

  it('prints both devices side by side', async () => {
    const r = await cli(['compare', small]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/hv-balloon\s+virtio-balloon/);
    expect(r.out).toMatch(/60 s: 2 GiB -> 1.5 GiB/);
    expect(r.out).toMatch(/virtqueue buffers/);
  });

  it('--json gives one object with both sides, and --report writes both curves into one chart', async () => {
    const report = join(dir, 'r.html');
    const r = await cli(['compare', small, '--json', '--report', report]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { sides: Array<{ model: string; phases: unknown[]; curve: unknown[] }> };
    expect(json.sides.map((s) => s.model)).toEqual(['hv-balloon', 'virtio-balloon']);
    expect(json.sides.every((s) => s.phases.length === 2 && s.curve.length > 10)).toBe(true);
    const html = readFileSync(report, 'utf8');
    expect(html.match(/<polyline/g)).toHaveLength(2);
    expect(html).toContain('virtio-balloon');
  });

  it('bad input: a missing file or an unwritable report is one line and exit code 2', async () => {
    const r = await cli(['compare', join(dir, 'nope.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^hv-balloon-sim: .*nope\.json: cannot read the scenario file \(ENOENT\)\n$/);
    const r2 = await cli(['compare', small, '--report', join(dir, 'no-such-dir', 'r.html')]);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/^hv-balloon-sim: --report: cannot write .*no-such-dir/);
  });
});
