/**
 * QEMU's hv-balloon device (hw/hyperv/hv-balloon.c): the host side of the Hyper-V Dynamic Memory
 * protocol as an XState statechart. docs/host-device.md explains it in our words;
 * docs/divergences.md lists where we differ on purpose.
 *
 * States. The 16 leaf states carry QEMU's names (QEMU's S_NO_CHANGE pseudo-state is "no
 * transition"). They are grouped: `receiving` holds every state in which QEMU reads packets, and
 * inside it `init`, `balloon`, `unballoon` and `hotAdd` group the flows. One extra node,
 * `balloon.transactionEnd`, is a transient choice state: the end of a balloon transaction goes to
 * S_BALLOON_RB_WAIT or S_IDLE depending on balloon_diff AFTER the response's pages were recorded,
 * which a guard evaluated before the actions cannot know in general. When balloon_diff exceeds all
 * the pages the response names, it stays positive whatever is recorded, and the response goes to
 * S_BALLOON_RB_WAIT directly (one microstep instead of two; the same actions, trace and state).
 *
 * Event loop. QEMU runs one loop (hv_balloon_event_loop) on every notification, target change,
 * open, close, timer and reset: run the current state's handler, then receive packets one at a time
 * until one changes the state, then repeat while anything changed or anything was consumed. Here
 * each of QEMU's steps is one event the device sends itself (machines/hv-balloon-device/event-loop.ts):
 * `loop.run-handler`, sent only in the eight states that have a QEMU handler (S_IDLE, *_RB_WAIT,
 * *_POSTING, S_HOT_ADD_SETUP), and ONE event per inbound packet (DM_VERSION_REQUEST, ...,
 * DM_UNKNOWN), handled by the state the device is in at that moment. So packets are received in
 * exactly the states QEMU receives them in (including right after a handler moved the state, before
 * the new state's handler runs), and handlers run between packets exactly when QEMU runs them. The
 * loop's bookkeeping is no event: a step ends in the entry action of the state it moved to
 * (`enterState`, which first records QEMU's state in `context.state` and traces the change) or, if
 * it stayed, in the last action of its branch (`done`), and there the driver takes the next step.
 * The loop compares `context.state` to detect "the state changed".
 *
 * Model and effects. Small values live in context (assigned, JSON-clean); the four page-range trees,
 * the endpoint, the memory view and the loop bookkeeping live in `context.model`, which is mutated
 * in place and never copied (hv-balloon-device/context.ts). Effects (ring writes, host discards,
 * memslot mapping) run inside enqueueActions (their bodies: hv-balloon-device/steps.ts), when the
 * step is resolved, so their outcome (a failed send, a warning) is counted and emitted in the same
 * step. The loop driver's self-sends are plain custom actions.
 */
import { and, assign, emit, enqueueActions, setup } from 'xstate';
import { DYNMEM_PROTOCOL_VERSION_WIN10, DYNMEM_PROTOCOL_VERSION_WIN7, HOT_ADD_CHUNK_PAGES, POST_INIT_WAIT_MS } from '../protocol/constants';
import { versionValue, type DmCaps } from '../protocol/messages';
import { memdevWindow, memslotLimitOf } from './hv-balloon-device/config';
import type { HvBalloonContext, HvBalloonDeviceInput, HvBalloonEvent } from './hv-balloon-device/context';
import { enterLoop, newLoopBookkeeping, passThroughState, stateEntered, stepDone, type LoopSend } from './hv-balloon-device/event-loop';
import { newOurRange, planMemslots, plannedHotAddCount, remainingStart } from './hv-balloon-device/our-range';
import type { HvBalloonEmitted } from './hv-balloon-device/output';
import { RemovedPageTrees } from './hv-balloon-device/removed-pages';
import type { HvBalloonStateName } from './hv-balloon-device/states';
import * as steps from './hv-balloon-device/steps';
import { alignPages, clampedHotAddCount, handledPacket, ourRangeOrNew, pagesNamed, targetPlan } from './hv-balloon-device/steps';
import type { TargetPlan } from './hv-balloon-device/target';
import { emptyWarningCounters, MIN_MESSAGE_SIZE } from './hv-balloon-device/warnings';

