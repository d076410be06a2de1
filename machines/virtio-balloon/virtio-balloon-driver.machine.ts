/**
 * Linux's virtio_balloon driver (drivers/virtio/virtio_balloon.c) as a statechart (systemId 'guest').
 *
 * Two regions, as the driver has two work items:
 * - balloon (update_balloon_size_func): each step moves toward `num_pages` by at most 256 PFNs
 *   (VIRTIO_BALLOON_ARRAY_PFNS_MAX). Inflate: allocate single pages, put their PFNs in one buffer,
 *   kick, and wait for the host to return it (tell_host); an allocation failure logs "Out of
 *   puff!" and sleeps 200 ms. Deflate: take pages off the balloon list, tell the host first (the
 *   host must hear of a page before the guest reuses it), then free them. After each step the
 *   driver writes `actual` and requeues itself until the target is reached. An OOM (with
 *   DEFLATE_ON_OOM) deflates 256 pages between steps, under the same lock.
 * - stats (update_balloon_stats_func): the buffer is with the host; when the host returns it, the
 *   driver refreshes the numbers and queues it again.
 *
 * Guest CPU work (allocating, queueing PFNs, freeing) is charged on the vCPU; waiting for the host
 * is not (the work sleeps in wait_event).
 */
import { and, assign, enqueueActions, setup } from 'xstate';
import { PAGE_SIZE } from '../../protocol/constants';
import type { PageRange } from '../../protocol/messages';
import { type CostOverrides, type CostTable, resolveCostTable } from '../cost-model';
import type { GuestMemoryView } from '../memory-views';
import type { Outbox } from '../outbox';
import { PageRangeTree } from '../page-range-tree';
import type { JobDoneEvent, WorkItem } from '../part-events';
import {
  OUT_OF_PUFF_SLEEP_MS,
  PFN_BYTES,
  STAT_ENTRY_BYTES,
  VIRTIO_BALLOON_ARRAY_PFNS_MAX,
  VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
  VIRTIO_BALLOON_F_MUST_TELL_HOST,
  VIRTIO_BALLOON_F_STATS_VQ,
  VIRTIO_BALLOON_OOM_NR_PAGES,
  VIRTIO_BALLOON_S,
  } from './constants';
import type { VirtioGuestEvent } from './events';
import { notifyLatencyMs } from './virtio-balloon-device.machine';
import type { PfnBuffer, StatsBuffer, VirtioBalloonTransport } from './virtqueue';

/** What the driver needs of guest memory: the kernel's view, plus the free and total counts. */
export type VirtioGuestMemory = GuestMemoryView;

export interface VirtioBalloonDriverInput {
  transport: VirtioBalloonTransport;
  memory: VirtioGuestMemory;
  outbox: Outbox;
  costModel?: CostOverrides;
}

export type VirtioBalloonDriverEmitted = { type: 'log'; level: 'info' | 'debug'; text: string; timeMs: number };

/** The step in flight: its PFNs (taken or to give back) and why it runs. */
interface Step {
  direction: 'inflate' | 'deflate';
  buffer: PfnBuffer;
  /** Inflate: fewer pages than wanted were allocated (Out of puff). */
  shortfall: boolean;
  /** Deflate run by the OOM notifier. */
  oom: boolean;
}

export interface VirtioBalloonDriverContext {
  transport: VirtioBalloonTransport;
  memory: VirtioGuestMemory;
  outbox: Outbox;
  costTable: CostTable;
  /** Virtual ms of a kick's way to the host (half a buffer round trip). */
  notifyMs: number;
  /** vb->num_pages and the balloon's page list (balloon_dev_info.pages), as ranges. */
  balloon: { numPages: number; pages: PageRangeTree };
  step: Step | null;
  /** The update work is queued (a config change, or a step that did not reach the target). */
  work: { queued: boolean; oomPending: number; jobSeq: number; balloonJob: string; statsJob: string };
  counters: VirtioDriverCounters;
}

export interface VirtioDriverCounters {
  inflateBuffers: number;
  deflateBuffers: number;
  outOfPuff: number;
  oomDeflates: number;
  statsBuffers: number;
}

export type VirtioBalloonDriverEvent = VirtioGuestEvent | JobDoneEvent | { type: 'system.reset' };

/** Features this driver accepts (Linux features[]; free-page hint, poison and reporting are not modelled). */
const DRIVER_FEATURES = (1 << VIRTIO_BALLOON_F_MUST_TELL_HOST) | (1 << VIRTIO_BALLOON_F_STATS_VQ) | (1 << VIRTIO_BALLOON_F_DEFLATE_ON_OOM);

