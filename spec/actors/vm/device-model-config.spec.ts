/** Choosing the device model, and the errors that name the field and the value. */
import { normalizeVmConfig, VmConfigError } from '../../../index';

function errorOf(input: unknown): { field: string; message: string } {
  try {
    normalizeVmConfig(input as never);
  } catch (err) {
    if (err instanceof VmConfigError) return { field: err.field, message: err.message };
    throw err;
  }
  throw new Error('no error');
}

describe('device.model', () => {
  it('defaults to hv-balloon; "virtio-balloon" gives a virtio config with QEMU\'s defaults', () => {
    expect(normalizeVmConfig({}).virtio).toBeUndefined();
    expect(normalizeVmConfig({ device: { model: 'hv-balloon' } }).device).not.toBeNull();
    const c = normalizeVmConfig({ device: { model: 'virtio-balloon' } });
    expect(c.device).toBeNull();
    expect(c.virtio).toEqual({ id: 'balloon0', deflateOnOom: false, statsPollingIntervalS: 0 });
    expect(normalizeVmConfig({ device: { model: 'virtio-balloon', id: 'vb', deflateOnOom: true, guestStatsPollingInterval: 2 } }).virtio).toEqual({
      id: 'vb',
      deflateOnOom: true,
      statsPollingIntervalS: 2,
    });
  });

  it('an unknown model names the field and the value', () => {
    expect(errorOf({ device: { model: 'virtio-mem' } })).toEqual({
      field: 'device.model',
      message: 'device.model: expected one of "hv-balloon", "virtio-balloon", got "virtio-mem"',
    });
  });

  it('hot-add and memdev options are refused for virtio-balloon, saying why', () => {
    expect(errorOf({ machine: { memory: '4G', maxmem: '44G' }, device: { model: 'virtio-balloon', memdev: '8G' } })).toEqual({
      field: 'device.memdev',
      message:
        'device.memdev "8G": hot-add from a memory backend is hv-balloon\'s; virtio-balloon has no memdev and cannot grow a guest past its boot size',
    });
    expect(errorOf({ device: { model: 'virtio-balloon', statusReport: true } }).field).toBe('device.statusReport');
    expect(errorOf({ device: { model: 'virtio-balloon', statusReport: true } }).message).toMatch(/guestStatsPollingInterval/);
    expect(errorOf({ device: { model: 'virtio-balloon', hugepages: true } }).field).toBe('device.hugepages');
  });

  it('virtio options are refused for hv-balloon, and bad virtio values are named', () => {
    expect(errorOf({ device: { deflateOnOom: true } })).toEqual({
      field: 'device.deflateOnOom',
      message: 'device.deflateOnOom: a virtio-balloon option; set device.model to "virtio-balloon" to use it',
    });
    expect(errorOf({ device: { model: 'virtio-balloon', guestStatsPollingInterval: -2 } }).message).toBe(
      'device.guestStatsPollingInterval: expected whole seconds 0..4294967295 (0: off), got -2',
    );
    expect(errorOf({ device: { model: 'virtio-balloon', deflateOnOom: 'yes' } }).message).toBe('device.deflateOnOom: expected true or false, got "yes"');
  });

  it('only the Linux guest has a virtio_balloon driver model, and there is no VMBus channel to configure', () => {
    expect(errorOf({ device: { model: 'virtio-balloon' }, guest: { profile: 'windows' } })).toEqual({
      field: 'guest.profile',
      message: 'guest.profile "windows": a virtio-balloon VM runs Linux\'s virtio_balloon driver; only the "linux" profile has a model',
    });
    expect(errorOf({ device: { model: 'virtio-balloon' }, channel: { ringBytes: '64K' } }).field).toBe('channel');
  });
});
