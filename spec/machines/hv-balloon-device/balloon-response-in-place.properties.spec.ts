/**
 * The device reads a balloon response's ranges in place from the payload (packets.ts
 * `wireRanges`) instead of decoding 400-odd range objects per message. For any payload, that must
 * be exactly what the plain `decode` gives: the in-place ranges exist exactly when decode accepts
 * the bytes, hold the same values, the event's `message` (decoded on first read) equals decode's,
 * and the accounting of the in-place ranges equals the accounting of decode's array.
 */
import fc from 'fast-check';
import { DeviceOutput } from '../../../machines/hv-balloon-device/output';
import { packetEvent } from '../../../machines/hv-balloon-device/packets';
import { recordRemovedRanges, RemovedPageTrees } from '../../../machines/hv-balloon-device/removed-pages';
import { decode, encode } from '../../../protocol/codec';
import { ProtocolError } from '../../../protocol/errors';
import type { DmBalloonResponse, PageRange } from '../../../protocol/messages';
import type { RangeList } from '../../../protocol/range-list';
import { pageRange } from '../../protocol/arbitraries';
import { FakeHostMemory, HIGH_RAM, VGA } from './fake-host-memory';

const BALLOON_RESPONSE_ID = 7;

/** Any bytes with the balloon-response type id, range_count near what the length holds (either side of the edge). */
const payload = fc
  .record({
    ranges: fc.array(pageRange, { maxLength: 12 }),
    countDelta: fc.integer({ min: -2, max: 2 }),
    morePages: fc.boolean(),
    trailing: fc.integer({ min: 0, max: 7 }),
    cut: fc.integer({ min: 0, max: 20 }),
    seed: fc.uint8Array({ minLength: 120, maxLength: 120 }),
  })
  .map(({ ranges, countDelta, morePages, trailing, cut, seed }) => {
    const bytes = new Uint8Array(Math.max(0, 16 + 8 * ranges.length + trailing - cut));
    bytes.set(seed.subarray(0, bytes.length));
    const view = new DataView(bytes.buffer);
    if (bytes.length >= 2) view.setUint16(0, BALLOON_RESPONSE_ID, true);
    const count = Math.max(0, ranges.length + countDelta);
    if (bytes.length >= 16) view.setUint32(12, ((count << 1) | (morePages ? 1 : 0)) >>> 0, true);
    ranges.forEach((r, i) => {
      const off = 16 + 8 * i;
      if (off + 8 <= bytes.length) {
        view.setUint32(off, r.startPage % 2 ** 32, true);
        view.setUint32(off + 4, Math.floor(r.startPage / 2 ** 32) + r.pageCount * 256, true);
      }
    });
    return bytes;
  });

function listed(list: RangeList): PageRange[] {
  const out: PageRange[] = [];
  for (let i = 0; i < list.length; i++) out.push({ startPage: list.startPage(i), pageCount: list.pageCount(i) });
  return out;
}

function decoded(bytes: Uint8Array): DmBalloonResponse | ProtocolError {
  try {
    return decode(bytes) as DmBalloonResponse;
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw e;
  }
}

describe('balloon response ranges read in place', () => {
  it('exist exactly when decode accepts the bytes, with the values and message decode gives', () => {
    fc.assert(
      fc.property(payload, (bytes) => {
        const event = packetEvent(bytes);
        if (bytes.length < 8) {
          expect(event).toBeUndefined();
          return;
        }
        if (event?.type !== 'DM_BALLOON_RESPONSE') throw new Error(`expected a balloon response event, got ${event?.type}`);
        const plain = decoded(bytes);
        if (plain instanceof ProtocolError) {
          expect(event.wireRanges).toBeUndefined();
          expect(event.message).toBeUndefined();
          expect(event.error?.code).toBe(plain.code);
        } else {
          expect(event.wireRanges).toBeDefined();
          expect(listed(event.wireRanges!)).toEqual(plain.ranges);
          expect(event.message).toEqual(plain);
          expect(event.rangeCount).toBe(plain.ranges.length);
          expect(event.morePages).toBe(plain.morePages);
          // What inspectors and logs see of the event is what it was when it carried the decoded message.
          const header = { typeId: 7, size: new DataView(bytes.buffer).getUint16(2, true), transId: plain.transId };
          const decodedEvent = { type: 'DM_BALLOON_RESPONSE', msglen: bytes.length, header, message: plain, rangeCount: plain.ranges.length, morePages: plain.morePages };
          expect(JSON.stringify(event)).toBe(JSON.stringify(decodedEvent));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('are accounted exactly as the decoded array (trees, totals, warnings, trace points, discards)', () => {
    // Ranges around low RAM, VGA and RAM above 4 GiB, often adjacent (as a Linux guest sends them).
    const near = fc.constantFrom(0, VGA.startPage - 4, 0x4ff8, HIGH_RAM.startPage - 4, HIGH_RAM.startPage + 0x800);
    const ranges = fc
      .array(fc.record({ at: near, offset: fc.integer({ min: 0, max: 0x40 }), sizes: fc.array(fc.integer({ min: 0, max: 0x300 }), { minLength: 1, maxLength: 5 }) }), {
        maxLength: 4,
      })
      .map((groups) =>
        groups.flatMap((g) => {
          let start = g.at + g.offset;
          return g.sizes.map((pageCount) => {
            const r = { startPage: start, pageCount };
            start += pageCount;
            return r;
          });
        }),
      );
    const account = (list: readonly PageRange[] | RangeList) => {
      const trees = new RemovedPageTrees();
      const memory = new FakeHostMemory({ unalignedRam: { startPage: 0x5000, pageCount: 0x100 } });
      const out = new DeviceOutput();
      const recorded = recordRemovedRanges(list, { trees, memory, ourWindow: { startPage: HIGH_RAM.startPage + 0x900, pageCount: 0x200 }, out });
      return { recorded, trees: [trees.globalGuest, trees.globalBoth, trees.ourGuest, trees.ourBoth].map((t) => t.toArray()), emitted: out.emitted, discards: memory.discards };
    };
    fc.assert(
      fc.property(ranges, fc.boolean(), (list, morePages) => {
        const bytes = encode({ type: 'DM_BALLOON_RESPONSE', transId: 9, morePages, ranges: list });
        const event = packetEvent(bytes);
        if (event?.type !== 'DM_BALLOON_RESPONSE' || !event.wireRanges) throw new Error('expected in-place ranges');
        expect(account(event.wireRanges)).toEqual(account((decode(bytes) as DmBalloonResponse).ranges));
      }),
      { numRuns: 300 },
    );
  });
});