function freshContext(input: VirtioBalloonDriverInput | VirtioBalloonDriverContext): VirtioBalloonDriverContext {
  const costTable = 'costTable' in input ? input.costTable : resolveCostTable(input.costModel);
  return {
    transport: input.transport,
    memory: input.memory,
    outbox: input.outbox,
    costTable,
    notifyMs: notifyLatencyMs(costTable),
    balloon: { numPages: 0, pages: new PageRangeTree() },
    step: null,
    work: { queued: false, oomPending: 0, jobSeq: 0, balloonJob: '', statsJob: '' },
    counters: { inflateBuffers: 0, deflateBuffers: 0, outOfPuff: 0, oomDeflates: 0, statsBuffers: 0 },
  };
}

/** Linux towards_target: the host's num_pages minus ours (4 KiB guest pages: no alignment). */
export function towardsTarget(context: VirtioBalloonDriverContext): number {
  return context.transport.config.numPages - context.balloon.numPages;
}

/** Linux update_balloon_stats, in the order it fills the array (swap, faults, hugetlb, free, total, available, caches). */
function statsBuffer(context: VirtioBalloonDriverContext): StatsBuffer {
  const m = context.memory;
  const deflateOnOom = context.transport.has(VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
  // With DEFLATE_ON_OOM the balloon's pages stay in totalram (adjust_managed_page_count is skipped).
  const totalPages = m.managedPages() + (deflateOnOom ? m.balloonedPages() : 0);
  const S = VIRTIO_BALLOON_S;
  const b = (pages: number): bigint => BigInt(pages) * BigInt(PAGE_SIZE);
  return {
    kind: 'stats',
    entries: [
      { tag: S.SWAP_IN, value: 0n },
      { tag: S.SWAP_OUT, value: 0n },
      { tag: S.MAJFLT, value: 0n },
      { tag: S.MINFLT, value: 0n },
      // CONFIG_HUGETLB_PAGE kernels (the distributions') report these too; no hugetlb pool here.
      { tag: S.HTLB_PGALLOC, value: 0n },
      { tag: S.HTLB_PGFAIL, value: 0n },
      { tag: S.MEMFREE, value: b(m.freePages()) },
      { tag: S.MEMTOT, value: b(totalPages) },
      { tag: S.AVAIL, value: b(m.availablePages()) },
      { tag: S.CACHES, value: 0n },
    ],
  };
}

function pfnBuffer(runs: PageRange[]): PfnBuffer {
  return { kind: 'pfns', runs, pfnCount: runs.reduce((sum, r) => sum + r.pageCount, 0) };
}

export const virtioBalloonDriverMachine = setup({
  types: {
    input: {} as VirtioBalloonDriverInput,
    context: {} as VirtioBalloonDriverContext,
    events: {} as VirtioBalloonDriverEvent,
    emitted: {} as VirtioBalloonDriverEmitted,
  },
  delays: {
    OUT_OF_PUFF_SLEEP: OUT_OF_PUFF_SLEEP_MS,
  },
  guards: {
    oomPending: ({ context }) => context.work.oomPending > 0,
    workQueued: ({ context }) => context.work.queued,
    wantsMore: ({ context }) => towardsTarget(context) > 0,
    wantsLess: ({ context }) => towardsTarget(context) < 0,
    balloonJobDone: ({ context, event }) => event.type === 'job.done' && event.tag === context.work.balloonJob,
    statsJobDone: ({ context, event }) => event.type === 'job.done' && event.tag === context.work.statsJob,
    inflateUsed: ({ event }) => event.type === 'virtio.interrupt' && event.queue === 'inflate',
    deflateUsed: ({ event }) => event.type === 'virtio.interrupt' && event.queue === 'deflate',
    statsUsed: ({ event }) => event.type === 'virtio.interrupt' && event.queue === 'stats',
    gotPages: ({ context }) => (context.step?.buffer.pfnCount ?? 0) > 0,
    shortfall: ({ context }) => context.step?.shortfall === true,
    deflateOnOom: ({ context }) => context.transport.has(VIRTIO_BALLOON_F_DEFLATE_ON_OOM),
    statsNegotiated: ({ context }) => context.transport.has(VIRTIO_BALLOON_F_STATS_VQ),
  },
  actions: {
    /** virtballoon_probe: accept features, set DRIVER_OK; a target already set queues the work. */
    probe: enqueueActions(({ context, enqueue }) => {
      const t = context.transport;
      t.features = t.hostFeatures & DRIVER_FEATURES;
      t.driverOk = true;
      context.outbox.post('device', { type: 'virtio.driver-ok' });
      enqueue.assign({ work: { ...context.work, queued: towardsTarget(context) !== 0 } });
    }),
    queueWork: assign({ work: ({ context }) => ({ ...context.work, queued: true }) }),
    noteOom: assign({ work: ({ context }) => ({ ...context.work, oomPending: context.work.oomPending + 1 }) }),
    /** fill_balloon: allocate up to 256 single pages; short of pages: "Out of puff!". */
    startInflate: enqueueActions(({ context, enqueue }) => {
      const want = Math.min(towardsTarget(context), VIRTIO_BALLOON_ARRAY_PFNS_MAX);
      const runs = context.memory.allocateBalloonContiguous(want, want);
      const buffer = pfnBuffer(runs);
      const shortfall = buffer.pfnCount < want;
      if (shortfall) {
        enqueue.emit({ type: 'log', level: 'info', text: `Out of puff! Can't get 1 pages`, timeMs: context.outbox.now() });
      }
      const n = buffer.pfnCount;
      const work = runJob(context, 'balloon', [
        { kind: 'pageAllocated', count: n },
        { kind: 'pfnQueued', count: n },
      ]);
      enqueue.assign({
        work,
        step: { direction: 'inflate', buffer, shortfall, oom: false },
        counters: { ...context.counters, outOfPuff: context.counters.outOfPuff + (shortfall ? 1 : 0) },
      });
    }),
    /**
     * leak_balloon: take up to `num` pages off the balloon list (most recent first). Their
     * dequeueing is charged with the freeing, after the host's answer (one vCPU job per step).
     */
    startDeflate: enqueueActions(({ context, enqueue }, params: { oom: boolean }) => {
      const num = params.oom ? VIRTIO_BALLOON_OOM_NR_PAGES : Math.min(-towardsTarget(context), VIRTIO_BALLOON_ARRAY_PFNS_MAX);
      const runs: PageRange[] = [];
      let left = Math.min(num, context.balloon.numPages);
      while (left > 0) {
        const r = context.balloon.pages.pop(left);
        if (r === undefined) break;
        runs.push(r);
        left -= r.pageCount;
      }
      const buffer = pfnBuffer(runs);
      enqueue.assign({
        step: { direction: 'deflate', buffer, shortfall: false, oom: params.oom },
        balloon: { ...context.balloon, numPages: context.balloon.numPages - buffer.pfnCount },
        work: { ...context.work, oomPending: params.oom ? 0 : context.work.oomPending },
        counters: { ...context.counters, oomDeflates: context.counters.oomDeflates + (params.oom ? 1 : 0) },
      });
    }),
    /** tell_host: one out-buffer on the queue, then the kick (a VM exit). */
    tellHost: ({ context }) => {
      const step = context.step!;
      const queue = step.direction;
      context.transport.queues[queue].addOutbuf(step.buffer, step.buffer.pfnCount * PFN_BYTES);
      context.outbox.post('device', { type: 'virtio.kick', queue }, context.notifyMs);
    },
    /** The host returned the inflate buffer: its pages are the balloon's now. */
    inflateAcked: enqueueActions(({ context, enqueue }) => {
      const step = context.step!;
      context.transport.queues.inflate.getBuf();
      for (const r of step.buffer.runs) context.balloon.pages.insert(r.startPage, r.pageCount);
      enqueue.assign({
        balloon: { ...context.balloon, numPages: context.balloon.numPages + step.buffer.pfnCount },
        counters: { ...context.counters, inflateBuffers: context.counters.inflateBuffers + 1 },
      });
    }),
    /** The host returned the deflate buffer: release_pages_balloon frees the pages. */
    deflateAcked: enqueueActions(({ context, enqueue }) => {
      const step = context.step!;
      context.transport.queues.deflate.getBuf();
      let freed = 0;
      for (const r of step.buffer.runs) freed += context.memory.releaseBalloonRange(r);
      const work = runJob(context, 'balloon', [
        { kind: 'pfnQueued', count: step.buffer.pfnCount },
        { kind: 'pageFreed', count: freed },
      ]);
      enqueue.assign({ work, counters: { ...context.counters, deflateBuffers: context.counters.deflateBuffers + 1 } });
    }),
    /** update_balloon_size: write `actual` (a config write: a VM exit the device sees at once). */
    updateBalloonSize: ({ context }) => {
      context.transport.config.actual = context.balloon.numPages;
      context.outbox.post('device', { type: 'virtio.config-written' });
    },
    /** After a step: requeue while the target is not reached (and drop the step). */
    endStep: assign(({ context }) => {
      const step = context.step;
      const queued = step?.oom === true ? context.work.queued : towardsTarget(context) !== 0;
      return { step: null, work: { ...context.work, queued } };
    }),
    idleWork: assign({ work: ({ context }) => ({ ...context.work, queued: false }) }),
    /** Linux init_vqs / stats_handle_request: refresh the numbers (a little vCPU work). */
    refreshStats: assign(({ context }) => {
      context.transport.queues.stats.getBuf();
      return { work: runJob(context, 'stats', [{ kind: 'messageSent', count: 1 }]) };
    }),
    sendStats: enqueueActions(({ context, enqueue }) => {
      const buf = statsBuffer(context);
      context.transport.queues.stats.addOutbuf(buf, buf.entries.length * STAT_ENTRY_BYTES);
      context.outbox.post('device', { type: 'virtio.kick', queue: 'stats' }, context.notifyMs);
      enqueue.assign({ counters: { ...context.counters, statsBuffers: context.counters.statsBuffers + 1 } });
    }),
    forgetEverything: assign(({ context }) => freshContext(context)),
  },
}).createMachine({
  id: 'virtioBalloonDriver',
  context: ({ input }) => freshContext(input),
  initial: 'absent',
  on: {
    // Reboot: the module is loaded afresh and probes when the device is found again.
    'system.reset': { target: '.absent', actions: 'forgetEverything' },
  },
  states: {
    absent: {
      on: { 'virtio.probe': { target: 'probed', actions: 'probe' } },
    },
    probed: {
      type: 'parallel',
      states: {
        balloon: {
          initial: 'next',
          on: {
            'virtio.config-changed': { actions: 'queueWork' },
            'virtio.oom': { guard: 'deflateOnOom', actions: 'noteOom' },
          },
          states: {
            /** Between steps (the balloon lock is free): OOM first, then the queued work. */
            next: {
              always: [
                { guard: 'oomPending', target: 'leaking', actions: { type: 'startDeflate', params: { oom: true } } },
                { guard: and(['workQueued', 'wantsMore']), target: 'filling', actions: 'startInflate' },
                { guard: and(['workQueued', 'wantsLess']), target: 'leaking', actions: { type: 'startDeflate', params: { oom: false } } },
                { target: 'idle', actions: 'idleWork' },
              ],
            },
            idle: {
              on: {
                'virtio.config-changed': { target: 'next', actions: 'queueWork' },
                'virtio.oom': { guard: 'deflateOnOom', target: 'next', actions: 'noteOom' },
              },
            },
            filling: {
              on: {
                'job.done': [
                  { guard: and(['balloonJobDone', 'shortfall']), target: 'outOfPuff' },
                  { guard: 'balloonJobDone', target: 'inflateWait', actions: 'tellHost' },
                ],
              },
            },
            /** msleep(200) after a failed allocation, then tell the host about what was got. */
            outOfPuff: {
              after: {
                OUT_OF_PUFF_SLEEP: [
                  { guard: 'gotPages', target: 'inflateWait', actions: 'tellHost' },
                  { target: 'next', actions: ['updateBalloonSize', 'endStep'] },
                ],
              },
            },
            inflateWait: {
              on: {
                'virtio.interrupt': {
                  guard: 'inflateUsed',
                  target: 'next',
                  actions: ['inflateAcked', 'updateBalloonSize', 'endStep'],
                },
              },
            },
            /** Pages taken off the list; the host hears of them first (MUST_TELL_HOST). */
            leaking: {
              always: [
                { guard: 'gotPages', target: 'deflateWait', actions: 'tellHost' },
                { target: 'next', actions: ['updateBalloonSize', 'endStep'] },
              ],
            },
            deflateWait: {
              on: {
                'virtio.interrupt': {
                  guard: 'deflateUsed',
                  target: 'releasing',
                  actions: 'deflateAcked',
                },
              },
            },
            releasing: {
              on: {
                'job.done': { guard: 'balloonJobDone', target: 'next', actions: ['updateBalloonSize', 'endStep'] },
              },
            },
          },
        },
        stats: {
          initial: 'start',
          states: {
            start: {
              always: [{ guard: 'statsNegotiated', target: 'withHost', actions: 'sendStats' }, { target: 'off' }],
            },
            off: {},
            /** The host holds the buffer until its polling timer hands it back. */
            withHost: {
              on: {
                'virtio.interrupt': {
                  guard: 'statsUsed',
                  target: 'refreshing',
                  actions: 'refreshStats',
                },
              },
            },
            refreshing: {
              on: { 'job.done': { guard: 'statsJobDone', target: 'withHost', actions: 'sendStats' } },
            },
          },
        },
      },
    },
  },
});

/** Post a vCPU job for the balloon or the stats work; returns the work state with its tag. */
function runJob(context: VirtioBalloonDriverContext, which: 'balloon' | 'stats', items: WorkItem[]): VirtioBalloonDriverContext['work'] {
  const seq = context.work.jobSeq + 1;
  const tag = `virtio-${which}-${seq}`;
  context.outbox.post('vcpu', { type: 'vcpu.run', job: { owner: 'guest', tag, work: items } });
  return { ...context.work, jobSeq: seq, ...(which === 'balloon' ? { balloonJob: tag } : { statsJob: tag }) };
}
