import { ChannelLink, VmbusRing, ringSpaceFor } from '../../machines/vmbus-ring';
import type { Outbox } from '../../machines/outbox';
import type { PartId } from '../../machines/part-events';

function recordingOutbox(): Outbox & { posts: Array<{ to: PartId; type: string }> } {
  const posts: Array<{ to: PartId; type: string }> = [];
  return { posts, post: (to, event) => posts.push({ to, type: event.type }), now: () => 0 };
}

describe('VMBus ring space', () => {
  it('charges 16 + pad8(length) + 8 bytes per packet (QEMU vmbus.c)', () => {
    expect(ringSpaceFor(16)).toBe(40);
    expect(ringSpaceFor(24)).toBe(48);
    expect(ringSpaceFor(4096)).toBe(4120);
    expect(ringSpaceFor(13)).toBe(40);
  });

  it('fits three 4096-byte balloon responses in a 16 KiB ring, never a fourth (never exactly full)', () => {
    const ring = new VmbusRing(16_384);
    const msg = new Uint8Array(4096);
    expect(ring.write(msg, 0n)).toBe(true);
    expect(ring.write(msg, 0n)).toBe(true);
    expect(ring.write(msg, 0n)).toBe(true);
    expect(ring.write(msg, 0n)).toBe(false);
    expect(ring.length).toBe(3);
  });

  it('refuses a packet that would fill the ring exactly', () => {
    const ring = new VmbusRing(80);
    expect(ring.write(new Uint8Array(16), 0n)).toBe(true); // 40 used, 40 free
    expect(ring.write(new Uint8Array(16), 0n)).toBe(false); // would leave 0
  });

  it('frees space only when the reader publishes its read index', () => {
    const ring = new VmbusRing(128);
    ring.write(new Uint8Array(16), 0n);
    ring.write(new Uint8Array(16), 0n);
    expect(ring.freeBytes()).toBe(48);
    ring.pop();
    expect(ring.freeBytes()).toBe(48);
    expect(ring.releaseConsumed().freed).toBe(40);
    expect(ring.freeBytes()).toBe(88);
  });

  it('pads the payload the reader sees to 8 bytes, as QEMU msglen does', () => {
    const ring = new VmbusRing();
    ring.write(new Uint8Array([1, 2, 3]), 7n);
    const p = ring.pop()!;
    expect(p.payload.length).toBe(8);
    expect(p.transactionId).toBe(7n);
  });
});

describe('Channel endpoints', () => {
  it('a full ring makes reserve fail, and the pending-send signal arrives once the reader frees enough', () => {
    const link = new ChannelLink(128);
    link.setOpen(true);
    const hostOut = recordingOutbox();
    const guestOut = recordingOutbox();
    const host = link.endpoint('host', hostOut);
    const guest = link.endpoint('guest', guestOut);
    expect(host.reserve(24)).toBe(true); // 48 reserved
    expect(host.send(new Uint8Array(24), 1n)).toBe(48);
    expect(host.send(new Uint8Array(24), 2n)).toBe(48); // 96 used, 32 free
    expect(host.reserve(16)).toBe(false); // needs 40 bytes, 32 free: pending_send_sz is recorded
    expect(link.hostToGuest.pendingSendSize).toBe(40);
    // The guest reads one packet: 88 free, more than the 40 the host waits for.
    guest.receive();
    guestOut.posts.length = 0;
    guest.receiveDone();
    expect(guestOut.posts).toEqual([{ to: 'channel', type: 'channel.signal' }]);
    expect(link.hostToGuest.pendingSendSize).toBe(0);
    expect(host.reserve(16)).toBe(true);
  });

  it('signals the reader once per drain, not per packet', () => {
    const link = new ChannelLink();
    link.setOpen(true);
    const out = recordingOutbox();
    const guest = link.endpoint('guest', out);
    const host = link.endpoint('host', recordingOutbox());
    guest.send(new Uint8Array(16));
    guest.send(new Uint8Array(16));
    expect(out.posts).toHaveLength(1);
    while (host.receive()) {
      /* drain */
    }
    host.receiveDone();
    guest.send(new Uint8Array(16));
    expect(out.posts).toHaveLength(2);
  });

  it('drops writes and reads on a closed channel and empties the rings on close', () => {
    const link = new ChannelLink();
    const host = link.endpoint('host', recordingOutbox());
    expect(host.send(new Uint8Array(16))).toBe(0);
    link.setOpen(true);
    host.send(new Uint8Array(16));
    link.setOpen(false);
    link.setOpen(true);
    expect(link.endpoint('guest', recordingOutbox()).receive()).toBeUndefined();
  });
});