export type { HvBalloonDeviceConfig } from './hv-balloon-device/config';
export type {
  DeviceEndpoint,
  HvBalloonContext,
  HvBalloonDeviceInput,
  HvBalloonEvent,
  HvBalloonModel,
  QmpU64,
  StatusReportData,
} from './hv-balloon-device/context';
export type { HvBalloonEmitted } from './hv-balloon-device/output';
export type { DmPacketEvent } from './hv-balloon-device/packets';
export type { HvBalloonStateName } from './hv-balloon-device/states';

const NO_CAPS: DmCaps = { balloon: false, hotAdd: false, hotAddAlignment: 0, hotRemove: false };

/** Bytes of the messages the host sends (QEMU reserves ring room for them before posting). */
const BALLOON_REQUEST_BYTES = 16;
const UNBALLOON_REQUEST_BYTES = 24;
const HOT_ADD_REQUEST_BYTES = 24;

/** The loop driver sends its steps to the device itself. */
function loopSend(self: { send(event: HvBalloonEvent): void }): LoopSend {
  return (event) => self.send(event);
}

/** The last action of every loop-step branch that stays in its state (event-loop.ts). */
const done = 'loopStepDone' as const;

/**
 * A step that moves the state to ring-wait state `name` and runs its handler in the same XState
 * step (event-loop.ts, "Two steps in one"): the state's entry as the loop sees it (the trace of the
 * change and the loop's bookkeeping; `context.state` is recorded by the entry of the state the
 * handler moves to), then the handler, which finds room and reserves `bytes`. The branch goes to
 * the posting state: as its target, or, from the posting state itself (a give-back stream), by
 * ending with that state's entry actions without leaving it.
 */
const throughRingWait = (name: HvBalloonStateName, bytes: number) =>
  [
    { type: 'traceStateChange', params: { name } },
    { type: 'passThroughState', params: { name } },
    { type: 'reserveRing', params: { bytes } },
  ] as const;

// ---- the machine --------------------------------------------------------------------------------

