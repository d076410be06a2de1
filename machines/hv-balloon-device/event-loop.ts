/**
 * QEMU's hv-balloon event loop (hv-balloon.c hv_balloon_event_loop) driven by events the device
 * sends itself. QEMU's loop is:
 *
 *   do {
 *     run the current state's handler            -> changed1 (state differs afterwards)
 *     if receiving: take packets one by one until one changes the state, then recv_done
 *                                                -> changed2 || bytes consumed > 0
 *   } while (changed1 || changed2 || bytes > 0)
 *
 * Note that packets are received right after a handler moved the state, BEFORE the new state's
 * handler runs (so e.g. a packet may arrive "in S_UNBALLOON_POSTING").
 *
 * Only the steps that are QEMU's own work are events (each its own XState macrostep):
 *
 *   loop.run-handler  -> sent only in the eight states that have a QEMU handler; their
 *                        transitions are QEMU's handlers
 *   <packet event>    -> one per packet (DM_* events), handled by the state the device is in
 *
 * The bookkeeping between them (did the handler move the state, receive the next packet or stop,
 * recv_done, iterate again) is no event of its own: it runs at the end of the step that precedes
 * it, once the step's state is known: in the entry action of the state a step moved to, or in the
 * last action of a step that stayed (`stepDone`). Each step's outcome decides the next step, in
 * QEMU's order; nothing else can reach the device in between (the bus delivers one event at a time
 * and the device drains its own mailbox first).
 *
 * Two steps in one. When a step moves the state into a ring-wait state (S_*_RB_WAIT), the loop's
 * next step is that state's handler: always after a packet step (QEMU stops receiving once a packet
 * changed the state), and after a handler step when there is nothing to receive in between. The
 * chart then runs the ring-wait handler in the same XState step (its branches that use
 * `passThroughState`): the ring-wait state's entry (its trace and this bookkeeping, which captures
 * the handler step instead of sending it) and the handler's actions, then the entry of the state
 * the handler moves to. The trace, the wire and the loop's counters are those of the two steps, in
 * the same order: a ring-wait handler only reserves ring space, so nothing it does is published
 * before the first step's trace (XState publishes a step's emitted events when the step ends; a
 * packet is recorded when it is written). Only the snapshot in between is not published.
 *
 * The bookkeeping is mutable runtime state (not part of the protocol state), so it lives in the
 * model object, not in the snapshot's context.
 */
import type { HvBalloonStateName } from './states';
import { HANDLER_STATES, isReceivingState } from './states';
import { packetEvent, type DmPacketEvent } from './packets';
import type { RingPacket } from '../vmbus-ring';

export type LoopEvent = { type: 'loop.run-handler' };

/** Which step of the loop the device has sent itself and not finished yet. */
type LoopPhase = 'none' | 'handler' | 'packet';

export interface LoopBookkeeping {
  /** A loop is in progress (its next step is queued in the device's mailbox). */
  running: boolean;
  /** A loop entry arrived while one was running: go round once more at the end. */
  rerun: boolean;
  /** A loop entry of a transition that moves the state: the loop starts once the new state is entered. */
  startOnEntry: boolean;
  /** The step in flight. */
  phase: LoopPhase;
  /** The handler step in flight runs in the XState step under way, whatever its event (passThroughState). */
  handlerInStep: boolean;
  iterationStart: HvBalloonStateName;
  handlerChanged: boolean;
  receiveStart: HvBalloonStateName;
  /** Steps taken (iterations, handlers, packets), for our own counters. */
  iterations: number;
  packets: number;
}

export function newLoopBookkeeping(): LoopBookkeeping {
  return {
    running: false,
    rerun: false,
    startOnEntry: false,
    phase: 'none',
    handlerInStep: false,
    iterationStart: 'S_WAIT_RESET',
    handlerChanged: false,
    receiveStart: 'S_WAIT_RESET',
    iterations: 0,
    packets: 0,
  };
}

/** What the driver needs from the channel endpoint. */
export interface LoopChannel {
  readonly isOpen: boolean;
  receive(): RingPacket | undefined;
  receiveDone(): number;
}

export type LoopSend = (event: LoopEvent | DmPacketEvent) => void;

/** A loop entry point (notify, set-target, open, close, timer, reset) in state `state`: run the loop unless it runs. */
export function enterLoop(loop: LoopBookkeeping, state: HvBalloonStateName, channel: LoopChannel, send: LoopSend): void {
  if (loop.running) {
    loop.rerun = true;
    return;
  }
  loop.running = true;
  iterate(loop, state, channel, send);
}

