/**
 * The VMBus channel of the DM device as a statechart: offered -> opening -> open -> closing ->
 * closed, and reset. It carries opaque packets (the rings live in a ChannelLink, shared memory)
 * and relays signals between the two ends with a latency. It knows nothing of DM.
 *
 * Lifecycle facts (QEMU hw/hyperv/vmbus.c): the device's open callback may refuse an open; once an
 * open completes vmbus.c simulates a host notification, so the device's event loop runs at once;
 * when the guest closes the device's only channel the device is reset (vmdev_reset); a bus reset
 * (system reset) closes open channels and resets every device.
 */
import { assign, setup } from 'xstate';
import type { Outbox } from './outbox';
import type { ChannelEvent, ChannelSide } from './part-events';
import type { ChannelLink } from './vmbus-ring';

export interface VmbusChannelInput {
  link: ChannelLink;
  outbox: Outbox;
  /** Virtual time a signal (interrupt or hypercall) takes to reach the other side. */
  signalLatencyMs?: number;
  /** Virtual time from power-on (or reset) until the channel is offered to the guest. */
  offerDelayMs?: number;
}

export interface VmbusChannelContext {
  link: ChannelLink;
  outbox: Outbox;
  signalLatencyMs: number;
  offerDelayMs: number;
  /** Opens completed, for queries. */
  opens: number;
  /**
   * Signals relayed per direction: a tally for queries and the inspector, counted in place (no
   * transition reads it, and an `assign` per interrupt would make a new snapshot per interrupt).
   */
  readonly signals: { toHost: number; toGuest: number };
}

export const vmbusChannelMachine = setup({
  types: {
    input: {} as VmbusChannelInput,
    context: {} as VmbusChannelContext,
    events: {} as ChannelEvent,
  },
  delays: {
    offerDelay: ({ context }) => context.offerDelayMs,
  },
  actions: {
    offerToGuest: ({ context }) => context.outbox.post('guest', { type: 'guest.channel-offered' }),
    askDeviceToOpen: ({ context }) => context.outbox.post('device', { type: 'device.open-request' }),
    completeOpen: ({ context }) => {
      context.link.setOpen(true);
      context.outbox.post('guest', { type: 'guest.channel-opened', ok: true }, context.signalLatencyMs);
      // QEMU vmbus.c: a completed open simulates a host notification, so the device loop runs.
      context.outbox.post('device', { type: 'device.notify' });
    },
    countOpen: assign({ opens: ({ context }) => context.opens + 1 }),
    refuseOpen: ({ context }) =>
      context.outbox.post('guest', { type: 'guest.channel-opened', ok: false }, context.signalLatencyMs),
    relaySignal: ({ context, event }) => {
      if (event.type !== 'channel.signal') return;
      const to: ChannelSide = event.from === 'host' ? 'guest' : 'host';
      if (to === 'guest') {
        context.signals.toGuest++;
        context.outbox.post('guest', { type: 'guest.interrupt' }, context.signalLatencyMs);
      } else {
        context.signals.toHost++;
        context.outbox.post('device', { type: 'device.notify' }, context.signalLatencyMs);
      }
    },
    shutRings: ({ context }) => context.link.setOpen(false),
    // QEMU vmbus.c: closing the device's only channel runs close_channel, then resets the device.
    closeOnDevice: ({ context }) => {
      context.outbox.post('device', { type: 'device.close-channel' });
      context.outbox.post('device', { type: 'device.reset' });
    },
    // A bus reset resets the device even when no channel was open.
    resetDevice: ({ context }) => context.outbox.post('device', { type: 'device.reset' }),
    tellGuestClosed: ({ context }) =>
      context.outbox.post('guest', { type: 'guest.channel-closed' }, context.signalLatencyMs),
  },
}).createMachine({
  id: 'vmbusChannel',
  context: ({ input }) => ({
    link: input.link,
    outbox: input.outbox,
    signalLatencyMs: input.signalLatencyMs ?? 0.01,
    offerDelayMs: input.offerDelayMs ?? 1000,
    opens: 0,
    signals: { toHost: 0, toGuest: 0 },
  }),
  initial: 'offered',
  on: {
    'system.reset': { target: '.offered', actions: ['shutRings', 'resetDevice'] },
  },
  states: {
    offered: {
      after: { offerDelay: { actions: 'offerToGuest' } },
      on: { 'channel.open': 'opening' },
    },
    opening: {
      entry: 'askDeviceToOpen',
      on: {
        'channel.open-accepted': { target: 'open', actions: ['completeOpen', 'countOpen'] },
        'channel.open-refused': { target: 'closed', actions: 'refuseOpen' },
      },
    },
    open: {
      on: {
        'channel.signal': { actions: 'relaySignal' },
        'channel.close': 'closing',
        'system.reset': { target: 'offered', actions: ['shutRings', 'closeOnDevice'] },
      },
    },
    closing: {
      entry: ['shutRings', 'closeOnDevice', 'tellGuestClosed'],
      always: 'closed',
    },
    closed: {
      on: { 'channel.open': 'opening' },
    },
  },
});
