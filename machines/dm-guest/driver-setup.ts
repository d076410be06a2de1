/**
 * The DM guest driver's XState setup: its types and delays. The action and guard files build on
 * it (driverSetup.assign / enqueueActions / emit keep them typed), and the machine file extends it
 * with them.
 */
import { enqueueActions, setup } from 'xstate';
import { GUEST_HANDSHAKE_TIMEOUT_MS, GUEST_ONLINE_WAIT_MS, GUEST_RING_FULL_RETRY_MS } from '../../protocol/constants';
import { nextMaliceDelay, STATUS_THREAD_PERIOD_MS } from './driver-context';
import type { DmGuestDriverContext, DmGuestDriverEmitted, DmGuestDriverEvent, DmGuestDriverInput } from './driver-types';

export const driverSetup = setup({
  types: {
    input: {} as DmGuestDriverInput,
    context: {} as DmGuestDriverContext,
    events: {} as DmGuestDriverEvent,
    emitted: {} as DmGuestDriverEmitted,
  },
  delays: {
    handshakeTimeout: GUEST_HANDSHAKE_TIMEOUT_MS,
    statusPeriod: STATUS_THREAD_PERIOD_MS,
    ringFullRetry: GUEST_RING_FULL_RETRY_MS,
    onlineWait: GUEST_ONLINE_WAIT_MS,
    nextMisbehaviour: ({ context }) => nextMaliceDelay(context),
  },
});

/** What a plain (effect-only) action of the driver receives. */
export type DriverActionArgs = Parameters<Parameters<typeof driverSetup.createAction>[0]>[0];

/** enqueueActions for an action that takes params (driverSetup's helpers take none). */
export function enqueueWithParams<P extends Record<string, unknown>>(
  collect: Parameters<typeof enqueueActions<DmGuestDriverContext, DmGuestDriverEvent, P, DmGuestDriverEvent, never, never, never, never, DmGuestDriverEmitted>>[0],
) {
  return enqueueActions<DmGuestDriverContext, DmGuestDriverEvent, P, DmGuestDriverEvent, never, never, never, never, DmGuestDriverEmitted>(collect);
}
