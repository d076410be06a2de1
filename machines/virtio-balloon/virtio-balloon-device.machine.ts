/**
 * QEMU's virtio-balloon device (hw/virtio/virtio-balloon.c) as a statechart (systemId 'device').
 *
 * The host sets a target: `balloon` writes `num_pages` into the config space and raises a
 * config-change interrupt (virtio_balloon_to_target). The guest sends PFNs on the inflate and
 * deflate queues; the device handles each PFN (a section lookup and one madvise of 4 KiB: DONTNEED
 * on inflate, WILLNEED on deflate), then returns the buffer used and interrupts the guest
 * (virtio_balloon_handle_output). The guest writes `actual` back; a change emits BALLOON_CHANGE
 * (virtio_balloon_set_config). Stats are pulled: the device keeps the guest's stats buffer and
 * hands it back every `guest-stats-polling-interval` seconds (balloon_stats_poll_cb).
 *
 * States: waitingForDriver (before DRIVER_OK, and after a reset) -> ready.idle -> ready.popping <-> ready.handling
 * (host time per PFN runs while a buffer is handled; QEMU's main loop does it synchronously).
 * The stats timer is independent of the state, as QEMU's is.
 */
import { assign, cancel, enqueueActions, raise, setup } from 'xstate';
import { PAGE_SIZE } from '../../protocol/constants';
import type { PageRange } from '../../protocol/messages';
import { type CostOverrides, type CostTable, costOf, resolveCostTable } from '../cost-model';
import type { HostMemoryView } from '../memory-views';
import type { Outbox } from '../outbox';
import type { DeviceControlEvent } from '../part-events';
import { QEMU_STAT_NAMES, STAT_UNSET, VIRTIO_BALLOON_F_STATS_VQ, type VirtqueueName } from './constants';
import type { VirtioDeviceEvent } from './events';
import type { PfnBuffer, StatsBuffer, VirtioBalloonTransport } from './virtqueue';

/** `-device virtio-balloon-pci,id=...,deflate-on-oom=...` and the machine's RAM size. */
export interface VirtioBalloonDeviceConfig {
  /** QOM id (default "balloon0"): qom-get/qom-set path /machine/peripheral/<id>. */
  id: string;
  deflateOnOom: boolean;
  /** Initial guest-stats-polling-interval in seconds (libvirt sets it with qom-set; 0: off). */
  statsPollingIntervalS: number;
}

export interface VirtioBalloonDeviceInput {
  transport: VirtioBalloonTransport;
  memory: HostMemoryView;
  outbox: Outbox;
  config: VirtioBalloonDeviceConfig;
  /** QEMU get_current_ram_size(): boot RAM (no pc-dimm here), bytes. */
  ramBytes: number;
  costModel?: CostOverrides;
  /** Wall-clock epoch of virtual time 0, ms (guest-stats last-update is real time in QEMU). */
  epochMs?: number;
}

/** QEMU's virtio-balloon trace points (hw/virtio/trace-events) that we emit. */
export type VirtioTracePoint =
  | 'virtio_balloon_to_target'
  | 'virtio_balloon_handle_output'
  | 'virtio_balloon_bad_addr'
  | 'virtio_balloon_set_config'
  | 'virtio_balloon_receive_stats'
  | 'virtio_balloon_stats_poll';

export type VirtioBalloonDeviceEmitted =
  | { type: 'trace'; name: VirtioTracePoint; args: Readonly<Record<string, number | string>> }
  /** QEMU qapi_event_send_balloon_change: the guest's new size in bytes (the QMP layer throttles it). */
  | { type: 'balloon-change'; actual: number };

interface HandlingBuffer {
  queue: 'inflate' | 'deflate';
  buffer: PfnBuffer;
  hostMs: number;
}

