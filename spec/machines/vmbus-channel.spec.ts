import { createActor } from 'xstate';
import { VirtualClock } from '../../actors/virtual-clock';
import { MessageBus } from '../../actors/message-bus';
import { ChannelLink } from '../../machines/vmbus-ring';
import { vmbusChannelMachine } from '../../machines/vmbus-channel.machine';
import type { PostedEvent } from '../../machines/outbox';

function setupChannel(deviceAccepts: boolean) {
  const clock = new VirtualClock();
  const bus = new MessageBus(clock);
  const link = new ChannelLink();
  const channel = createActor(vmbusChannelMachine, {
    input: { link, outbox: bus.outboxFor('channel'), signalLatencyMs: 0.5, offerDelayMs: 1000 },
    clock,
  });
  const log: string[] = [];
  bus.trace$.subscribe((d) => log.push(`${d.time} ${d.to}<-${d.type}`));
  bus.attach('channel', channel);
  bus.attach('device', {
    send: (e: PostedEvent) => {
      if (e.type === 'device.open-request')
        bus.post('device', 'channel', deviceAccepts ? { type: 'channel.open-accepted' } : { type: 'channel.open-refused', reason: 'busy' });
    },
  });
  bus.attach('guest', {
    send: (e: PostedEvent) => {
      if (e.type === 'guest.channel-offered') bus.post('guest', 'channel', { type: 'channel.open' });
    },
  });
  channel.start();
  return { clock, bus, link, channel, log };
}

describe('VMBus channel statechart', () => {
  it('is offered after the boot delay, opens when the device accepts, and pokes the device (vmbus.c)', () => {
    const { clock, channel, link, log } = setupChannel(true);
    expect(channel.getSnapshot().value).toBe('offered');
    clock.advance(999);
    expect(log).toEqual([]);
    clock.advance(10);
    expect(channel.getSnapshot().value).toBe('open');
    expect(link.open).toBe(true);
    expect(log).toEqual([
      '1000 guest<-guest.channel-offered',
      '1000 channel<-channel.open',
      '1000 device<-device.open-request',
      '1000 channel<-channel.open-accepted',
      '1000 device<-device.notify',
      '1000.5 guest<-guest.channel-opened',
    ]);
  });

  it('ends closed when the device refuses the open, and the guest is told', () => {
    const { clock, channel, link, log } = setupChannel(false);
    clock.advance(1010);
    expect(channel.getSnapshot().value).toBe('closed');
    expect(link.open).toBe(false);
    expect(log).toContain('1000.5 guest<-guest.channel-opened');
  });

  it('relays a signal to the other side after the latency', () => {
    const { clock, link, bus, log } = setupChannel(true);
    clock.advance(1010);
    log.length = 0;
    link.endpoint('host', bus.outboxFor('device')).send(new Uint8Array(16), 1n);
    clock.advance(1);
    expect(log).toEqual(['1010 channel<-channel.signal', '1010.5 guest<-guest.interrupt']);
  });

  it('closing runs close_channel then the device reset, and empties the rings', () => {
    const { clock, bus, channel, link, log } = setupChannel(true);
    clock.advance(1010);
    link.endpoint('host', bus.outboxFor('device')).send(new Uint8Array(16), 1n);
    log.length = 0;
    bus.post('guest', 'channel', { type: 'channel.close' });
    clock.advance(1);
    expect(channel.getSnapshot().value).toBe('closed');
    expect(link.hostToGuest.length).toBe(0);
    expect(log).toEqual(
      expect.arrayContaining(['1010 device<-device.close-channel', '1010 device<-device.reset', '1010.5 guest<-guest.channel-closed']),
    );
  });

  it('a system reset closes an open channel, resets the device and offers the channel again', () => {
    const { clock, bus, channel, log } = setupChannel(true);
    clock.advance(1010);
    log.length = 0;
    bus.post('vm', 'channel', { type: 'system.reset' });
    clock.advance(1);
    expect(channel.getSnapshot().value).toBe('offered');
    expect(log).toEqual(expect.arrayContaining(['1010 device<-device.close-channel', '1010 device<-device.reset']));
    clock.advance(1000);
    expect(channel.getSnapshot().value).toBe('open');
    expect(channel.getSnapshot().context.opens).toBe(2);
  });
});
