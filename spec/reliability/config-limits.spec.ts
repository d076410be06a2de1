/**
 * Issue #9, items 3, 7 and 8: configurations that used to be accepted and then broke the VM (a ring
 * too small for the guest's largest message, RAM below what the guest model boots in) or that
 * were silently taken as something else (seed: null, a workload larger than the machine).
 */
import { createVm } from '../../actors/vm/create-vm';
import { MIN_RING_BYTES, normalizeVmConfig, VmConfigError } from '../../actors/vm/vm-config';
import { runCli } from '../../actors/cli/main';

function configError(input: Parameters<typeof normalizeVmConfig>[0]): VmConfigError {
  try {
    normalizeVmConfig(input);
  } catch (error) {
    if (error instanceof VmConfigError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('configuration limits', () => {
  it('refuses a ring too small for a 510-range balloon response, naming the field and the minimum', () => {
    const error = configError({ channel: { ringBytes: '4K' } });
    expect(error.field).toBe('channel.ringBytes');
    expect(error.message).toContain('at least 4128');
    expect(error.message).toContain('got 4K');
    expect(MIN_RING_BYTES).toBe(4128);
  });

  it('a Linux guest on the smallest ring accepted balloons down without livelocking', () => {
    const vm = createVm({ machine: { memory: '4G' }, device: {}, channel: { ringBytes: MIN_RING_BYTES } });
    vm.run(60_000);
    vm.balloon(2 ** 30);
    vm.run(60_000);
    expect(vm.queryBalloon().actual).toBe(2 ** 30);
    expect(vm.deviceState()).toBe('S_IDLE');
    vm.dispose();
  });

  it.each(['1M', '16M', '64M'])('refuses %s of RAM with the minimum (65M)', (memory) => {
    const error = configError({ machine: { memory } });
    expect(error.field).toBe('machine.memory');
    expect(error.message).toBe(`machine.memory: must be at least 65M (the guest kernel's 64 MiB reservation plus the legacy hole below 1 MiB), got ${memory}`);
  });

  it('boots at the minimum RAM', () => {
    const vm = createVm({ machine: { memory: '65M' }, device: {} });
    vm.run(60_000);
    expect(vm.queryBalloon()).toEqual({ actual: 65 * 2 ** 20 });
    vm.dispose();
  });

  it.each(['qmp', 'monitor'])('`%s --memory 16M` exits 2 with the minimum, not "internal error"', async (command) => {
    const err: string[] = [];
    const code = await runCli([command, '--memory', '16M'], { stdout: () => undefined, stderr: (t) => err.push(t) });
    expect(code).toBe(2);
    expect(err.join('')).toBe("hv-balloon-sim: --memory: must be at least 65M (the guest kernel's 64 MiB reservation plus the legacy hole below 1 MiB), got 16777216\n");
  });

  it('`qmp --speed 1e9` exits 2 naming the largest speed', async () => {
    const err: string[] = [];
    const code = await runCli(['qmp', '--speed', '1e9'], { stdout: () => undefined, stderr: (t) => err.push(t) });
    expect(code).toBe(2);
    expect(err.join('')).toBe('hv-balloon-sim: --speed 1e9: at most 1000000 (virtual ms per wall ms)\n');
  });

  it('refuses seed: null instead of taking the default', () => {
    const error = configError({ seed: null as unknown as number });
    expect(error.field).toBe('seed');
    expect(error.message).toContain('got null');
  });

  it('refuses a workload larger than the machine can ever have', () => {
    const steady = configError({ machine: { memory: '1G' }, workload: { kind: 'steady', usedBytes: '2G', churnBytes: '1M', periodMs: '1s' } });
    expect(steady.field).toBe('workload.usedBytes');
    expect(steady.message).toContain('machine.maxmem = 1073741824');
    const script = configError({ machine: { memory: '1G', maxmem: '2G' }, workload: { kind: 'script', steps: [{ atMs: 0, op: 'allocate', bytes: '3G' }] } });
    expect(script.field).toBe('workload.steps[0].bytes');
  });
});
