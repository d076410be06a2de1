/**
 * QEMU's virtio-balloon device against a scripted guest: the test plays the driver's side of the
 * transport (buffers, kicks, config writes) and watches what the device does and emits.
 */
import { createActor } from 'xstate';
import { VirtualClock } from '../../../actors/virtual-clock';
import { MessageBus } from '../../../actors/message-bus';
import { MachineMemory } from '../../../machines/machine-memory';
import type { PostedEvent } from '../../../machines/outbox';
import { DEFAULT_COST_TABLE } from '../../../machines/cost-model';
import { VIRTIO_BALLOON_F_STATS_VQ, STAT_UNSET } from '../../../machines/virtio-balloon/constants';
import { virtioBalloonDeviceMachine, type VirtioBalloonDeviceEmitted } from '../../../machines/virtio-balloon/virtio-balloon-device.machine';
import { VirtioBalloonTransport } from '../../../machines/virtio-balloon/virtqueue';

const GiB = 2 ** 30;
const RAM = 4 * GiB;
/** A page in the PCI hole below 4 GiB (a pc machine with 4 GiB keeps 3 GiB low): not RAM. */
const PCI_HOLE_PAGE = (3.5 * GiB) / 4096;
/** Half a round trip: the interrupt's way back (80 µs / 2). */
const NOTIFY_MS = DEFAULT_COST_TABLE.bufferRoundTrip.nsPerUnit / 2 / 1e6;
const PFN_MS = DEFAULT_COST_TABLE.pfnHandled.nsPerUnit / 1e6;

function setup(opts: { statsPollingIntervalS?: number } = {}) {
  const clock = new VirtualClock();
  const bus = new MessageBus(clock);
  const memory = new MachineMemory({ ramBytes: RAM, maxmemBytes: RAM });
  const transport = new VirtioBalloonTransport(1 << VIRTIO_BALLOON_F_STATS_VQ);
  const device = createActor(virtioBalloonDeviceMachine, {
    input: {
      transport,
      memory,
      outbox: bus.outboxFor('device'),
      config: { id: 'balloon0', deflateOnOom: false, statsPollingIntervalS: opts.statsPollingIntervalS ?? 0 },
      ramBytes: RAM,
      epochMs: 1_700_000_000_000,
    },
    clock,
  });
  const toGuest: Array<{ time: number; event: PostedEvent }> = [];
  bus.attach('guest', { send: (event) => toGuest.push({ time: clock.now(), event }) });
  bus.attach('device', device);
  const emitted: VirtioBalloonDeviceEmitted[] = [];
  device.on('*', (e) => emitted.push(e));
  device.start();
  /** The driver's probe: features accepted, DRIVER_OK. */
  const driverOk = (): void => {
    transport.features = 1 << VIRTIO_BALLOON_F_STATS_VQ;
    transport.driverOk = true;
    bus.post('guest', 'device', { type: 'virtio.driver-ok' });
    clock.advance(0);
  };
  return { clock, bus, memory, transport, device, toGuest, emitted, driverOk };
}

describe('virtio-balloon device: the target (QEMU virtio_balloon_to_target)', () => {
  it('writes num_pages = (ram - target) >> 12 and raises a config interrupt once the driver is ready', () => {
    const h = setup();
    h.bus.post('vm', 'device', { type: 'virtio.set-target', targetBytes: 3 * GiB });
    h.clock.advance(1);
    // Before DRIVER_OK, virtio_notify_config reaches nobody; the config space is still written.
    expect(h.transport.config.numPages).toBe(GiB / 4096);
    expect(h.toGuest).toEqual([]);
    h.driverOk();
    h.bus.post('vm', 'device', { type: 'virtio.set-target', targetBytes: 2 * GiB });
    h.clock.advance(1);
    expect(h.transport.config.numPages).toBe((2 * GiB) / 4096);
    expect(h.toGuest.map((d) => d.event.type)).toEqual(['virtio.config-changed']);
  });

  it('clamps a target above the RAM size to the RAM size: no hot-add, the balloon empties', () => {
    const h = setup();
    h.driverOk();
    h.bus.post('vm', 'device', { type: 'virtio.set-target', targetBytes: 64 * GiB });
    h.clock.advance(1);
    expect(h.transport.config.numPages).toBe(0);
  });
});

