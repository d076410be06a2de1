/**
 * A virtio-balloon VM answers QMP and HMP as QEMU's virtio-balloon does: balloon, query-balloon,
 * info balloon, BALLOON_CHANGE (throttled to 1/s), qom-get/qom-set of guest-stats and
 * guest-stats-polling-interval; the hv-balloon-only commands answer as QEMU does without that device.
 */
import { createVm, type QmpEvent } from '../../../index';
import { STAT_UNSET } from '../../../machines/virtio-balloon/constants';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const PATH = '/machine/peripheral/balloon0';

function booted() {
  const vm = createVm({ machine: { memory: '4G' }, device: { model: 'virtio-balloon' } } as never);
  const events: QmpEvent[] = [];
  vm.events$.subscribe((e) => events.push(e));
  vm.run(2000);
  return { vm, events };
}

describe('virtio-balloon VM: balloon, query-balloon, info balloon', () => {
  it('query-balloon and info balloon report RAM minus the guest-written actual', () => {
    const { vm } = booted();
    expect(vm.execute({ execute: 'query-balloon' })).toEqual({ return: { actual: 4 * GiB } });
    expect(vm.execute({ execute: 'balloon', arguments: { value: 3 * GiB } })).toEqual({ return: {} });
    vm.run(10_000);
    expect(vm.execute({ execute: 'query-balloon' })).toEqual({ return: { actual: 3 * GiB } });
    expect(vm.hmp('info balloon')).toBe('balloon: actual=3072\n');
    expect(vm.hmp('balloon 3584')).toBe('');
    vm.run(10_000);
    expect(vm.hmp('info balloon')).toBe('balloon: actual=3584\n');
    vm.dispose();
  });

  it('a target above the boot size stops at the boot size: virtio-balloon has no hot-add', () => {
    const { vm } = booted();
    vm.execute({ execute: 'balloon', arguments: { value: 8 * GiB } });
    vm.run(10_000);
    expect(vm.execute({ execute: 'query-balloon' })).toEqual({ return: { actual: 4 * GiB } });
    expect(vm.execute({ execute: 'query-memory-devices' })).toEqual({ return: [] });
    vm.dispose();
  });

  it('refuses a zero target with QEMU\'s text, and hv-balloon\'s status query says there is no hv-balloon', () => {
    const { vm } = booted();
    expect(vm.execute({ execute: 'balloon', arguments: { value: 0 } })).toEqual({ error: { class: 'GenericError', desc: "Parameter 'value' expects a size" } });
    expect(vm.execute({ execute: 'query-hv-balloon-status-report' })).toEqual({ error: { class: 'GenericError', desc: 'no hv-balloon device present' } });
    vm.dispose();
  });
});

describe('virtio-balloon VM: BALLOON_CHANGE', () => {
  it('goes out when actual changes, at most once a second, the last value winning, with the guest size in bytes', () => {
    const { vm, events } = booted();
    const sentAt: number[] = [];
    vm.events$.subscribe((e) => {
      if (e.event === 'BALLOON_CHANGE') sentAt.push(vm.now());
    });
    vm.execute({ execute: 'balloon', arguments: { value: 3 * GiB } });
    vm.run(20_000);
    const changes = events.filter((e) => e.event === 'BALLOON_CHANGE');
    expect(changes.length).toBeGreaterThanOrEqual(2);
    expect(changes[0]!.data).toEqual({ actual: 4 * GiB - MiB });
    expect(changes.at(-1)!.data).toEqual({ actual: 3 * GiB });
    // Sent at most once a second (a held event keeps the timestamp of when it happened, as in QEMU).
    for (let i = 1; i < sentAt.length; i++) expect(sentAt[i]! - sentAt[i - 1]!).toBeGreaterThanOrEqual(1000);
    vm.dispose();
  });
});

describe('virtio-balloon VM: qom-get / qom-set', () => {
  it('guest-stats: all unset (2^64 - 1) before the guest reported, then the guest\'s numbers', () => {
    const vm = createVm({ machine: { memory: '4G' }, device: { model: 'virtio-balloon' } } as never);
    const early = vm.execute({ execute: 'qom-get', arguments: { path: PATH, property: 'guest-stats' } }) as { return: { stats: Record<string, unknown>; 'last-update': number } };
    expect(Object.keys(early.return)).toEqual(['last-update', 'stats']);
    expect(early.return['last-update']).toBe(0);
    expect(Object.keys(early.return.stats)).toEqual([
      'stat-swap-in',
      'stat-swap-out',
      'stat-major-faults',
      'stat-minor-faults',
      'stat-free-memory',
      'stat-total-memory',
      'stat-available-memory',
      'stat-disk-caches',
      'stat-htlb-pgalloc',
      'stat-htlb-pgfail',
    ]);
    expect(Object.values(early.return.stats).every((v) => v === STAT_UNSET)).toBe(true);
    vm.run(2000);
    const later = vm.execute({ execute: 'qom-get', arguments: { path: 'balloon0', property: 'guest-stats' } }) as { return: { stats: Record<string, unknown> } };
    expect(later.return.stats['stat-total-memory']).toBe(vm.memory.managedPages() * 4096);
    vm.dispose();
  });

  it('guest-stats-polling-interval reads back what was set; bad values get QEMU\'s texts', () => {
    const { vm } = booted();
    const set = (value: unknown) => vm.execute({ execute: 'qom-set', arguments: { path: PATH, property: 'guest-stats-polling-interval', value } });
    const get = (property: string, path = PATH) => vm.execute({ execute: 'qom-get', arguments: { path, property } });
    expect(get('guest-stats-polling-interval')).toEqual({ return: 0 });
    expect(set(5)).toEqual({ return: {} });
    expect(get('guest-stats-polling-interval')).toEqual({ return: 5 });
    expect(set(-1)).toEqual({ error: { class: 'GenericError', desc: 'timer value must be greater than zero' } });
    expect(set(2 ** 32)).toEqual({ error: { class: 'GenericError', desc: 'timer value is too big' } });
    expect(set('5')).toEqual({ error: { class: 'GenericError', desc: "Invalid parameter type for 'guest-stats-polling-interval', expected: integer" } });
    expect(get('guest-stats-polling-interval')).toEqual({ return: 5 });
    expect(vm.execute({ execute: 'qom-set', arguments: { path: PATH, property: 'guest-stats', value: {} } })).toEqual({
      error: { class: 'GenericError', desc: "Property 'virtio-balloon-device.guest-stats' is not writable" },
    });
    expect(get('nope')).toEqual({ error: { class: 'GenericError', desc: "Property 'virtio-balloon-pci.nope' not found" } });
    expect(get('guest-stats', '/machine/peripheral/other')).toEqual({ error: { class: 'DeviceNotFound', desc: "Device '/machine/peripheral/other' not found" } });
    expect(vm.execute({ execute: 'qom-get', arguments: { path: PATH } })).toEqual({ error: { class: 'GenericError', desc: "Parameter 'property' is missing" } });
    vm.dispose();
  });

  it('an hv-balloon VM has no such object', () => {
    const vm = createVm({ machine: { memory: '4G' } });
    expect(vm.execute({ execute: 'qom-get', arguments: { path: PATH, property: 'guest-stats' } })).toEqual({
      error: { class: 'DeviceNotFound', desc: `Device '${PATH}' not found` },
    });
    vm.dispose();
  });
});
