/**
 * The command line around the view: `run --record` saves what `view run.json` replays, bad input
 * to `view` and `run --view` gets one line naming the flag or the file, and --inspect's wait for
 * its page says what happens either way.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../actors/cli/main';
import { waitForInspector, type CliInspector } from '../../../actors/cli/inspect-option';
import { parseRecording } from '../../../actors/view/view-source';
import { snapshotAt } from '../../../actors/view/view-model';

const EXAMPLE = join(__dirname, '../../../examples/shrink-and-grow.json');

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('run --record', () => {
  it('saves a recording of every part, the steps and memory, which the view reads back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'record-'));
    const file = join(dir, 'run.json');
    const run = await cli('run', EXAMPLE, '--record', file);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`recorded: ${file} (replay it with: hv-balloon-sim view ${file})`);
    const recording = parseRecording(JSON.parse(readFileSync(file, 'utf8')), file);
    expect(recording.endMs).toBe(120_000);
    expect(recording.events.filter((e) => e.kind === 'step').map((e) => (e.kind === 'step' ? e.command : ''))).toEqual([
      'balloon 2048',
      '{"execute":"query-balloon"}',
      'balloon 10240',
      'info balloon',
    ]);
    // Any moment can be rebuilt: in the balloon at 60 s, shrunk by 75 s, grown and idle at the end.
    expect(snapshotAt(recording.events, 60_000, 'replay').parts.device?.state).toBe('S_BALLOON_REPLY_WAIT');
    expect(snapshotAt(recording.events, 75_000, 'replay').actualBytes).toBe(2 * 2 ** 30);
    const end = snapshotAt(recording.events, 120_000, 'replay');
    expect(end.actualBytes).toBe(10 * 2 ** 30);
    expect(Object.keys(end.parts).sort()).toEqual(['channel', 'device', 'guest', 'memctl', 'vcpu']);
  });

  it('with --report too: one run gives both files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'record-'));
    const run = await cli('run', EXAMPLE, '--record', join(dir, 'run.json'), '--report', join(dir, 'report.html'));
    expect(run.code).toBe(0);
    const recording = parseRecording(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')), 'run.json');
    expect(recording.events.some((e) => e.kind === 'message' && e.packet?.dir === 'guest')).toBe(true);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('shrink and grow');
  });

  it('refuses a path it cannot write before running', async () => {
    const run = await cli('run', EXAMPLE, '--record', tmpdir());
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`hv-balloon-sim: --record: "${tmpdir()}" is a directory (expected a file name, e.g. run.json)\n`);
  });
});

describe('bad input to the view', () => {
  it.each([
    [['view', '/no/such/run.json'], '/no/such/run.json: cannot read (ENOENT)'],
    [['view', EXAMPLE, '--memory', '8G'], '--memory cannot be combined with a file: the file describes the VM'],
    [['view', '--port', '70000'], '--port "70000": expected a port number 0..65535 (0 picks a free one)'],
    [['view', '--speed', '0'], '--speed "0": expected a number > 0 (1 = real time)'],
    [['run', EXAMPLE, '--view', '--json'], '--view runs the scenario live in the browser; --json, --report and --record go with a run at full speed'],
    [['qmp', '--view', '--view-port', 'x'], '--view-port "x": expected a port number 0..65535 (0 picks a free one)'],
  ])('%j', async (argv, message) => {
    const run = await cli(...argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`hv-balloon-sim: ${message}\n`);
  });

  it('a JSON file that is not a recording of this version is named with what is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'view-'));
    const file = join(dir, 'old.json');
    writeFileSync(file, JSON.stringify({ format: 'hv-balloon-sim-recording', version: 2, events: [] }));
    const run = await cli('view', file);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`hv-balloon-sim: ${file}: version: expected 1, got 2\n`);
  });
});

describe('--inspect: virtual time waits for the inspector page', () => {
  const inspector = (connects: boolean): CliInspector => ({
    vmOptions: {},
    waitForViewer: async () => connects,
    stop: async () => undefined,
  });

  it('says it waits, and that the page connected', async () => {
    let err = '';
    expect(await waitForInspector(inspector(true), '30', { stdout: () => undefined, stderr: (t) => (err += t) })).toBe(true);
    expect(err).toBe('virtual time waits up to 30 s for an inspector page to connect (--inspect-wait)...\ninspector page connected: virtual time starts\n');
  });

  it('after the timeout, says it runs without one and where to look offline', async () => {
    let err = '';
    expect(await waitForInspector(inspector(false), undefined, { stdout: () => undefined, stderr: (t) => (err += t) })).toBe(false);
    expect(err).toContain('no inspector page connected within 60 s: running without it (offline, the hosted inspector cannot load; use --view for the local live view)');
  });

  it('refuses a wait that is not a number of seconds', async () => {
    await expect(waitForInspector(inspector(true), 'soon', { stdout: () => undefined, stderr: () => undefined })).rejects.toThrow('--inspect-wait "soon": expected seconds >= 0');
  });
});