describe('virtio-balloon device: inflate and deflate buffers (QEMU virtio_balloon_handle_output)', () => {
  it('handles every PFN of an inflate buffer, discards its host backing, returns it used and interrupts the guest', () => {
    const h = setup();
    h.driverOk();
    const runs = h.memory.allocateBalloonContiguous(256, 256);
    const residentBefore = h.memory.residentPages();
    h.transport.queues.inflate.addOutbuf({ kind: 'pfns', runs, pfnCount: 256 }, 1024);
    const t0 = h.clock.now();
    h.bus.post('guest', 'device', { type: 'virtio.kick', queue: 'inflate' });
    h.clock.advance(100);
    expect(h.memory.residentPages()).toBe(residentBefore - 256);
    expect(h.transport.queues.inflate.getBuf()).toEqual({ kind: 'pfns', runs, pfnCount: 256 });
    const irq = h.toGuest.find((d) => d.event.type === 'virtio.interrupt')!;
    expect(irq.event).toEqual({ type: 'virtio.interrupt', queue: 'inflate' });
    // Host time: one pfnHandled per PFN, then the interrupt's half of the round trip.
    expect(irq.time - t0).toBeCloseTo(256 * PFN_MS + NOTIFY_MS, 6);
  });

  it('does not touch a buffer until the guest kicks its queue, whatever else arrives', () => {
    const h = setup();
    h.driverOk();
    h.transport.queues.inflate.addOutbuf({ kind: 'pfns', runs: h.memory.allocateBalloonContiguous(1, 1), pfnCount: 1 }, 4);
    h.transport.config.actual = 1;
    h.bus.post('guest', 'device', { type: 'virtio.config-written' });
    h.clock.advance(50);
    expect(h.transport.queues.inflate.availCount).toBe(1);
    expect(h.toGuest).toEqual([]);
    h.bus.post('guest', 'device', { type: 'virtio.kick', queue: 'inflate' });
    h.clock.advance(50);
    expect(h.transport.queues.inflate.availCount).toBe(0);
    expect(h.toGuest.map((d) => d.event)).toEqual([{ type: 'virtio.interrupt', queue: 'inflate' }]);
  });

  it('skips PFNs outside RAM (virtio_balloon_bad_addr) and still returns the buffer', () => {
    const h = setup();
    h.driverOk();
    // The PCI hole below 4 GiB is not RAM.
    h.transport.queues.inflate.addOutbuf({ kind: 'pfns', runs: [{ startPage: PCI_HOLE_PAGE, pageCount: 4 }], pfnCount: 4 }, 16);
    h.bus.post('guest', 'device', { type: 'virtio.kick', queue: 'inflate' });
    h.clock.advance(10);
    expect(h.emitted).toContainEqual({ type: 'trace', name: 'virtio_balloon_bad_addr', args: { pfns: 4 } });
    expect(h.transport.queues.inflate.getBuf()).toBeDefined();
  });

  it('leaves memory as it is on deflate (a WILLNEED hint) and returns the buffer', () => {
    const h = setup();
    h.driverOk();
    h.transport.queues.deflate.addOutbuf({ kind: 'pfns', runs: [{ startPage: 1000, pageCount: 8 }], pfnCount: 8 }, 32);
    const resident = h.memory.residentPages();
    h.bus.post('guest', 'device', { type: 'virtio.kick', queue: 'deflate' });
    h.clock.advance(10);
    expect(h.memory.residentPages()).toBe(resident);
    expect(h.toGuest.map((d) => d.event)).toContainEqual({ type: 'virtio.interrupt', queue: 'deflate' });
  });
});

