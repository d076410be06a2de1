import { VirtualClock } from '../../actors/virtual-clock';
import { MessageBus, type BusDelivery } from '../../actors/message-bus';
import type { PostedEvent } from '../../machines/outbox';

describe('MessageBus', () => {
  it('delivers by (virtual time, send order), not depth-first', () => {
    // A (channel) sends to B (device) then to C (guest); B, on receipt, sends to C. With XState's
    // synchronous sendTo C would see B's message first; on the bus C sees A's first, as it was sent first.
    const clock = new VirtualClock();
    const bus = new MessageBus(clock);
    const seenByC: string[] = [];
    bus.attach('device', { send: () => bus.post('device', 'guest', { type: 'guest.channel-closed' }) });
    bus.attach('guest', { send: (e: PostedEvent) => seenByC.push(e.type) });
    bus.post('channel', 'device', { type: 'device.notify' });
    bus.post('channel', 'guest', { type: 'guest.interrupt' });
    clock.advance(1);
    expect(seenByC).toEqual(['guest.interrupt', 'guest.channel-closed']);
  });

  it('applies the latency on the virtual clock and traces every delivery', () => {
    const clock = new VirtualClock();
    const bus = new MessageBus(clock);
    const trace: BusDelivery[] = [];
    bus.trace$.subscribe((d) => trace.push(d));
    bus.attach('guest', { send: () => undefined });
    bus.post('channel', 'guest', { type: 'guest.interrupt' }, 0.5);
    clock.advance(0.4);
    expect(trace).toHaveLength(0);
    clock.advance(0.2);
    expect(trace).toEqual([{ time: 0.5, from: 'channel', to: 'guest', type: 'guest.interrupt' }]);
  });

  it('drops mail for a part that is not attached', () => {
    const clock = new VirtualClock();
    const bus = new MessageBus(clock);
    bus.post('vm', 'vcpu', { type: 'vcpu.halt' });
    clock.advance(1);
    expect(bus.deliveredCount).toBe(0);
  });
});
