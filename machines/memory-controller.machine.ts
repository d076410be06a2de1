/**
 * The memory controller (systemId 'memctl'): the guest kernel's memory-hotplug side around the
 * MachineMemory model. When the DM driver has added a memory block (Linux add_memory(), the
 * block is offline), the controller onlines it per the auto-online policy after `onlineDelayMs`
 * (Linux: memhp_default_state / a udev rule onlines new blocks shortly after the add uevent;
 * `null` = nobody onlines them, as on a distro without such a rule), charges the vCPU for the
 * onlining work, and then tells the guest driver `guest.block-onlined` (Linux memory notifier
 * MEM_ONLINE). Several blocks may wait at once; each is onlined `onlineDelayMs` after it was
 * added, in order. `system.reset` drops the pending blocks and puts memory back to its boot state.
 *
 * onlineMode 'all' (default) moves the whole block offline -> free (QEMU only hot-adds whole,
 * aligned blocks, so every page is backed). 'notify-only' leaves the pages to the driver, which
 * onlines just the backed part itself (Linux hv_online_page keeps unbacked pages offline).
 */
import { assign, setup } from 'xstate';
import type { PageRange } from '../protocol/messages';
import type { Outbox } from './outbox';
import type { GuestMemoryEvent, JobDoneEvent, MemctlEvent, VcpuEvent } from './part-events';

/** Default virtual delay from add to online. Assumption: a udev rule reacting to the add uevent. */
export const DEFAULT_ONLINE_DELAY_MS = 100;

/** What the controller needs from the memory model (MachineMemory implements it). */
export interface ControlledMemory {
  onlinePages(range: PageRange): number;
  resetToBoot(): void;
}

export interface MemoryControllerInput {
  outbox: Outbox;
  memory: ControlledMemory;
  /** Delay from block-added to online; null = never online automatically. Default 100 ms. */
  onlineDelayMs?: number | null;
  /** Who moves the pages to free memory: the controller ('all') or the driver ('notify-only'). */
  onlineMode?: 'all' | 'notify-only';
  /** Run the onlining as a vCPU job (pageOnlined x block pages) before notifying. Default true. */
  chargeVcpu?: boolean;
}

interface PendingBlock {
  range: PageRange;
  dueAt: number;
}

export interface MemoryControllerContext {
  outbox: Outbox;
  memory: ControlledMemory;
  onlineDelayMs: number | null;
  onlineMode: 'all' | 'notify-only';
  chargeVcpu: boolean;
  queue: PendingBlock[];
  /** Tag of the vCPU job onlining the head block, if one is out. */
  jobTag: string | null;
  /** Bumped on reset so a job.done from before the reset is not taken for a new one. */
  generation: number;
  blocksOnlined: number;
  /** Blocks added while nobody onlines automatically (onlineDelayMs null). */
  blocksLeftOffline: number;
}

export type MemoryControllerEvent = MemctlEvent | JobDoneEvent;

export class MemoryControllerConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'MemoryControllerConfigError';
  }
}

export const memoryControllerMachine = setup({
  types: {
    input: {} as MemoryControllerInput,
    context: {} as MemoryControllerContext,
    events: {} as MemoryControllerEvent,
  },
  delays: {
    ONLINE_DUE: ({ context }) => Math.max(0, (context.queue[0]?.dueAt ?? 0) - context.outbox.now()),
  },
  guards: {
    autoOnline: ({ context }) => context.onlineDelayMs !== null,
    chargesVcpu: ({ context }) => context.chargeVcpu,
    isOurJob: ({ context, event }) => event.type === 'job.done' && event.tag === context.jobTag,
    hasPending: ({ context }) => context.queue.length > 0,
  },
  actions: {
    enqueueBlock: assign({
      queue: ({ context, event }) =>
        event.type === 'memctl.block-added'
          ? [...context.queue, { range: { ...event.range }, dueAt: context.outbox.now() + (context.onlineDelayMs ?? 0) }]
          : context.queue,
    }),
    countLeftOffline: assign({ blocksLeftOffline: ({ context }) => context.blocksLeftOffline + 1 }),
    postOnlineJob: assign({
      jobTag: ({ context }) => {
        const head = context.queue[0];
        const tag = `online-${context.generation}-${head.range.startPage}`;
        const run: VcpuEvent = {
          type: 'vcpu.run',
          job: { owner: 'memctl', tag, work: [{ kind: 'pageOnlined', count: head.range.pageCount }] },
        };
        context.outbox.post('vcpu', run);
        return tag;
      },
    }),
    /** Online the head block and tell the guest driver (Linux MEM_ONLINE). */
    onlineHead: assign(({ context }) => {
      const [head, ...rest] = context.queue;
      if (context.onlineMode === 'all') context.memory.onlinePages(head.range);
      const onlined: GuestMemoryEvent = { type: 'guest.block-onlined', range: { ...head.range } };
      context.outbox.post('guest', onlined);
      return { queue: rest, jobTag: null, blocksOnlined: context.blocksOnlined + 1 };
    }),
    resetMemory: assign(({ context }) => {
      context.memory.resetToBoot();
      return { queue: [], jobTag: null, generation: context.generation + 1 };
    }),
  },
}).createMachine({
  id: 'memctl',
  context: ({ input }) => {
    const delay = input.onlineDelayMs === undefined ? DEFAULT_ONLINE_DELAY_MS : input.onlineDelayMs;
    if (delay !== null && (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0)) {
      throw new MemoryControllerConfigError('onlineDelayMs', `onlineDelayMs must be a number >= 0 or null, got ${String(delay)}`);
    }
    const mode = input.onlineMode ?? 'all';
    if (mode !== 'all' && mode !== 'notify-only') {
      throw new MemoryControllerConfigError('onlineMode', `onlineMode must be 'all' or 'notify-only', got ${String(mode)}`);
    }
    return {
      outbox: input.outbox,
      memory: input.memory,
      onlineDelayMs: delay,
      onlineMode: mode,
      chargeVcpu: input.chargeVcpu ?? true,
      queue: [],
      jobTag: null,
      generation: 0,
      blocksOnlined: 0,
      blocksLeftOffline: 0,
    };
  },
  initial: 'ready',
  on: {
    'system.reset': { target: '.ready', actions: 'resetMemory' },
  },
  states: {
    ready: {
      on: {
        'memctl.block-added': [
          { guard: 'autoOnline', target: 'waiting', actions: 'enqueueBlock' },
          { actions: 'countLeftOffline' },
        ],
      },
    },
    /** The head block waits for its online time. */
    waiting: {
      on: { 'memctl.block-added': { actions: 'enqueueBlock' } },
      after: {
        ONLINE_DUE: [
          { guard: 'chargesVcpu', target: 'onlining', actions: 'postOnlineJob' },
          { target: 'next', actions: 'onlineHead' },
        ],
      },
    },
    /** The vCPU runs the onlining of the head block. */
    onlining: {
      on: {
        'memctl.block-added': { actions: 'enqueueBlock' },
        'job.done': { guard: 'isOurJob', target: 'next', actions: 'onlineHead' },
      },
    },
    next: {
      always: [{ guard: 'hasPending', target: 'waiting' }, { target: 'ready' }],
    },
  },
});
