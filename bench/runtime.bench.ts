/**
 * Runtime benchmarks: the virtual clock's timer heap and the message bus between two XState parts.
 * Wall time is read here (bench/ only), never inside the simulated core.
 */
import { createActor, setup } from 'xstate';
import { VirtualClock } from '../actors/virtual-clock';
import { MessageBus } from '../actors/message-bus';
import type { Outbox } from '../machines/outbox';
import type { Benchmark } from './benchmark';

export const clockTimersBench: Benchmark = {
  name: 'clock-timers',
  description: 'virtual clock: timer firings per second with 1000 timers pending (each firing re-arms itself)',
  target: { figure: 'firingsPerSec', op: '>=', value: 1_000_000, unit: 'firings/s' },
  run() {
    const clock = new VirtualClock();
    const firings = 1_000_000;
    let left = firings;
    const rearm = (i: number): void => {
      if (--left > 0) clock.setTimeout(() => rearm(i), 1 + ((i * 7919 + left) % 997));
    };
    for (let i = 0; i < 1000; i++) clock.setTimeout(() => rearm(i), 1 + (i % 997));
    const t0 = performance.now();
    clock.runToIdle();
    const wallMs = performance.now() - t0;
    return { firingsPerSec: Math.round(clock.fired / (wallMs / 1000)), pendingTimers: 1000, wallMs: Math.round(wallMs) };
  },
};

/** Two statechart parts that answer each other's ping through the bus. */
const pingPong = setup({
  types: {} as { input: { outbox: Outbox; peer: 'device' | 'guest' }; context: { outbox: Outbox; peer: 'device' | 'guest'; n: number }; events: { type: 'device.notify' } },
  actions: {
    answer: ({ context }) => context.outbox.post(context.peer, { type: 'device.notify' }),
  },
}).createMachine({
  context: ({ input }) => ({ outbox: input.outbox, peer: input.peer, n: 0 }),
  on: { '*': { actions: 'answer' } },
});

export const busMessagesBench: Benchmark = {
  name: 'bus-messages',
  description: 'message bus: messages per second delivered between two XState parts on the virtual clock',
  target: { figure: 'messagesPerSec', op: '>=', value: 200_000, unit: 'messages/s' },
  run() {
    const clock = new VirtualClock();
    const bus = new MessageBus(clock);
    const a = createActor(pingPong, { input: { outbox: bus.outboxFor('device'), peer: 'guest' }, clock });
    const b = createActor(pingPong, { input: { outbox: bus.outboxFor('guest'), peer: 'device' }, clock });
    bus.attach('device', a);
    bus.attach('guest', b);
    a.start();
    b.start();
    const messages = 300_000;
    bus.post('vm', 'device', { type: 'device.notify' });
    const t0 = performance.now();
    while (bus.deliveredCount < messages && clock.runNext()) {
      /* deliver */
    }
    const wallMs = performance.now() - t0;
    return { messagesPerSec: Math.round(bus.deliveredCount / (wallMs / 1000)), messages: bus.deliveredCount, wallMs: Math.round(wallMs) };
  },
};
