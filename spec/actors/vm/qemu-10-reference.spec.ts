/** What QEMU 10.0.2 showed in the recordings (spec/fixtures/qemu-10-rig) and the emulator must show too. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { executeCommand } from '../../../actors/qmp/qmp-dispatcher';
import { QEMU_VERSION } from '../../../actors/qmp/qmp-commands';
import { createVm } from '../../../actors/vm/create-vm';
import { normalizeVmConfig } from '../../../actors/vm/vm-config';
import type { QmpEvent } from '../../../actors/qmp/qmp-types';

const C = join(__dirname, '..', '..', 'fixtures', 'qemu-10-rig', 'C-shrink-grow-reboot');
const qmpLog = readFileSync(join(C, 'qmp.log'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as { t: number; dir: string; msg: Record<string, any> });

const vmConfig = { machine: { type: 'q35', memory: '4G', maxmem: '44G' }, device: { id: 'hvb', memdev: '8G', memdevId: 'mem1', statusReport: true } };

describe('QEMU 10.0.2 as the reference version', () => {
  it('greets with the version QEMU 10.0.2 sent', () => {
    expect({ qemu: QEMU_VERSION }).toEqual({ qemu: qmpLog[0]!.msg.QMP.version.qemu });
  });

  it("system_reset: QEMU's RESET before the reply, then the firmware's RESET from the guest 32.4 ms later", () => {
    const recorded = qmpLog.filter((l) => l.msg.event === 'RESET').map((l) => l.msg as { timestamp: { seconds: number; microseconds: number }; data: unknown });
    const vm = createVm(vmConfig);
    try {
      vm.run(60_000);
      const events: QmpEvent[] = [];
      vm.events$.subscribe((e) => events.push(e));
      expect(executeCommand(vm, { execute: 'system_reset' })).toEqual({ return: {} });
      expect(events.map((e) => e.data)).toEqual([recorded[0]!.data]);
      vm.run(100);
      expect(events.map((e) => e.data)).toEqual(recorded.map((r) => r.data));
      const us = (t: { seconds: number; microseconds: number }): number => t.seconds * 1e6 + t.microseconds;
      const ours = us(events[1]!.timestamp) - us(events[0]!.timestamp);
      expect(Math.abs(ours - (us(recorded[1]!.timestamp) - us(recorded[0]!.timestamp)))).toBeLessThan(1000);
    } finally {
      vm.dispose();
    }
  });

  it("warns at start-up, as QEMU 10 does for a memdev, that the device's 32 GiB alignment exceeds what maxmem was sized for", () => {
    const qemuLog = readFileSync(join(C, 'qemu.log'), 'utf8');
    const vm = createVm(vmConfig);
    try {
      expect(vm.startupWarnings).toHaveLength(1);
      expect(qemuLog).toContain(`: warning: ${vm.startupWarnings[0]}\n`);
    } finally {
      vm.dispose();
    }
    expect(createVm({ device: { statusReport: true } }).startupWarnings).toEqual([]);
  });

  it("the memory-device core's pre-plug checks come first: a memdev size that is not a multiple of 2 MiB, then placement, then hv-balloon's own", () => {
    const err = (device: Record<string, unknown>, maxmem = '44G'): string => {
      try {
        normalizeVmConfig({ machine: { memory: '4G', maxmem }, device });
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(err({ memdev: '3M' })).toBe('device.memdev "3M": backend memory size must be multiple of 0x200000');
    // Misaligned and too big for maxmem: QEMU 10 names the size first.
    expect(err({ memdev: 8 * 2 ** 30 + 4096 }, '5G')).toBe('device.memdev 8589938688: backend memory size must be multiple of 0x200000');
    expect(err({ memdev: '8G' }, '5G')).toMatch(/^machine\.maxmem: not enough space/);
  });

  it("balloon with a size of 0: QEMU 10's error text", () => {
    const vm = createVm(vmConfig);
    try {
      expect(executeCommand(vm, { execute: 'balloon', arguments: { value: 0 } })).toEqual({ error: { class: 'GenericError', desc: "Parameter 'value' expects a size" } });
    } finally {
      vm.dispose();
    }
  });
});
