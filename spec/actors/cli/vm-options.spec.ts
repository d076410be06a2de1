import { Command } from 'commander';
import { CliError } from '../../../actors/cli/cli-error';
import { addVmOptions, rejectVmFlagsWithScenario, vmOptionsFromCli, type RawVmOptions } from '../../../actors/cli/vm-options';

const GiB = 2 ** 30;

function parse(argv: string[]) {
  const command = addVmOptions(new Command('x').exitOverride().configureOutput({ writeErr: () => undefined }));
  command.parse(argv, { from: 'user' });
  return vmOptionsFromCli(command.opts<RawVmOptions>());
}

describe('VM flags of qmp and monitor', () => {
  it('defaults to a 4 GiB Linux guest without memdev or status reports', () => {
    expect(parse([])).toEqual({ memory: 4 * GiB, statusReport: false, guest: 'linux', seed: 1, inspect: false });
  });

  it('reads every flag', () => {
    expect(
      parse(['--memory', '2G', '--maxmem', '16G', '--memdev', '8G', '--status-report', '--guest', 'windows', '--seed', '42', '--scenario', 'a.json', '--inspect']),
    ).toEqual({
      memory: 2 * GiB,
      maxmem: 16 * GiB,
      memdev: 8 * GiB,
      statusReport: true,
      guest: 'windows',
      seed: 42,
      scenario: 'a.json',
      inspect: true,
    });
  });

  it.each([
    [['--memory', 'lots'], '--memory: invalid size "lots"'],
    [['--memory', '0'], '--memory: must be more than 0'],
    [['--memory', '5000'], '--memory 5000: must be a whole number of 4 KiB pages'],
    [['--memory', '4G', '--maxmem', '2G'], '--maxmem 2G is below --memory 4G'],
    [['--memdev', '0'], '--memdev: must be more than 0'],
    [['--seed', '-3'], '--seed "-3": expected an integer from 0 to 4294967295'],
    [['--seed', 'abc'], '--seed "abc"'],
    // QEMU's -m 4096 means MiB; ours would be 4096 bytes, which is surely not what was meant.
    [['--memory', '4096'], '--memory 4096: that is 4096 bytes (a plain number is bytes here, not MiB as in QEMU -m); did you mean 4096M?'],
    [['--inspect-port', '99999'], '--inspect-port "99999": expected a port number 0..65535'],
  ])('%j is refused with a message naming the flag', (argv, message) => {
    expect(() => parse(argv)).toThrow(CliError);
    expect(() => parse(argv)).toThrow(message);
  });

  it('refuses an unknown guest kind', () => {
    expect(() => parse(['--guest', 'plan9'])).toThrow(/plan9/);
    expect(() => vmOptionsFromCli({ guest: 'plan9' })).toThrow('--guest "plan9": expected one of linux, windows, malicious');
  });

  it('refuses VM flags beside --scenario, which describes the VM itself', () => {
    const command = addVmOptions(new Command('x').exitOverride().configureOutput({ writeErr: () => undefined }));
    command.parse(['--scenario', 'a.json', '--memory', '8G'], { from: 'user' });
    expect(() => rejectVmFlagsWithScenario(command)).toThrow('--memory cannot be combined with --scenario');
    const alone = addVmOptions(new Command('y').exitOverride());
    alone.parse(['--scenario', 'a.json'], { from: 'user' });
    expect(() => rejectVmFlagsWithScenario(alone)).not.toThrow();
  });
});