/**
 * A state was entered (`state`). If the step in flight caused it (`stepEvent` is the event being
 * handled), that step is done; if a loop entry point moved the state, the loop starts here.
 */
export function stateEntered(loop: LoopBookkeeping, state: HvBalloonStateName, stepEvent: { type: string }, channel: LoopChannel, send: LoopSend): void {
  if (isStepEvent(loop, stepEvent)) {
    stepDone(loop, state, stepEvent, channel, send);
  } else if (loop.startOnEntry) {
    loop.startOnEntry = false;
    enterLoop(loop, state, channel, send);
  }
}

/** The step in flight (handler or packet, identified by `stepEvent`) ended in `state`: take the next step. */
export function stepDone(loop: LoopBookkeeping, state: HvBalloonStateName, stepEvent: { type: string }, channel: LoopChannel, send: LoopSend): void {
  if (!isStepEvent(loop, stepEvent)) return;
  if (loop.phase === 'handler') {
    loop.phase = 'none';
    loop.handlerInStep = false;
    afterHandler(loop, state, channel, send);
  } else {
    loop.phase = 'none';
    afterPacket(loop, state, channel, send);
  }
}

/**
 * The step in flight moved the state to `ringWait`, which was entered, and the chart runs that
 * state's handler in the same XState step (see "Two steps in one" above): the loop's bookkeeping of
 * the entry, except that the handler step it takes next is not sent. Throws if the loop would have
 * taken anything else next (the guard that chose the branch was wrong).
 */
export function passThroughState(loop: LoopBookkeeping, ringWait: HvBalloonStateName, stepEvent: { type: string }, channel: LoopChannel): void {
  let next: LoopEvent | DmPacketEvent | undefined;
  stateEntered(loop, ringWait, stepEvent, channel, (event) => {
    next = event;
  });
  if (next?.type !== 'loop.run-handler') {
    throw new Error(`hv-balloon loop: ${ringWait}'s handler was to run in this step, but the loop took ${next?.type ?? 'no step'} next`);
  }
  loop.handlerInStep = true;
}

function isStepEvent(loop: LoopBookkeeping, event: { type: string }): boolean {
  if (loop.phase === 'handler') return event.type === 'loop.run-handler' || loop.handlerInStep;
  return loop.phase === 'packet' && event.type.startsWith('DM_');
}

function iterate(loop: LoopBookkeeping, state: HvBalloonStateName, channel: LoopChannel, send: LoopSend): void {
  loop.iterations++;
  loop.iterationStart = state;
  // A state without a QEMU handler: the handler step changes nothing, go straight to receiving.
  if (!HANDLER_STATES.has(state)) {
    afterHandler(loop, state, channel, send);
    return;
  }
  loop.phase = 'handler';
  send({ type: 'loop.run-handler' });
}

function afterHandler(loop: LoopBookkeeping, state: HvBalloonStateName, channel: LoopChannel, send: LoopSend): void {
  loop.handlerChanged = state !== loop.iterationStart;
  // QEMU hv_balloon_recv_channel: no receiving in WAIT_RESET / POST_RESET_CLOSED or on a closed channel.
  if (!isReceivingState(state) || !channel.isOpen) {
    finishIteration(loop, state, false, 0, channel, send);
    return;
  }
  loop.receiveStart = state;
  takeNextPacket(loop, state, channel, send);
}

function afterPacket(loop: LoopBookkeeping, state: HvBalloonStateName, channel: LoopChannel, send: LoopSend): void {
  // QEMU: stop after the first packet that changes the state, so the new state's handler runs next.
  if (state !== loop.receiveStart) {
    finishIteration(loop, state, true, channel.receiveDone(), channel, send);
    return;
  }
  takeNextPacket(loop, state, channel, send);
}

function takeNextPacket(loop: LoopBookkeeping, state: HvBalloonStateName, channel: LoopChannel, send: LoopSend): void {
  for (;;) {
    const packet = channel.receive();
    if (packet === undefined) {
      finishIteration(loop, state, false, channel.receiveDone(), channel, send);
      return;
    }
    const event = packetEvent(packet.payload);
    // QEMU drops a payload shorter than the DM header without a word and takes the next one.
    if (event === undefined) continue;
    loop.packets++;
    loop.phase = 'packet';
    send(event);
    return;
  }
}

function finishIteration(
  loop: LoopBookkeeping,
  state: HvBalloonStateName,
  receiveChanged: boolean,
  bytesReceived: number,
  channel: LoopChannel,
  send: LoopSend,
): void {
  if (loop.handlerChanged || receiveChanged || bytesReceived > 0 || loop.rerun) {
    loop.rerun = false;
    iterate(loop, state, channel, send);
    return;
  }
  loop.running = false;
}
