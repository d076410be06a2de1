/** `run host.json --record run.json`, then `view run.json --vm <name>`: every VM's run recorded; the view replays one VM at a time. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../../actors/cli/commands/run';
import { runCli } from '../../../actors/cli/main';
import { HOST_RECORDING_FORMAT, pickHostVmRecording } from '../../../actors/view/host-recording';
import { RecordingError } from '../../../actors/view/view-source';
import { snapshotAt } from '../../../actors/view/view-model';
import { writeSmallHost } from './small-host';

describe('run host.json --record', () => {
  const { dir, file } = writeSmallHost('hv-host-record-', { steps: [{ at: '90s', vm: 'idle', hmp: 'info balloon' }] });
  const record = join(dir, 'run.json');
  let out = '';
  beforeAll(async () => {
    await runCommand(file, { record }, { stdout: (t) => void (out += t), stderr: () => undefined });
  });

  it('records every VM of the host, each as a single-VM recording the view replays', () => {
    expect(out).toContain(`recorded: ${record} (replay a VM with: hv-balloon-sim view ${record} --vm <name>; VMs: web, idle)`);
    const json = JSON.parse(readFileSync(record, 'utf8')) as { format: string; vms: { name: string }[] };
    expect(json.format).toBe(HOST_RECORDING_FORMAT);
    expect(json.vms.map((v) => v.name)).toEqual(['web', 'idle']);
    const idle = pickHostVmRecording(json, record, 'idle');
    expect(idle.recording.scenario.name).toBe('small host: idle');
    expect(idle.recording.endMs).toBe(120_000);
    // The idle VM was ballooned from its 2G startup to the 1G minimum the policy set.
    const end = snapshotAt(idle.recording.events, idle.recording.endMs, 'replay');
    expect(end.parts.device?.state).toBeDefined();
    expect(end.actualBytes).toBe(2 ** 30);
    // Its scenario step is in its recording, not in the other VM's.
    expect(idle.recording.events.filter((e) => e.kind === 'step').map((e) => e.kind === 'step' && e.command)).toEqual(['info balloon']);
    const web = pickHostVmRecording(json, record, undefined);
    expect(web.name).toBe('web');
    expect(web.recording.events.some((e) => e.kind === 'step')).toBe(false);
  });

  it('--vm names a VM of the recording, or the error lists the VMs there are', () => {
    const json = JSON.parse(readFileSync(record, 'utf8')) as unknown;
    expect(() => pickHostVmRecording(json, record, 'db')).toThrow(new RecordingError(`--vm "db": no VM of that name in ${record} (VMs: web, idle)`));
  });

  it('view: --vm that the recording lacks, or --vm without a host recording, exits 2 naming why', async () => {
    const cli = async (...argv: string[]) => {
      let stderr = '';
      const code = await runCli(argv, { stdout: () => undefined, stderr: (t) => void (stderr += t) });
      return { code, stderr };
    };
    expect(await cli('view', record, '--vm', 'db')).toEqual({ code: 2, stderr: `hv-balloon-sim: --vm "db": no VM of that name in ${record} (VMs: web, idle)\n` });
    expect(await cli('view', 'examples/reboot.json', '--vm', 'web')).toEqual({
      code: 2,
      stderr: 'hv-balloon-sim: --vm: goes with a recorded host run (run <host.json> --record run.json); examples/reboot.json is not one\n',
    });
    // Live, a host is not shown yet: both ways in say how to see it instead.
    const notLive = `hv-balloon-sim: ${file}: a host scenario; the view shows a host's VMs from a recording, one at a time: run ${file} --record run.json, then view run.json --vm <name> (live, not yet)\n`;
    expect(await cli('view', file)).toEqual({ code: 2, stderr: notLive });
    expect(await cli('run', file, '--view')).toEqual({ code: 2, stderr: notLive });
  });
});
