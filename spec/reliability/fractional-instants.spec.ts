/**
 * Issue #9, item 2 at the VM level: commands at fractional virtual instants. Before integer time a
 * scenario with system_reset at 131072.02 ms never finished (the clock floored the target below
 * itself), and query-balloon right after system_reset could still show the ballooned size.
 */
import { createVm } from '../../actors/vm/create-vm';
import { parseScenario, runScenario } from '../../actors/scenario/scenario';

describe('commands at fractional virtual instants', () => {
  it('finishes the issue scenario: balloon at 60 s, balloon at 131072.01 ms, system_reset at 131072.02 ms', () => {
    const scenario = parseScenario({
      name: 'fractional reset',
      machine: { memory: '4G', maxmem: '44G' },
      device: { memdev: '8G' },
      steps: [
        { at: '60s', hmp: 'balloon 2048' },
        { at: '131072.01ms', hmp: 'balloon 3072' },
        { at: '131072.02ms', qmp: { execute: 'system_reset' } },
        { at: '131072.02ms', qmp: { execute: 'query-balloon' } },
      ],
      until: '140s',
    });
    const result = runScenario(scenario);
    result.vm.dispose();
    expect(result.virtualTimeMs).toBe(140_000);
    expect(result.steps[2]!.reply).toEqual({ return: {} });
    // Right after the reset the machine is back at its boot size.
    expect(result.steps[3]!.reply).toEqual({ return: { actual: 4 * 2 ** 30 } });
  });

  it('query-balloon right after system_reset shows the boot size at every fractional instant tried', () => {
    const vm = createVm({ machine: { memory: '1G', maxmem: '1G' }, device: {}, guest: { profile: 'linux' } });
    const stale: number[] = [];
    let ballooned = 0;
    for (let i = 0; i < 150; i++) {
      vm.runUntil(vm.now() + 60_000);
      vm.balloon(512 * 2 ** 20);
      const t = vm.now() + 3_000 + ((i * 7.31) % 1) + 0.01 * (i % 100) + 0.001 * (i % 7);
      vm.runUntil(t);
      if (vm.queryBalloon().actual < 2 ** 30) ballooned++;
      vm.systemReset();
      if (vm.queryBalloon().actual !== 2 ** 30) stale.push(vm.now());
    }
    vm.dispose();
    expect(ballooned).toBeGreaterThan(100);
    expect(stale).toEqual([]);
  });
});