describe('virtio-balloon device: actual and BALLOON_CHANGE (QEMU virtio_balloon_set_config)', () => {
  it('emits balloon-change with the guest size in bytes only when actual changes', () => {
    const h = setup();
    h.driverOk();
    h.transport.config.actual = 256;
    h.bus.post('guest', 'device', { type: 'virtio.config-written' });
    h.bus.post('guest', 'device', { type: 'virtio.config-written' });
    h.clock.advance(0);
    expect(h.emitted.filter((e) => e.type === 'balloon-change')).toEqual([{ type: 'balloon-change', actual: RAM - 256 * 4096 }]);
  });
});

describe('virtio-balloon device: stats are pulled (QEMU virtio_balloon_receive_stats, balloon_stats_poll_cb)', () => {
  const statsBuffer = { kind: 'stats' as const, entries: [{ tag: 4, value: 1234n }, { tag: 5, value: 4096n }, { tag: 99, value: 7n }] };

  it('keeps the buffer, reads known tags, leaves the others unset, and does not give it back without polling', () => {
    const h = setup();
    h.driverOk();
    h.transport.queues.stats.addOutbuf(statsBuffer, 30);
    h.bus.post('guest', 'device', { type: 'virtio.kick', queue: 'stats' });
    h.clock.advance(60_000);
    const s = h.device.getSnapshot().context.stats;
    expect(s.values[4]).toBe(1234n);
    expect(s.values[5]).toBe(4096n);
    expect(s.values[0]).toBe(STAT_UNSET);
    expect(s.lastUpdate).toBe(1_700_000_000);
    expect(h.toGuest).toEqual([]);
  });

  it('a new polling interval fires at once; later the buffer goes back every interval after it returns', () => {
    const h = setup();
    h.driverOk();
    h.transport.queues.stats.addOutbuf(statsBuffer, 30);
    h.bus.post('guest', 'device', { type: 'virtio.kick', queue: 'stats' });
    h.clock.advance(1);
    h.bus.post('vm', 'device', { type: 'virtio.set-stats-interval', seconds: 2 });
    h.clock.advance(1);
    expect(h.toGuest.map((d) => d.event)).toEqual([{ type: 'virtio.interrupt', queue: 'stats' }]);
    // The guest refreshes and returns the buffer; the next poll is 2 s after that.
    expect(h.transport.queues.stats.getBuf()).toBe(statsBuffer);
    h.transport.queues.stats.addOutbuf(statsBuffer, 30);
    h.bus.post('guest', 'device', { type: 'virtio.kick', queue: 'stats' });
    const back = h.clock.now();
    h.clock.advance(1999);
    expect(h.toGuest).toHaveLength(1);
    h.clock.advance(2);
    expect(h.toGuest).toHaveLength(2);
    expect(h.toGuest[1]!.time - back).toBeCloseTo(2000 + NOTIFY_MS, 6);
  });

  it('interval 0 stops the polling', () => {
    const h = setup({ statsPollingIntervalS: 1 });
    h.driverOk();
    h.transport.queues.stats.addOutbuf(statsBuffer, 30);
    h.bus.post('guest', 'device', { type: 'virtio.kick', queue: 'stats' });
    h.bus.post('vm', 'device', { type: 'virtio.set-stats-interval', seconds: 0 });
    h.clock.advance(10_000);
    expect(h.toGuest).toEqual([]);
    expect(h.device.getSnapshot().context.stats.pollIntervalS).toBe(0);
  });
});

describe('virtio-balloon device: reset (QEMU virtio_balloon_device_reset)', () => {
  it('keeps num_pages and actual (the target survives a reboot) and waits for DRIVER_OK again', () => {
    const h = setup();
    h.driverOk();
    h.bus.post('vm', 'device', { type: 'virtio.set-target', targetBytes: 3 * GiB });
    h.transport.config.actual = 100;
    h.bus.post('guest', 'device', { type: 'virtio.config-written' });
    h.clock.advance(1);
    h.bus.post('vm', 'device', { type: 'system.reset' });
    h.clock.advance(1);
    const snap = h.device.getSnapshot();
    expect(snap.value).toBe('waitingForDriver');
    expect(snap.context.balloon).toEqual({ numPages: GiB / 4096, actual: 100 });
    expect(h.transport.driverOk).toBe(false);
  });
});
