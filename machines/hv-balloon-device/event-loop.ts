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
 * handler runs (so e.g. a packet may arrive "in S_UNBALLOON_POSTING"). Each step below is one event
 * the device sends itself, hence one XState macrostep:
 *
 *   loop.iterate      -> remember the state, send loop.run-handler + loop.handler-done
 *   loop.run-handler  -> handled only by the states that have a QEMU handler (their transitions)
 *   loop.handler-done -> note whether the handler changed the state; start receiving
 *   <packet event>    -> one per packet (DM_* events), handled by the state the device is in
 *   loop.packet-done  -> if that packet changed the state: recv_done and maybe iterate again;
 *                        otherwise take the next packet
 *
 * The bookkeeping is mutable runtime state (not part of the protocol state), so it lives in the
 * model object, not in the snapshot's context.
 */
import type { HvBalloonStateName } from './states';
import { isReceivingState } from './states';
import { packetEvent, type DmPacketEvent } from './packets';
import type { RingPacket } from '../vmbus-ring';

export type LoopEvent =
  | { type: 'loop.iterate' }
  | { type: 'loop.run-handler' }
  | { type: 'loop.handler-done' }
  | { type: 'loop.packet-done' };

export interface LoopBookkeeping {
  /** A loop is in progress (its next step is queued in the device's mailbox). */
  running: boolean;
  /** A loop entry arrived while one was running: go round once more at the end. */
  rerun: boolean;
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

/** A loop entry point (notify, set-target, open, close, timer, reset): run the loop unless it runs. */
export function enterLoop(loop: LoopBookkeeping, send: LoopSend): void {
  if (loop.running) {
    loop.rerun = true;
    return;
  }
  loop.running = true;
  send({ type: 'loop.iterate' });
}

export function beginIteration(loop: LoopBookkeeping, state: HvBalloonStateName, send: LoopSend): void {
  loop.iterations++;
  loop.iterationStart = state;
  send({ type: 'loop.run-handler' });
  send({ type: 'loop.handler-done' });
}

export function afterHandler(loop: LoopBookkeeping, state: HvBalloonStateName, channel: LoopChannel, send: LoopSend): void {
  loop.handlerChanged = state !== loop.iterationStart;
  // QEMU hv_balloon_recv_channel: no receiving in WAIT_RESET / POST_RESET_CLOSED or on a closed channel.
  if (!isReceivingState(state) || !channel.isOpen) {
    finishIteration(loop, false, 0, send);
    return;
  }
  loop.receiveStart = state;
  takeNextPacket(loop, channel, send);
}

export function afterPacket(loop: LoopBookkeeping, state: HvBalloonStateName, channel: LoopChannel, send: LoopSend): void {
  // QEMU: stop after the first packet that changes the state, so the new state's handler runs next.
  if (state !== loop.receiveStart) {
    finishIteration(loop, true, channel.receiveDone(), send);
    return;
  }
  takeNextPacket(loop, channel, send);
}

function takeNextPacket(loop: LoopBookkeeping, channel: LoopChannel, send: LoopSend): void {
  for (;;) {
    const packet = channel.receive();
    if (packet === undefined) {
      finishIteration(loop, false, channel.receiveDone(), send);
      return;
    }
    const event = packetEvent(packet.payload);
    // QEMU drops a payload shorter than the DM header without a word and takes the next one.
    if (event === undefined) continue;
    loop.packets++;
    send(event);
    send({ type: 'loop.packet-done' });
    return;
  }
}

function finishIteration(loop: LoopBookkeeping, receiveChanged: boolean, bytesReceived: number, send: LoopSend): void {
  if (loop.handlerChanged || receiveChanged || bytesReceived > 0 || loop.rerun) {
    loop.rerun = false;
    send({ type: 'loop.iterate' });
    return;
  }
  loop.running = false;
}