export interface VirtioBalloonDeviceContext {
  transport: VirtioBalloonTransport;
  memory: HostMemoryView;
  outbox: Outbox;
  config: VirtioBalloonDeviceConfig;
  ramPages: number;
  costTable: CostTable;
  /** Virtual ms of an interrupt's way to the guest (half a buffer round trip). */
  notifyMs: number;
  epochMs: number;
  /** QEMU dev->num_pages / dev->actual. */
  balloon: { numPages: number; actual: number };
  /** QEMU stats[], stats_last_update, stats_poll_interval, stats_vq_elem. */
  stats: { values: bigint[]; lastUpdate: number; pollIntervalS: number; held: StatsBuffer | null };
  current: HandlingBuffer | null;
  counters: VirtioDeviceCounters;
}

export interface VirtioDeviceCounters {
  inflateBuffers: number;
  deflateBuffers: number;
  pfnsInflated: number;
  pfnsDeflated: number;
  /** PFNs outside RAM, skipped with virtio_balloon_bad_addr. */
  badPfns: number;
  statsBuffers: number;
  /** Host ms spent handling PFN buffers. */
  hostMs: number;
}

type StatsPollEvent = { type: 'stats.poll' };
export type VirtioBalloonDeviceEvent =
  | VirtioDeviceEvent
  | DeviceControlEvent
  | { type: 'system.reset' }
  | StatsPollEvent;

const unsetStats = (): bigint[] => QEMU_STAT_NAMES.map(() => STAT_UNSET);

/** Half a round trip each way: the kick there, the interrupt back. */
export function notifyLatencyMs(table: CostTable): number {
  return costOf([{ kind: 'bufferRoundTrip', count: 1 }], table) / 2;
}

