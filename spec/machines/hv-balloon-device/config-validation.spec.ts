/**
 * Realize-time checks of the device properties (QEMU hv-balloon.c hv_balloon_vmdev_realize, and the
 * pre-plug alignment check of QEMU hw/mem/memory-device.c).
 */
import {
  assertDeviceConfig,
  DeviceConfigError,
  REALIZE_ERROR_TEXTS,
  validateDeviceConfig,
  type HvBalloonDeviceConfig,
} from '../../../machines/hv-balloon-device/config';

const GiB = 1024 ** 3;
const good: HvBalloonDeviceConfig = { id: 'hvb', statusReport: true, memdev: { id: 'mem0', sizeBytes: 2 * GiB, addrBytes: 32 * GiB } };

describe('hv-balloon device: configuration checks', () => {
  it('accepts a device with or without a memdev', () => {
    expect(validateDeviceConfig(good)).toBeUndefined();
    expect(validateDeviceConfig({ statusReport: false })).toBeUndefined();
    // addr=0 means "auto" in QEMU, so it is fine without a memdev.
    expect(validateDeviceConfig({ statusReport: false, addrBytes: 0 })).toBeUndefined();
  });

  it("refuses a memdev size that is not a multiple of 4 KiB with QEMU's text", () => {
    const err = validateDeviceConfig({ ...good, memdev: { id: 'mem0', sizeBytes: 2 * GiB + 512, addrBytes: 32 * GiB } });
    expect(err).toBeInstanceOf(DeviceConfigError);
    expect(err?.code).toBe('MEMDEV_SIZE_NOT_PAGE_MULTIPLE');
    expect(err?.field).toBe('memdev.sizeBytes');
    expect(err?.message).toBe("'memdev' property memdev size has to be a multiple of 0x1000");
  });

  it("refuses addr without a memdev with QEMU's text", () => {
    const err = validateDeviceConfig({ statusReport: false, addrBytes: 32 * GiB });
    expect(err?.code).toBe('ADDR_WITHOUT_MEMDEV');
    expect(err?.message).toBe(REALIZE_ERROR_TEXTS.addrWithoutMemdev);
    expect(err?.message).toBe("'memdev' property must not be set without a memdev");
  });

  it('refuses a window address off the 32 GiB device alignment (memory-device pre-plug)', () => {
    const err = validateDeviceConfig({ ...good, memdev: { id: 'mem0', sizeBytes: 2 * GiB, addrBytes: 33 * GiB } });
    expect(err?.code).toBe('ADDR_NOT_ALIGNED');
    expect(err?.message).toBe('address must be aligned to 0x800000000 bytes');
  });

  it.each([
    { field: 'memdev.sizeBytes', config: { ...good, memdev: { id: 'mem0', sizeBytes: -4096, addrBytes: 0 } } },
    { field: 'memdev.sizeBytes', config: { ...good, memdev: { id: 'mem0', sizeBytes: 0, addrBytes: 0 } } },
    { field: 'memdev.id', config: { ...good, memdev: { id: '', sizeBytes: 4096, addrBytes: 0 } } },
    { field: 'memdev.hostPageSize', config: { ...good, memdev: { id: 'm', sizeBytes: 4096, addrBytes: 0, hostPageSize: 3000 } } },
    { field: 'memdev.memslotLimit', config: { ...good, memdev: { id: 'm', sizeBytes: 4096, addrBytes: 0, memslotLimit: 0 } } },
    { field: 'statusReport', config: { statusReport: 'yes' as unknown as boolean } },
    { field: 'id', config: { statusReport: false, id: '' } },
  ])('names the field and the value of a wrong $field', ({ field, config }) => {
    const err = validateDeviceConfig(config);
    expect(err?.code).toBe('INVALID_VALUE');
    expect(err?.field).toBe(field);
    expect(err?.message).toContain(field);
  });

  it('assertDeviceConfig throws the same error', () => {
    expect(() => assertDeviceConfig({ statusReport: false, addrBytes: 4096 })).toThrow("'memdev' property must not be set without a memdev");
    expect(() => assertDeviceConfig(good)).not.toThrow();
  });
});