export const hvBalloonDeviceMachine = setup({
  types: {
    input: {} as HvBalloonDeviceInput,
    context: {} as HvBalloonContext,
    events: {} as HvBalloonEvent,
    emitted: {} as HvBalloonEmitted,
  },
  delays: {
    // QEMU HV_BALLOON_POST_INIT_WAIT on QEMU_CLOCK_VIRTUAL
    postInitWait: POST_INIT_WAIT_MS,
  },
  guards: {
    targetPagesPositive: ({ event }) => event.type === 'device.set-target' && event.targetPages > 0,
    // QEMU hv_balloon_handle_msg_size: msglen below sizeof the message
    packetTooShort: ({ event }) => {
      const p = handledPacket(event);
      return p !== undefined && (p.msglen < MIN_MESSAGE_SIZE[p.type] || (p.type !== 'DM_BALLOON_RESPONSE' && !p.message));
    },
    // QEMU: version accepted when 0x3 <= version <= 0x20000, compared as plain u32s
    versionAccepted: ({ event }) => {
      if (event.type !== 'DM_VERSION_REQUEST' || !event.message) return false;
      const v = versionValue(event.message.version);
      return v >= DYNMEM_PROTOCOL_VERSION_WIN7 && v <= DYNMEM_PROTOCOL_VERSION_WIN10;
    },
    statusReportsOff: ({ context }) => !context.config.statusReport,
    targetChanged: ({ context }) => context.targetChanged,
    targetPlanIs: ({ context }, params: { kind: TargetPlan['kind'] }) =>
      context.targetChanged && targetPlan(context).kind === params.kind,
    ringHasRoom: ({ context }, params: { bytes: number }) => context.model.endpoint.hasRoomFor(params.bytes),
    // For two loop steps in one XState step (event-loop.ts, "Two steps in one"): allowed (not
    // stepByStep); after a handler step, nothing to receive in between and room for the next
    // request once this one is sent.
    twoStepsInOne: ({ context }) => !context.model.stepByStep,
    nothingToReceive: ({ context }) => context.model.endpoint.nothingToReceive?.() === true,
    roomAfterSend: ({ context }, params: { bytes: number; next: number }) =>
      context.model.endpoint.hasRoomAfterSend?.(params.bytes, params.next) === true,
    // (An event read from the ring has wireRanges exactly when it has a message; checked first, the
    // message is not decoded.)
    balloonRangeCountMismatch: ({ event }) =>
      event.type === 'DM_BALLOON_RESPONSE' && (event.msglen < 16 + 8 * event.rangeCount || (!event.wireRanges && !event.message)),
    balloonResponseEmpty: ({ event }) => event.type === 'DM_BALLOON_RESPONSE' && event.rangeCount === 0,
    balloonResponseHasMore: ({ event }) => event.type === 'DM_BALLOON_RESPONSE' && event.morePages,
    balloonDiffLeft: ({ context }) => context.balloonDiff > 0,
    // A response can lower balloon_diff by at most the pages it names (recorded pages are a subset),
    // so if balloon_diff is larger, balloonDiffLeft holds after recording: transactionEnd is known.
    balloonDiffOutlastsResponse: ({ context, event }) => {
      if (event.type !== 'DM_BALLOON_RESPONSE') return false;
      const ranges = event.wireRanges ?? event.message?.ranges;
      return ranges !== undefined && context.balloonDiff > pagesNamed(ranges);
    },
    nothingBallooned: ({ context }) => context.model.trees.unballoonSource(context.ourRange !== undefined) === undefined,
    // QEMU decides the next state before sending: more_pages = what is left after this range
    unballoonMoreAfterThis: ({ context }) => {
      const source = context.model.trees.unballoonSource(context.ourRange !== undefined);
      if (!source) return false;
      const highest = source.tree.last();
      const popped = Math.min(highest?.pageCount ?? 0, context.unballoonDiff, HOT_ADD_CHUNK_PAGES);
      return context.unballoonDiff - popped > 0;
    },
    hotAddDiffLeft: ({ context }) => context.hotAddDiff > 0,
    noMemdev: ({ context }) => context.model.window === undefined,
    // QEMU hv_balloon_our_range_ensure: earlier reports inside the future window refuse the range
    ourRangeClash: ({ context }) =>
      context.ourRange === undefined && context.model.window !== undefined && context.model.trees.globalIntersects(context.model.window),
    hotAddStartUnaligned: ({ context }) => {
      const range = ourRangeOrNew(context);
      return range !== undefined && remainingStart(range) % alignPages(context) !== 0;
    },
    hotAddCountZero: ({ context }) => {
      const range = ourRangeOrNew(context);
      return range === undefined || plannedHotAddCount(range, context.hotAddDiff, alignPages(context)) === 0;
    },
    ourRangeGone: ({ context }) => context.ourRange === undefined,
    hotAddResponseContinues: ({ context, event }) => {
      if (event.type !== 'DM_MEM_HOT_ADD_RESPONSE' || !event.message) return false;
      const { result, pageCount } = event.message;
      if (result === 0 || pageCount < context.haCurrentCount) return false;
      return context.hotAddRange.pageCount - clampedHotAddCount(context, pageCount) > 0;
    },
    hotAddResponseShortfall: ({ context, event }) =>
      event.type === 'DM_MEM_HOT_ADD_RESPONSE' &&
      event.message !== undefined &&
      (event.message.result === 0 || event.message.pageCount < context.haCurrentCount),
  },
  actions: {
    // ---- bookkeeping ----
    // Every state's entry: record QEMU's state, trace the change, then end the step (or loop entry)
    // that moved the state, which takes the next loop step. Built-in actions defined once here:
    // resolving them allocates less than an enqueueActions, which builds its enqueue closures on
    // every run (and every state entry runs these).
    recordState: assign((_, params: { name: HvBalloonStateName }) => ({ state: params.name })),
    // QEMU trace hv_balloon_state_change("-> %s")
    traceStateChange: emit((_, params: { name: HvBalloonStateName }) => ({
      type: 'trace' as const,
      name: 'hv_balloon_state_change' as const,
      args: { to: params.name },
    })),
    loopStateEntered: ({ context, event, self }, params: { name: HvBalloonStateName }) =>
      stateEntered(context.model.loop, params.name, event, context.model.endpoint, loopSend(self)),
    // S_WAIT_RESET's entry, which is also the initial state: no trace when the state is already it.
    enterState: enqueueActions(({ context, event, enqueue, self }, params: { name: HvBalloonStateName }) => {
      if (context.state !== params.name) {
        enqueue.assign({ state: params.name });
        enqueue.emit({ type: 'trace', name: 'hv_balloon_state_change', args: { to: params.name } });
      }
      stateEntered(context.model.loop, params.name, event, context.model.endpoint, loopSend(self));
    }),
    // A ring-wait state's entry when its handler runs in the same step (see throughRingWait).
    passThroughState: ({ context, event }, params: { name: HvBalloonStateName }) =>
      passThroughState(context.model.loop, params.name, event, context.model.endpoint),
    // A loop step that stays in its state ends here (the last action of every such branch).
    loopStepDone: ({ context, event, self }) => stepDone(context.model.loop, context.state, event, context.model.endpoint, loopSend(self)),
    // Loop entry points: a transition that stays starts the loop at once; one that moves the
    // state starts it when the new state is entered.
    startLoop: ({ context, self }) => enterLoop(context.model.loop, context.state, context.model.endpoint, loopSend(self)),
    startLoopOnEntry: ({ context }) => {
      context.model.loop.startOnEntry = true;
    },

    // ---- lifecycle (QEMU open_channel / close_channel / vmdev_reset / reset hook / to_target) ----
    acceptOpen: ({ context }) => context.model.outbox.post('channel', { type: 'channel.open-accepted' }),
    refuseOpen: enqueueActions(steps.refuseOpen),
    forgetStatusReport: enqueueActions(steps.forgetStatusReport),
    vmdevReset: enqueueActions(steps.vmdevReset),
    freeOurRange: enqueueActions(steps.freeOurRange),
    setTarget: enqueueActions(steps.setTarget),

    // ---- negotiation ----
    replyToVersion: enqueueActions(steps.replyToVersion),
    acceptCaps: enqueueActions(steps.acceptCaps),
    warnTooShort: enqueueActions(steps.warnTooShort),
    warnUnexpected: enqueueActions(steps.warnUnexpected),
    warnUnknown: enqueueActions(steps.warnUnknown),
    recordStatusReport: enqueueActions(steps.recordStatusReport),

    // ---- IDLE: act on a new target ----
    latchTarget: enqueueActions(steps.latchTarget),

    // ---- ring space (QEMU vmbus_channel_reserve; on failure the guest signals when room is freed) ----
    reserveRing: ({ context }, params: { bytes: number }) => steps.reserveRing(context, params),

    // ---- balloon ----
    postBalloonRequest: enqueueActions(steps.postBalloonRequest),
    traceIncomingBalloon: enqueueActions(steps.traceIncomingBalloon),
    warnRangeCount: enqueueActions(steps.warnRangeCount),
    endBalloonAtMinimum: enqueueActions(steps.endBalloonAtMinimum),
    recordBalloonResponse: enqueueActions(steps.recordBalloonResponse),
    incrementTransId: enqueueActions(steps.incrementTransId),

    // ---- unballoon ----
    reportNothingBallooned: enqueueActions(steps.reportNothingBallooned),
    postUnballoonRequest: enqueueActions(steps.postUnballoonRequest),
    traceIncomingUnballoon: enqueueActions(steps.traceIncomingUnballoon),

    // ---- hot-add ----
    reportBackendReturned: enqueueActions(steps.reportBackendReturned),
    ensureOurRange: enqueueActions(steps.ensureOurRange),
    reportHotAddUnaligned: enqueueActions(steps.reportHotAddUnaligned),
    planHotAdd: enqueueActions(steps.planHotAdd),
    postHotAddRequest: enqueueActions(steps.postHotAddRequest),
    recordHotAddResponse: enqueueActions(steps.recordHotAddResponse),
  },
}).createMachine({
  id: 'hvBalloon',
  context: ({ input }) => {
    const memdev = input.config.memdev;
    const window = memdev ? memdevWindow(memdev) : undefined;
    return {
      model: {
        endpoint: input.endpoint,
        memory: input.memory,
        outbox: input.outbox,
        trees: new RemovedPageTrees(),
        window,
        memslotPlan: memdev && window ? planMemslots(window.pageCount, memslotLimitOf(memdev)) : undefined,
        loop: newLoopBookkeeping(),
        stepByStep: input.stepByStep === true,
      },
      config: input.config,
      state: 'S_WAIT_RESET',
      caps: { ...NO_CAPS },
      target: 0,
      targetChanged: false,
      balloonDiff: 0,
      unballoonDiff: 0,
      hotAddDiff: 0,
      hotAddRange: { startPage: 0, pageCount: 0 },
      haCurrentCount: 0,
      transId: 0,
      removedGuestCtr: 0,
      removedBothCtr: 0,
      ourRange: undefined,
      statusReport: { received: false, committed: 0, available: 0 },
      counters: emptyWarningCounters(),
    };
  },
  // QEMU realize: the device starts in S_WAIT_RESET (the VM resets it at power-on).
  initial: 'S_WAIT_RESET',
  on: {
    'device.notify': { actions: 'startLoop' },
    'device.set-target': [{ guard: 'targetPagesPositive', actions: ['setTarget', 'startLoop'] }, {}],
    'device.open-request': { actions: 'refuseOpen' },
    'device.close-channel': { target: '#S_WAIT_RESET', actions: ['forgetStatusReport', 'startLoopOnEntry'] },
    'device.reset': { target: '#S_POST_RESET_CLOSED', actions: ['vmdevReset', 'startLoopOnEntry'] },
    'system.reset': { actions: 'freeOurRange' },
  },
  states: {
    S_WAIT_RESET: {
      id: 'S_WAIT_RESET',
      entry: { type: 'enterState', params: { name: 'S_WAIT_RESET' } },
      on: {
        // Already here: QEMU's state_set sees no change.
        'device.close-channel': { actions: ['forgetStatusReport', 'startLoop'] },
      },
    },
    S_POST_RESET_CLOSED: {
      id: 'S_POST_RESET_CLOSED',
      entry: [{ type: 'recordState', params: { name: 'S_POST_RESET_CLOSED' } }, { type: 'traceStateChange', params: { name: 'S_POST_RESET_CLOSED' } }, { type: 'loopStateEntered', params: { name: 'S_POST_RESET_CLOSED' } }],
      on: {
        // QEMU vmdev_reset does nothing when the device is already reset.
        'device.reset': {},
        'device.open-request': { target: '#S_VERSION', actions: ['acceptOpen', 'startLoopOnEntry'] },
      },
    },
    receiving: {
      initial: 'init',
      // Packets that reach a state which does not expect them (QEMU: warn, ignore, no reply).
      on: {
        DM_VERSION_REQUEST: { actions: ['warnUnexpected', done] },
        DM_CAPABILITIES_REPORT: { actions: ['warnUnexpected', done] },
        DM_BALLOON_RESPONSE: { actions: ['warnUnexpected', done] },
        DM_UNBALLOON_RESPONSE: { actions: ['warnUnexpected', done] },
        DM_MEM_HOT_ADD_RESPONSE: { actions: ['warnUnexpected', done] },
        // QEMU: status reports are taken in every receiving state and never change it.
        DM_STATUS_REPORT: [
          { guard: 'packetTooShort', actions: ['warnTooShort', done] },
          { guard: 'statusReportsOff', actions: done },
          { actions: ['recordStatusReport', done] },
        ],
        DM_UNKNOWN: { actions: ['warnUnknown', done] },
      },
      states: {
        init: {
          initial: 'S_VERSION',
          states: {
            S_VERSION: {
              id: 'S_VERSION',
              entry: [{ type: 'recordState', params: { name: 'S_VERSION' } }, { type: 'traceStateChange', params: { name: 'S_VERSION' } }, { type: 'loopStateEntered', params: { name: 'S_VERSION' } }],
              on: {
                DM_VERSION_REQUEST: [
                  { guard: 'packetTooShort', actions: ['warnTooShort', done] },
                  { guard: 'versionAccepted', target: 'S_CAPS', actions: { type: 'replyToVersion', params: { accepted: true } } },
                  // Rejected: stay, the guest may try another version.
                  { actions: [{ type: 'replyToVersion', params: { accepted: false } }, done] },
                ],
              },
            },
            S_CAPS: {
              id: 'S_CAPS',
              entry: [{ type: 'recordState', params: { name: 'S_CAPS' } }, { type: 'traceStateChange', params: { name: 'S_CAPS' } }, { type: 'loopStateEntered', params: { name: 'S_CAPS' } }],
              on: {
                DM_CAPABILITIES_REPORT: [
                  { guard: 'packetTooShort', actions: ['warnTooShort', done] },
                  { target: 'S_POST_INIT_WAIT', actions: 'acceptCaps' },
                ],
              },
            },
            S_POST_INIT_WAIT: {
              id: 'S_POST_INIT_WAIT',
              entry: [{ type: 'recordState', params: { name: 'S_POST_INIT_WAIT' } }, { type: 'traceStateChange', params: { name: 'S_POST_INIT_WAIT' } }, { type: 'loopStateEntered', params: { name: 'S_POST_INIT_WAIT' } }],
              // QEMU: Windows crashes on DM requests right after boot; wait 50 s of virtual time.
              after: { postInitWait: { target: '#S_IDLE', actions: 'startLoopOnEntry' } },
            },
          },
        },
        S_IDLE: {
          id: 'S_IDLE',
          entry: [{ type: 'recordState', params: { name: 'S_IDLE' } }, { type: 'traceStateChange', params: { name: 'S_IDLE' } }, { type: 'loopStateEntered', params: { name: 'S_IDLE' } }],
          on: {
            // QEMU hv_balloon_idle_state: only a changed target does anything; unballoon before hot-add.
            'loop.run-handler': [
              { guard: { type: 'targetPlanIs', params: { kind: 'unballoon' } }, target: '#S_UNBALLOON_RB_WAIT', actions: 'latchTarget' },
              { guard: { type: 'targetPlanIs', params: { kind: 'hotAdd' } }, target: '#S_HOT_ADD_SETUP', actions: 'latchTarget' },
              { guard: { type: 'targetPlanIs', params: { kind: 'balloon' } }, target: '#S_BALLOON_RB_WAIT', actions: 'latchTarget' },
              { guard: 'targetChanged', actions: ['latchTarget', done] },
              { actions: done },
            ],
          },
        },
        balloon: {
          initial: 'S_BALLOON_RB_WAIT',
          states: {
            S_BALLOON_RB_WAIT: {
              id: 'S_BALLOON_RB_WAIT',
              entry: [{ type: 'recordState', params: { name: 'S_BALLOON_RB_WAIT' } }, { type: 'traceStateChange', params: { name: 'S_BALLOON_RB_WAIT' } }, { type: 'loopStateEntered', params: { name: 'S_BALLOON_RB_WAIT' } }],
              on: {
                'loop.run-handler': [
                  {
                    guard: { type: 'ringHasRoom', params: { bytes: BALLOON_REQUEST_BYTES } },
                    target: 'S_BALLOON_POSTING',
                    actions: { type: 'reserveRing', params: { bytes: BALLOON_REQUEST_BYTES } },
                  },
                  // Full: the failed reserve records pending_send_sz; the guest's signal retries.
                  { actions: [{ type: 'reserveRing', params: { bytes: BALLOON_REQUEST_BYTES } }, done] },
                ],
              },
            },
            S_BALLOON_POSTING: {
              id: 'S_BALLOON_POSTING',
              entry: [{ type: 'recordState', params: { name: 'S_BALLOON_POSTING' } }, { type: 'traceStateChange', params: { name: 'S_BALLOON_POSTING' } }, { type: 'loopStateEntered', params: { name: 'S_BALLOON_POSTING' } }],
              on: { 'loop.run-handler': { target: 'S_BALLOON_REPLY_WAIT', actions: 'postBalloonRequest' } },
            },
            S_BALLOON_REPLY_WAIT: {
              id: 'S_BALLOON_REPLY_WAIT',
              entry: [{ type: 'recordState', params: { name: 'S_BALLOON_REPLY_WAIT' } }, { type: 'traceStateChange', params: { name: 'S_BALLOON_REPLY_WAIT' } }, { type: 'loopStateEntered', params: { name: 'S_BALLOON_REPLY_WAIT' } }],
              on: {
                DM_BALLOON_RESPONSE: [
                  { guard: 'packetTooShort', actions: ['warnTooShort', done] },
                  // QEMU traces the response, then drops it whole if range_count does not fit msglen.
                  { guard: 'balloonRangeCountMismatch', actions: ['traceIncomingBalloon', 'warnRangeCount', done] },
                  { guard: 'balloonResponseEmpty', target: '#S_IDLE', actions: ['traceIncomingBalloon', 'endBalloonAtMinimum'] },
                  // QEMU: trace the response, record its ranges; the last one of a request also ends the transaction.
                  { guard: 'balloonResponseHasMore', actions: [{ type: 'recordBalloonResponse', params: { endsTransaction: false } }, done] },
                  // ...and when the ring has room, S_BALLOON_RB_WAIT's handler runs in this step.
                  {
                    guard: and(['twoStepsInOne', 'balloonDiffOutlastsResponse', { type: 'ringHasRoom', params: { bytes: BALLOON_REQUEST_BYTES } }]),
                    target: 'S_BALLOON_POSTING',
                    actions: [
                      { type: 'recordBalloonResponse', params: { endsTransaction: true } },
                      ...throughRingWait('S_BALLOON_RB_WAIT', BALLOON_REQUEST_BYTES),
                    ],
                  },
                  {
                    guard: 'balloonDiffOutlastsResponse',
                    target: 'S_BALLOON_RB_WAIT',
                    actions: { type: 'recordBalloonResponse', params: { endsTransaction: true } },
                  },
                  { target: 'transactionEnd', actions: { type: 'recordBalloonResponse', params: { endsTransaction: true } } },
                ],
              },
            },
            // Transient choice (not a QEMU state): balloon_diff is known only after the pages were recorded.
            transactionEnd: {
              always: [{ guard: 'balloonDiffLeft', target: 'S_BALLOON_RB_WAIT' }, { target: '#S_IDLE' }],
            },
          },
        },
        unballoon: {
          initial: 'S_UNBALLOON_RB_WAIT',
          states: {
            S_UNBALLOON_RB_WAIT: {
              id: 'S_UNBALLOON_RB_WAIT',
              entry: [{ type: 'recordState', params: { name: 'S_UNBALLOON_RB_WAIT' } }, { type: 'traceStateChange', params: { name: 'S_UNBALLOON_RB_WAIT' } }, { type: 'loopStateEntered', params: { name: 'S_UNBALLOON_RB_WAIT' } }],
              on: {
                'loop.run-handler': [
                  {
                    guard: { type: 'ringHasRoom', params: { bytes: UNBALLOON_REQUEST_BYTES } },
                    target: 'S_UNBALLOON_POSTING',
                    actions: { type: 'reserveRing', params: { bytes: UNBALLOON_REQUEST_BYTES } },
                  },
                  { actions: [{ type: 'reserveRing', params: { bytes: UNBALLOON_REQUEST_BYTES } }, done] },
                ],
              },
            },
            S_UNBALLOON_POSTING: {
              id: 'S_UNBALLOON_POSTING',
              entry: [{ type: 'recordState', params: { name: 'S_UNBALLOON_POSTING' } }, { type: 'traceStateChange', params: { name: 'S_UNBALLOON_POSTING' } }, { type: 'loopStateEntered', params: { name: 'S_UNBALLOON_POSTING' } }],
              on: {
                'loop.run-handler': [
                  // QEMU stays here (until a reset): a partial request may already be out.
                  { guard: 'nothingBallooned', actions: ['reportNothingBallooned', done] },
                  // A stream of requests: with nothing to receive and room for the next, the next
                  // S_UNBALLOON_RB_WAIT handler runs in this step, back to S_UNBALLOON_POSTING. The
                  // state is not left and re-entered: its entry's trace and loop step are the last
                  // actions, and context.state already says S_UNBALLOON_POSTING (the pass through
                  // S_UNBALLOON_RB_WAIT is not recorded, as for every pass-through).
                  {
                    guard: and([
                      'twoStepsInOne',
                      'unballoonMoreAfterThis',
                      'nothingToReceive',
                      { type: 'roomAfterSend', params: { bytes: UNBALLOON_REQUEST_BYTES, next: UNBALLOON_REQUEST_BYTES } },
                    ]),
                    actions: [
                      'postUnballoonRequest',
                      ...throughRingWait('S_UNBALLOON_RB_WAIT', UNBALLOON_REQUEST_BYTES),
                      { type: 'traceStateChange', params: { name: 'S_UNBALLOON_POSTING' } },
                      { type: 'loopStateEntered', params: { name: 'S_UNBALLOON_POSTING' } },
                    ],
                  },
                  { guard: 'unballoonMoreAfterThis', target: 'S_UNBALLOON_RB_WAIT', actions: 'postUnballoonRequest' },
                  { target: 'S_UNBALLOON_REPLY_WAIT', actions: 'postUnballoonRequest' },
                ],
              },
            },
            S_UNBALLOON_REPLY_WAIT: {
              id: 'S_UNBALLOON_REPLY_WAIT',
              entry: [{ type: 'recordState', params: { name: 'S_UNBALLOON_REPLY_WAIT' } }, { type: 'traceStateChange', params: { name: 'S_UNBALLOON_REPLY_WAIT' } }, { type: 'loopStateEntered', params: { name: 'S_UNBALLOON_REPLY_WAIT' } }],
              on: {
                DM_UNBALLOON_RESPONSE: [
                  { guard: 'packetTooShort', actions: ['warnTooShort', done] },
                  { guard: 'hotAddDiffLeft', target: '#S_HOT_ADD_SETUP', actions: ['traceIncomingUnballoon', 'incrementTransId'] },
                  { target: '#S_IDLE', actions: ['traceIncomingUnballoon', 'incrementTransId'] },
                ],
              },
            },
          },
        },
        hotAdd: {
          initial: 'S_HOT_ADD_SETUP',
          states: {
            S_HOT_ADD_SETUP: {
              id: 'S_HOT_ADD_SETUP',
              entry: [{ type: 'recordState', params: { name: 'S_HOT_ADD_SETUP' } }, { type: 'traceStateChange', params: { name: 'S_HOT_ADD_SETUP' } }, { type: 'loopStateEntered', params: { name: 'S_HOT_ADD_SETUP' } }],
              on: {
                'loop.run-handler': [
                  { guard: 'noMemdev', target: '#S_IDLE' },
                  { guard: 'ourRangeClash', target: '#S_IDLE', actions: 'reportBackendReturned' },
                  { guard: 'hotAddStartUnaligned', target: '#S_IDLE', actions: ['ensureOurRange', 'reportHotAddUnaligned'] },
                  { guard: 'hotAddCountZero', target: '#S_IDLE', actions: 'ensureOurRange' },
                  { target: 'S_HOT_ADD_RB_WAIT', actions: ['ensureOurRange', 'planHotAdd'] },
                ],
              },
            },
            S_HOT_ADD_RB_WAIT: {
              id: 'S_HOT_ADD_RB_WAIT',
              entry: [{ type: 'recordState', params: { name: 'S_HOT_ADD_RB_WAIT' } }, { type: 'traceStateChange', params: { name: 'S_HOT_ADD_RB_WAIT' } }, { type: 'loopStateEntered', params: { name: 'S_HOT_ADD_RB_WAIT' } }],
              on: {
                'loop.run-handler': [
                  {
                    guard: { type: 'ringHasRoom', params: { bytes: HOT_ADD_REQUEST_BYTES } },
                    target: 'S_HOT_ADD_POSTING',
                    actions: { type: 'reserveRing', params: { bytes: HOT_ADD_REQUEST_BYTES } },
                  },
                  { actions: [{ type: 'reserveRing', params: { bytes: HOT_ADD_REQUEST_BYTES } }, done] },
                ],
              },
            },
            S_HOT_ADD_POSTING: {
              id: 'S_HOT_ADD_POSTING',
              entry: [{ type: 'recordState', params: { name: 'S_HOT_ADD_POSTING' } }, { type: 'traceStateChange', params: { name: 'S_HOT_ADD_POSTING' } }, { type: 'loopStateEntered', params: { name: 'S_HOT_ADD_POSTING' } }],
              on: { 'loop.run-handler': { target: 'S_HOT_ADD_REPLY_WAIT', actions: 'postHotAddRequest' } },
            },
            S_HOT_ADD_REPLY_WAIT: {
              id: 'S_HOT_ADD_REPLY_WAIT',
              entry: [{ type: 'recordState', params: { name: 'S_HOT_ADD_REPLY_WAIT' } }, { type: 'traceStateChange', params: { name: 'S_HOT_ADD_REPLY_WAIT' } }, { type: 'loopStateEntered', params: { name: 'S_HOT_ADD_REPLY_WAIT' } }],
              on: {
                DM_MEM_HOT_ADD_RESPONSE: [
                  // QEMU asserts the range exists; only a system reset mid-operation can remove it here.
                  { guard: 'ourRangeGone', target: '#S_IDLE', actions: 'incrementTransId' },
                  { guard: 'packetTooShort', actions: ['warnTooShort', done] },
                  { guard: 'hotAddResponseShortfall', target: '#S_IDLE', actions: 'recordHotAddResponse' },
                  {
                    guard: and(['twoStepsInOne', 'hotAddResponseContinues', { type: 'ringHasRoom', params: { bytes: HOT_ADD_REQUEST_BYTES } }]),
                    target: 'S_HOT_ADD_POSTING',
                    actions: ['recordHotAddResponse', ...throughRingWait('S_HOT_ADD_RB_WAIT', HOT_ADD_REQUEST_BYTES)],
                  },
                  { guard: 'hotAddResponseContinues', target: 'S_HOT_ADD_RB_WAIT', actions: 'recordHotAddResponse' },
                  { target: '#S_IDLE', actions: 'recordHotAddResponse' },
                ],
              },
            },
          },
        },
      },
    },
  },
});

export type HvBalloonDeviceMachine = typeof hvBalloonDeviceMachine;
