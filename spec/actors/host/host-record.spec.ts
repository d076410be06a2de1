/** `run host.json --record run.json`, then `view run.json`: the host overview and every VM's run recorded; `--vm <name>` names one VM's detail. */
import { readFileSync, writeFileSync } from 'node:fs';
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
    expect(out).toContain(`recorded: ${record} (replay it with: hv-balloon-sim view ${record}; one VM's detail: --vm <name>; VMs: web, idle)`);
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

  it('view and run: --vm that the recording or the host scenario lacks, a bad host file, --vm without a host, or --inspect without one VM named, exits 2 naming why', async () => {
    const cli = async (...argv: string[]) => {
      let stderr = '';
      const code = await runCli(argv, { stdout: () => undefined, stderr: (t) => void (stderr += t) });
      return { code, stderr };
    };
    expect(await cli('view', record, '--vm', 'db')).toEqual({ code: 2, stderr: `hv-balloon-sim: --vm "db": no VM of that name in ${record} (VMs: web, idle)\n` });
    expect(await cli('view', file, '--vm', 'db')).toEqual({ code: 2, stderr: `hv-balloon-sim: --vm "db": no VM of that name in ${file} (VMs: web, idle)\n` });
    expect(await cli('view', 'examples/reboot.json', '--vm', 'web')).toEqual({
      code: 2,
      stderr: 'hv-balloon-sim: --vm: goes with a host scenario or a recorded host run (run <host.json> --record run.json); examples/reboot.json is not one\n',
    });
    const bad = join(dir, 'bad-host.json');
    writeFileSync(bad, JSON.stringify({ host: { memory: '8G', policy: { kind: 'hyperv' } }, vms: [{ name: 'web', dynamicMemory: { startup: '2G', minimum: '3G', maximum: '4G' } }], until: '1min' }));
    const refused = await cli('view', bad);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^hv-balloon-sim: .*vms\[0\]\.dynamicMemory\.minimum.*3G.*\n$/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    // The inspector shows one VM of a host: which one must be said.
    expect(await cli('view', file, '--inspect')).toEqual({
      code: 2,
      stderr: 'hv-balloon-sim: --inspect: the Stately inspector shows one VM of a host; name it with --vm <name> (VMs: web, idle)\n',
    });
    expect(await cli('view', file, '--inspect', '--vm', 'db')).toEqual({ code: 2, stderr: `hv-balloon-sim: --vm "db": no VM of that name in ${file} (VMs: web, idle)\n` });
    // run at full speed has no live run to show; run --view has.
    expect(await cli('run', file, '--inspect')).toEqual({
      code: 2,
      stderr: 'hv-balloon-sim: --inspect: a host is shown in the inspector when it runs live: run <host.json> --view --vm <name> --inspect (or view <host.json> --vm <name> --inspect)\n',
    });
    expect(await cli('run', file, '--view', '--inspect')).toEqual({
      code: 2,
      stderr: 'hv-balloon-sim: --inspect: the Stately inspector shows one VM of a host; name it with --vm <name> (VMs: web, idle)\n',
    });
    expect(await cli('run', file, '--vm', 'web')).toEqual({ code: 2, stderr: 'hv-balloon-sim: --vm: goes with --view of a host scenario (run <host.json> --view --vm <name>)\n' });
    expect(await cli('run', 'examples/reboot.json', '--view', '--vm', 'web')).toEqual({
      code: 2,
      stderr: 'hv-balloon-sim: --vm: goes with a host scenario; examples/reboot.json is not one\n',
    });
  });
});