export const virtioBalloonDeviceMachine = setup({
  types: {
    input: {} as VirtioBalloonDeviceInput,
    context: {} as VirtioBalloonDeviceContext,
    events: {} as VirtioBalloonDeviceEvent,
    emitted: {} as VirtioBalloonDeviceEmitted,
  },
  delays: {
    HOST_TIME: ({ context }) => context.current?.hostMs ?? 0,
  },
  guards: {
    hasPfnBuffer: ({ context }) => context.transport.queues.inflate.availCount + context.transport.queues.deflate.availCount > 0,
    isStatsKick: ({ event }) => event.type === 'virtio.kick' && event.queue === 'stats',
  },
  actions: {
    /** QEMU virtio_balloon_to_target: clamp to RAM; 0 does nothing; then a config interrupt. */
    setTarget: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'virtio.set-target') return;
      const ramBytes = context.ramPages * PAGE_SIZE;
      const target = Math.min(event.targetBytes, ramBytes);
      if (target > 0) {
        const numPages = Math.floor((ramBytes - target) / PAGE_SIZE);
        enqueue.assign({ balloon: { ...context.balloon, numPages } });
        context.transport.config.numPages = numPages;
        // virtio_notify_config: nothing reaches a driver that has not set DRIVER_OK.
        if (context.transport.driverOk) {
          context.outbox.post('guest', { type: 'virtio.config-changed' }, context.notifyMs);
        }
      }
      enqueue.emit({ type: 'trace', name: 'virtio_balloon_to_target', args: { target, num_pages: context.transport.config.numPages } });
    }),
    /** QEMU virtio_balloon_set_config: copy `actual`; a change is a BALLOON_CHANGE event. */
    configWritten: enqueueActions(({ context, enqueue }) => {
      const oldActual = context.balloon.actual;
      const actual = context.transport.config.actual;
      enqueue.assign({ balloon: { ...context.balloon, actual } });
      if (actual !== oldActual) enqueue.emit({ type: 'balloon-change', actual: (context.ramPages - actual) * PAGE_SIZE });
      enqueue.emit({ type: 'trace', name: 'virtio_balloon_set_config', args: { actual, oldactual: oldActual } });
    }),
    /** Pop the next PFN buffer (inflate first) and price its host time: every PFN is handled. */
    popBuffer: assign(({ context }) => {
      const queue: 'inflate' | 'deflate' = context.transport.queues.inflate.availCount > 0 ? 'inflate' : 'deflate';
      const buffer = context.transport.queues[queue].pop() as PfnBuffer;
      const hostMs = costOf([{ kind: 'pfnHandled', count: buffer.pfnCount }], context.costTable);
      return { current: { queue, buffer, hostMs } };
    }),
    /** The PFNs take effect, the buffer goes back used, the guest gets its interrupt. */
    finishBuffer: enqueueActions(({ context, enqueue }) => {
      const c = context.current;
      if (c === null) return;
      const { bad, ram } = handlePfns(context.memory, c.buffer.runs, c.queue);
      const counters = { ...context.counters, hostMs: context.counters.hostMs + c.hostMs, badPfns: context.counters.badPfns + bad };
      if (c.queue === 'inflate') {
        counters.inflateBuffers++;
        counters.pfnsInflated += ram;
      } else {
        counters.deflateBuffers++;
        counters.pfnsDeflated += ram;
      }
      if (bad > 0) enqueue.emit({ type: 'trace', name: 'virtio_balloon_bad_addr', args: { pfns: bad } });
      enqueue.emit({
        type: 'trace',
        name: 'virtio_balloon_handle_output',
        args: { queue: c.queue, pfns: c.buffer.pfnCount, pa: (c.buffer.runs[0]?.startPage ?? 0) * PAGE_SIZE },
      });
      context.transport.queues[c.queue].push(c.buffer);
      context.outbox.post('guest', { type: 'virtio.interrupt', queue: c.queue }, context.notifyMs);
      enqueue.assign({ current: null, counters });
    }),
    /** QEMU virtio_balloon_receive_stats: keep the buffer, read its entries, re-arm the poll timer. */
    receiveStats: enqueueActions(({ context, enqueue }) => {
      const q = context.transport.queues.stats;
      const elem = q.pop() as StatsBuffer | undefined;
      let stats = context.stats;
      if (elem !== undefined) {
        // "This should never happen if the driver follows the spec": a held buffer goes back.
        if (stats.held !== null) {
          q.push(stats.held);
          context.outbox.post('guest', { type: 'virtio.interrupt', queue: 'stats' }, context.notifyMs);
        }
        const values = unsetStats();
        for (const { tag, value } of elem.entries) if (tag < values.length) values[tag] = value;
        stats = { ...stats, values, held: elem, lastUpdate: Math.floor((context.epochMs + context.outbox.now()) / 1000) };
        enqueue.assign({ stats, counters: { ...context.counters, statsBuffers: context.counters.statsBuffers + 1 } });
        enqueue.emit({ type: 'trace', name: 'virtio_balloon_receive_stats', args: { entries: elem.entries.length } });
      }
      if (stats.pollIntervalS > 0) {
        enqueue(cancel('stats-poll'));
        enqueue(raise({ type: 'stats.poll' }, { id: 'stats-poll', delay: stats.pollIntervalS * 1000 }));
      }
    }),
    /** QEMU balloon_stats_poll_cb: hand the held buffer back (the guest refreshes and returns it). */
    pollStats: enqueueActions(({ context, enqueue }) => {
      const s = context.stats;
      if (s.pollIntervalS <= 0) return;
      if (s.held === null || !context.transport.has(VIRTIO_BALLOON_F_STATS_VQ)) {
        enqueue(raise({ type: 'stats.poll' }, { id: 'stats-poll', delay: s.pollIntervalS * 1000 }));
        return;
      }
      context.transport.queues.stats.push(s.held);
      context.outbox.post('guest', { type: 'virtio.interrupt', queue: 'stats' }, context.notifyMs);
      enqueue.assign({ stats: { ...s, held: null } });
      enqueue.emit({ type: 'trace', name: 'virtio_balloon_stats_poll', args: { interval: s.pollIntervalS } });
    }),
    /** QEMU balloon_stats_set_poll_interval (the value is validated by the caller, as QOM does). */
    setStatsInterval: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'virtio.set-stats-interval') return;
      const value = event.seconds;
      const s = context.stats;
      if (value === s.pollIntervalS) return;
      enqueue(cancel('stats-poll'));
      enqueue.assign({ stats: { ...s, pollIntervalS: value } });
      // 0 disables the timer; a change re-arms it at the new interval; a new timer fires at once.
      if (value === 0) return;
      enqueue(raise({ type: 'stats.poll' }, { id: 'stats-poll', delay: s.pollIntervalS > 0 ? value * 1000 : 0 }));
    }),
    /** QEMU virtio_balloon_device_reset: the held stats buffer goes; num_pages and actual stay. */
    resetDevice: assign(({ context }) => {
      context.transport.reset();
      return { current: null, stats: { ...context.stats, held: null } };
    }),
  },
}).createMachine({
  id: 'virtioBalloonDevice',
  context: ({ input }) => {
    const ramPages = Math.floor(input.ramBytes / PAGE_SIZE);
    const costTable = resolveCostTable(input.costModel);
    return {
      transport: input.transport,
      memory: input.memory,
      outbox: input.outbox,
      config: input.config,
      ramPages,
      costTable,
      notifyMs: notifyLatencyMs(costTable),
      epochMs: input.epochMs ?? 0,
      balloon: { numPages: 0, actual: 0 },
      stats: { values: unsetStats(), lastUpdate: 0, pollIntervalS: 0, held: null },
      current: null,
      counters: { inflateBuffers: 0, deflateBuffers: 0, pfnsInflated: 0, pfnsDeflated: 0, badPfns: 0, statsBuffers: 0, hostMs: 0 },
    };
  },
  // A polling interval given at start-up is set as libvirt does it: a qom-set once the device exists.
  entry: raise(({ context }) => ({ type: 'virtio.set-stats-interval', seconds: context.config.statsPollingIntervalS })),
  initial: 'waitingForDriver',
  on: {
    'virtio.set-target': { actions: 'setTarget' },
    // hv-balloon's event from the shared control path: the VM sends virtio.set-target instead.
    'device.set-target': {},
    'virtio.config-written': { actions: 'configWritten' },
    'virtio.set-stats-interval': { actions: 'setStatsInterval' },
    'stats.poll': { actions: 'pollStats' },
    'system.reset': { target: '.waitingForDriver', actions: 'resetDevice' },
  },
  states: {
    waitingForDriver: {
      on: { 'virtio.driver-ok': 'ready' },
    },
    ready: {
      initial: 'idle',
      states: {
        idle: {
          on: {
            // QEMU runs a queue's handler when the guest kicks it, not when a buffer merely appears.
            'virtio.kick': [{ guard: 'isStatsKick', actions: 'receiveStats' }, { target: 'popping' }],
          },
        },
        /** QEMU virtio_balloon_handle_output's loop: pop while buffers are available. */
        popping: {
          always: [{ guard: 'hasPfnBuffer', target: 'handling', actions: 'popBuffer' }, { target: 'idle' }],
        },
        handling: {
          on: { 'virtio.kick': { guard: 'isStatsKick', actions: 'receiveStats' } },
          after: { HOST_TIME: { target: 'popping', actions: 'finishBuffer' } },
        },
      },
    },
  },
});

/**
 * QEMU virtio_balloon_handle_output's per-PFN loop, a run at a time: RAM pages are discarded on
 * inflate (balloon_inflate_page -> ram_block_discard_range) and hinted WILLNEED on deflate (the
 * model faults backing back in when the guest writes, so nothing changes here); anything else is
 * skipped (virtio_balloon_bad_addr).
 */
function handlePfns(memory: HostMemoryView, runs: readonly PageRange[], queue: VirtqueueName): { ram: number; bad: number } {
  let ram = 0;
  let bad = 0;
  for (const run of runs) {
    let page = run.startPage;
    const end = run.startPage + run.pageCount;
    while (page < end) {
      const section = memory.findSection(page, end - page);
      const n = Math.max(1, Math.min(section.pageCount, end - page));
      if (section.kind === 'ram') {
        ram += n;
        if (queue === 'inflate') memory.discard({ startPage: page, pageCount: n });
      } else bad += n;
      page += n;
    }
  }
  return { ram, bad };
}
