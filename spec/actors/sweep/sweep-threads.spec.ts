/**
 * Sweeps on this machine's cores: the same results file with 1 and 2 worker processes, failing and
 * over-budget runs recorded while the sweep goes on, and a sweep stopped with Ctrl-C or SIGTERM that
 * resumes from its results file to the same file an uninterrupted sweep writes.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../actors/cli/main';
import { loadSweepFile } from '../../../actors/sweep/sweep-file';
import { runSweep, type SweepReport } from '../../../actors/sweep/sweep-runner';

jest.setTimeout(240_000);

const dir = mkdtempSync(join(tmpdir(), 'hvb-sweep-threads-'));
const root = join(__dirname, '..', '..', '..');

/** A 4 GiB guest with a churning workload, ballooned to 3 GiB once the post-init wait is over. */
const churningBase = {
  machine: { memory: '4G' },
  device: { statusReport: true },
  guest: { profile: 'linux' },
  workload: { kind: 'steady', usedBytes: '1G', churnBytes: '64M', periodMs: '1s' },
  steps: [{ at: '55s', hmp: 'balloon 3072' }],
};

/** 24 short runs: two guest profiles, two ring sizes, six seeds of the churning base. */
const sweepFile = join(dir, 'rings.json');
writeFileSync(
  sweepFile,
  JSON.stringify({
    base: { ...churningBase, until: '60s' },
    axes: { 'guest.profile': ['linux', 'windows'], 'channel.ringBytes': ['4128', '16K'], seed: '1..6' },
    figures: { actual: { path: 'final.actualBytes', in: 'MiB' }, ringFullRetries: 'final.counters.guest.stats.ringFullRetries' },
  }),
);

/**
 * 24 runs of 20 virtual minutes each (a tenth of a second or more of CPU): the sweep that is stopped.
 * Once a run is timed, runs this long go to a worker one at a time, so when the third line is in
 * the file the other 21 are seconds of work away and the signal finds the sweep running, however
 * fast the machine or the workers (with the short runs above, a whole batch could finish first).
 */
const slowSweepFile = join(dir, 'slow.json');
writeFileSync(
  slowSweepFile,
  JSON.stringify({
    base: { ...churningBase, until: '20min' },
    axes: { 'guest.profile': ['linux', 'windows'], seed: '1..12' },
    figures: { actual: { path: 'final.actualBytes', in: 'MiB' } },
  }),
);
const lines = (file: string): Array<Record<string, unknown>> =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

let twoWorkers: { report: SweepReport; text: string };

beforeAll(async () => {
  const out = join(dir, 'two.jsonl');
  const report = await runSweep(loadSweepFile(sweepFile), { out, workers: 2 });
  twoWorkers = { report, text: readFileSync(out, 'utf8') };
});

describe('a sweep on worker processes', () => {
  it('writes every run once, in combination order, with its combination, figures and final state', () => {
    const records = lines(join(dir, 'two.jsonl'));
    expect(records.map((r) => r.index)).toEqual([...Array(24).keys()]);
    expect(records[7].combination).toEqual({ 'guest.profile': 'linux', 'channel.ringBytes': '16K', seed: 2 });
    expect(records.every((r) => r.status === 'ok')).toBe(true);
    expect(records[0].figures).toEqual({ actual: expect.any(Number), ringFullRetries: expect.any(Number) });
    expect(records[0].final).toMatchObject({ deviceState: expect.any(String), counters: expect.any(Object) });
    expect(twoWorkers.report).toMatchObject({ resumed: 0, ran: 24, interrupted: false, engine: 'processes', workers: 2 });
    // The summary groups by each axis value: 12 runs per profile.
    expect(twoWorkers.report.summary.axes[0].values.map((v) => [v.value, v.runs, v.ok])).toEqual([
      ['linux', 12, 12],
      ['windows', 12, 12],
    ]);
  });

  it('gives the same results file with one worker as with two', async () => {
    const out = join(dir, 'one.jsonl');
    const report = await runSweep(loadSweepFile(sweepFile), { out, workers: 1 });
    expect(report.workers).toBe(1);
    expect(readFileSync(out, 'utf8')).toBe(twoWorkers.text);
    expect(report.summary).toEqual(twoWorkers.report.summary);
  });

  it('records a failing run and an over-budget run, and goes on with the others', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        base: { machine: { memory: '4G' }, device: { statusReport: true }, steps: [{ at: '55s', hmp: 'balloon 3072' }], until: '60s' },
        // 8G of boot memory with maxmem 4G cannot start; 1,000 h of virtual time does not fit in 2 s of
        // wall time (10 h, here until session 5, came to fit once the simulator and its workers got faster).
        axes: { until: ['60s', '1000h'], 'machine.memory': ['4G', '8G'], 'machine.maxmem': ['8G', '4G'] },
        budget: '2s',
      }),
    );
    const out = join(dir, 'bad.jsonl');
    const report = await runSweep(loadSweepFile(file), { out, workers: 2 });
    const status = lines(out).map((r) => `${String(r.status)}${r.error ? `: ${String(r.error)}` : ''}`);
    expect(status[0]).toBe('ok');
    expect(status[1]).toBe('ok');
    expect(status[2]).toBe('ok');
    expect(status[3]).toMatch(/^error: .*machine\.maxmem/);
    expect(status.slice(4, 7)).toEqual(Array(3).fill('timeout: over budget: the run took more than 2 s of wall time'));
    expect(status[7]).toMatch(/^error: .*machine\.maxmem/);
    expect(report.summary.all).toMatchObject({ runs: 8, ok: 3, failed: 2, overBudget: 3 });
  });

  describe('stopped by a signal', () => {
    let uninterrupted: string;
    beforeAll(async () => {
      const out = join(dir, 'slow-uninterrupted.jsonl');
      await runSweep(loadSweepFile(slowSweepFile), { out, workers: 2 });
      uninterrupted = readFileSync(out, 'utf8');
    });

    it.each([
      ['Ctrl-C (SIGINT)', 'SIGINT', 130],
      ['SIGTERM (kill, systemd, the end of a Kubernetes pod)', 'SIGTERM', 143],
    ] as const)('stops on %s and resumes from its results file to the same results', async (_how, signal, exitCode) => {
      const out = join(dir, `stopped-${signal}.jsonl`);
      const child = spawn(process.execPath, [join(root, 'bin', 'hv-balloon-sim.js'), 'sweep', slowSweepFile, '--workers', '1', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // Ctrl-C once a few runs are in the file.
      const deadline = Date.now() + 180_000;
      while (!(existsSync(out) && lines(out).length >= 3) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      child.kill(signal);
      expect(await exited).toBe(exitCode);
      expect(stderr).toMatch(/stopping: runs in flight are dropped; run the same command again to resume/);
      expect(stderr).toMatch(new RegExp(`interrupted with \\d+ of 24 runs in .*stopped-${signal}\\.jsonl; run the same command again to resume`));
      const kept = lines(out).length;
      expect(kept).toBeGreaterThanOrEqual(3);
      expect(kept).toBeLessThan(24);

      let stdout = '';
      const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t) };
      expect(await runCli(['sweep', slowSweepFile, '--workers', '2', '--out', out, '--json'], io)).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ resumed: kept, ran: 24 - kept, done: 24, interrupted: false });
      expect(stderr).toMatch(new RegExp(`resuming: ${kept} of 24 runs are already in`));
      expect(readFileSync(out, 'utf8')).toBe(uninterrupted);
    });
  });
});
