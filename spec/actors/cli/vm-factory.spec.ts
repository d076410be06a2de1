/** The VM the qmp and monitor commands build from their flags. */
import { CliError } from '../../../actors/cli/cli-error';
import { createVmFromOptions } from '../../../actors/vm-factory';
import type { VmCliOptions } from '../../../actors/cli/vm-options';

const GiB = 2 ** 30;
const base: VmCliOptions = { memory: 4 * GiB, statusReport: false, guest: 'linux', seed: 3, inspect: false };

describe('createVmFromOptions', () => {
  it("prints QEMU's device warnings, as QEMU does on stderr", () => {
    const warnings: string[] = [];
    const vm = createVmFromOptions({ ...base, guest: 'malicious' }, {}, undefined, (text) => warnings.push(text));
    vm.run(60_000);
    vm.balloon(2 * GiB);
    vm.run(5_000);
    vm.dispose();
    expect(warnings.some((w) => /^guest reported removed page \d+ not found in RAM/.test(w))).toBe(true);
    expect(warnings.some((w) => /^unexpected DM_\w+ in \d+ state$/.test(w))).toBe(true);
  });

  it('a memdev without maxmem is refused with a suggested --maxmem', () => {
    expect(() => createVmFromOptions({ ...base, memdev: 8 * GiB })).toThrow(CliError);
    expect(() => createVmFromOptions({ ...base, memdev: 8 * GiB })).toThrow('--memdev 8G needs --maxmem');
    expect(() => createVmFromOptions({ ...base, memdev: 8 * GiB })).toThrow('e.g. --maxmem 44G');
  });

  it('config errors name the flag the user typed, with QEMU wording', () => {
    expect(() => createVmFromOptions({ ...base, maxmem: 8 * GiB, memdev: 8 * GiB })).toThrow(/^--maxmem: not enough space/);
  });
});
