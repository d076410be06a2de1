/** The DM guest driver's guards: every decision of its chart, by name. */
import { stateIn } from 'xstate';
import type { DmMessage } from '../../protocol/messages';
import { UNIT_2M, VERSION_SEQUENCE } from './driver-context';
import type { DmGuestDriverContext, DmGuestDriverEvent } from './driver-types';

type GuardArgs = { context: DmGuestDriverContext; event: DmGuestDriverEvent };

export const driverGuards = {
  openSucceeded: ({ event }: GuardArgs) => event.type === 'guest.channel-opened' && event.ok,
  accepted: ({ event }: GuardArgs) =>
    (event.type === 'guest.version-response' || event.type === 'guest.caps-response') && event.accepted,
  hasNextVersion: ({ context }: GuardArgs) => context.connection.versionAttempt < VERSION_SEQUENCE.length - 1,
  channelListening: stateIn('#dmGuestDriver.connection.connected'),
  ringEmpty: ({ context }: GuardArgs) => context.receive.read?.kind === 'empty',
  badPacket: ({ context }: GuardArgs) => context.receive.read?.kind === 'bad',
  messageIs: ({ context }: GuardArgs, params: { type: DmMessage['type'] }) => {
    const read = context.receive.read;
    return read?.kind === 'packet' && read.message.type === params.type;
  },
  initialized: stateIn('#dmGuestDriver.connection.connected.initialized'),
  inVersionNegotiation: stateIn('#dmGuestDriver.connection.connected.version'),
  inCapabilitiesExchange: stateIn('#dmGuestDriver.connection.connected.capabilities'),
  receiveJobDone: ({ context, event }: GuardArgs) => event.type === 'job.done' && event.tag === context.receive.job,
  workJobDone: ({ context, event }: GuardArgs) => event.type === 'job.done' && event.tag === context.work.job,
  statusWakeups: ({ context }: GuardArgs) => context.status.wakeups > 0,
  hibernating: ({ context }: GuardArgs) => context.profile.hibernation,
  requestTooLarge: ({ context, event }: GuardArgs) =>
    event.type === 'guest.balloon-request' &&
    context.profile.maxBalloonRequestPages !== null &&
    event.numPages > context.profile.maxBalloonRequestPages,
  nextIsBalloon: ({ context }: GuardArgs) => context.work.queue[0]?.kind === 'balloon',
  nextIsHotAdd: ({ context }: GuardArgs) => context.work.queue[0]?.kind === 'hotAdd',
  /** Linux balloon_up: a 2 MiB round that got nothing switches to 4 KiB units and retries unsent. */
  nothingIn2MiBUnits: ({ context }: GuardArgs) =>
    context.work.balloonUp?.ranges.length === 0 &&
    context.profile.balloonAllocation === 'units' &&
    context.work.balloonUp.unitPages === UNIT_2M,
  ringFull: ({ context }: GuardArgs) => (context.work.balloonUp?.sendResult ?? 0) < 0,
  sendFailed: ({ context }: GuardArgs) => context.work.balloonUp?.sendResult === 0,
  lastMessage: ({ context }: GuardArgs) => context.work.balloonUp?.last === true,
  chunksToAdd: ({ context }: GuardArgs) => (context.hotAdd.operation?.chunksLeft ?? 0) > 0,
  onlineCompleted: ({ context }: GuardArgs) => context.work.onlineCompleted,
  blockAdded: ({ context }: GuardArgs) => context.work.blockAdd?.outcome === 'ok',
  blockExists: ({ context }: GuardArgs) => context.work.blockAdd?.outcome === 'exists',
  timedMisbehaviourLeft: ({ context }: GuardArgs) => context.malice !== null && context.malice.timedIndex < context.malice.timed.length,
};
