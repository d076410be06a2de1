/** `--device virtio-balloon` on qmp and monitor: the model, and hv-balloon's flags refused saying why. */
import { Command } from 'commander';
import { addVmOptions, rejectVmFlagsWithScenario, vmOptionsFromCli, type RawVmOptions } from '../../../actors/cli/vm-options';
import { createVmFromOptions } from '../../../actors/vm-factory';

function parse(argv: string[]) {
  const command = addVmOptions(new Command('x').exitOverride().configureOutput({ writeErr: () => undefined }));
  command.parse(argv, { from: 'user' });
  return { options: vmOptionsFromCli(command.opts<RawVmOptions>()), command };
}

describe('--device', () => {
  it('hv-balloon is the default and adds nothing; virtio-balloon builds a virtio-balloon VM', () => {
    expect(parse([]).options.device).toBeUndefined();
    const { options } = parse(['--device', 'virtio-balloon', '--memory', '2G']);
    expect(options.device).toBe('virtio-balloon');
    const vm = createVmFromOptions(options);
    vm.run(2000);
    expect(vm.counters().virtio?.features.statsVq).toBe(true);
    expect(vm.hmp('info balloon')).toBe('balloon: actual=2048\n');
    vm.dispose();
  });

  it('an unknown model is refused by name', () => {
    expect(() => parse(['--device', 'virtio-mem'])).toThrow(/argument 'virtio-mem' is invalid. Allowed choices are hv-balloon, virtio-balloon/);
  });

  it('--memdev and --status-report with virtio-balloon are refused in flag words, saying why', () => {
    expect(() => createVmFromOptions(parse(['--device', 'virtio-balloon', '--memdev', '8G', '--maxmem', '44G']).options)).toThrow(
      /^--memdev 8589934592: hot-add from a memory backend is hv-balloon's; virtio-balloon has no memdev and cannot grow a guest past its boot size$/,
    );
    expect(() => createVmFromOptions(parse(['--device', 'virtio-balloon', '--status-report']).options)).toThrow(/^--status-report true: status reports are hv-balloon's/);
  });

  it('cannot be combined with --scenario (the scenario says which device)', () => {
    const { command } = parse(['--device', 'virtio-balloon', '--scenario', 'a.json']);
    expect(() => rejectVmFlagsWithScenario(command)).toThrow('--device cannot be combined with --scenario');
  });
});
