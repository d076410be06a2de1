/**
 * A random guest and user for the device's property specs: messages valid and invalid, raw garbage,
 * targets, closes, resets, time; and a guest that answers the host's requests, often wrongly.
 */
import fc from 'fast-check';
import { PAGE_SIZE } from '../../../protocol/constants';
import type { DmCaps, DmMessage, PageRange } from '../../../protocol/messages';
import { SeededPrng } from '../../../machines/seeded-prng';
import { BOOT_RAM_PAGES } from './fake-host-memory';
import { GiB, type DeviceHarness } from './harness';

export const WINDOW: PageRange = { startPage: (32 * GiB) / PAGE_SIZE, pageCount: (4 * GiB) / PAGE_SIZE };

/** Where reported ranges start: RAM, the legacy hole (VGA, ROM), the PCI hole and BIOS, high RAM, the window, far away. */
export const BASES = [0, 0x90, 0xa0, 0xc0, 0x100, 0xbff00, 0xc0000, 0xfec00, 0xfffc0, 0x100000, 0x13ff00, WINDOW.startPage, WINDOW.startPage + 32_768, WINDOW.startPage + WINDOW.pageCount - 8, 2 ** 40 - 2 ** 24, 2 ** 40 - 1];

export const arbRange: fc.Arbitrary<PageRange> = fc
  .record({
    base: fc.constantFrom(...BASES),
    offset: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 1 << 20 })),
    pageCount: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 1 << 20 }), fc.constant(2 ** 24 - 1)),
  })
  .map(({ base, offset, pageCount }) => ({ startPage: Math.min(base + offset, 2 ** 40 - 1), pageCount }));

export const arbCaps: fc.Arbitrary<DmCaps> = fc.record({
  balloon: fc.boolean(),
  hotAdd: fc.boolean(),
  hotAddAlignment: fc.integer({ min: 0, max: 15 }),
  hotRemove: fc.boolean(),
});

const transId = fc.integer({ min: 0, max: 0xffffffff });

const arbMessage: fc.Arbitrary<DmMessage> = fc.oneof(
  fc.record({
    type: fc.constant('DM_VERSION_REQUEST' as const),
    transId,
    version: fc.oneof(
      fc.constantFrom({ major: 2, minor: 0 }, { major: 1, minor: 0 }, { major: 0, minor: 3 }),
      fc.record({ major: fc.integer({ min: 0, max: 0xffff }), minor: fc.integer({ min: 0, max: 0xffff }) }),
    ),
    isLastAttempt: fc.boolean(),
  }),
  fc.record({ type: fc.constant('DM_CAPABILITIES_REPORT' as const), transId, caps: arbCaps, minPageCount: fc.constant(0n), maxPageNumber: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
  fc.record({
    type: fc.constant('DM_STATUS_REPORT' as const),
    transId,
    numAvail: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    numCommitted: fc.bigInt({ min: 0n, max: 2n ** 40n }),
    pageFileSize: fc.constant(0n),
    zeroFree: fc.constant(0n),
    pageFileWrites: fc.constant(0),
    ioDiff: fc.constant(0),
  }),
  fc.record({ type: fc.constant('DM_BALLOON_RESPONSE' as const), transId, morePages: fc.boolean(), ranges: fc.array(arbRange, { maxLength: 6 }) }),
  fc.record({ type: fc.constant('DM_UNBALLOON_RESPONSE' as const), transId }),
  fc.record({
    type: fc.constant('DM_MEM_HOT_ADD_RESPONSE' as const),
    transId,
    pageCount: fc.oneof(fc.integer({ min: 0, max: 600_000 }), fc.constant(0xffffffff)),
    result: fc.constantFrom(0, 1, 7),
  }),
  fc.record({ type: fc.constantFrom('DM_ERROR' as const, 'DM_UNBALLOON_RESPONSE' as const), transId }),
  fc.record({ type: fc.constant('DM_BALLOON_REQUEST' as const), transId, numPages: fc.integer({ min: 0, max: 100 }) }),
);

/** Raw payloads: garbage, and handled types cut short or with a lying range_count. */
const arbRaw: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 72 }),
  fc.record({ typeId: fc.constantFrom(1, 3, 5, 7, 9, 11, 15, 0xffff), length: fc.integer({ min: 0, max: 56 }), word: fc.integer({ min: 0, max: 0xffffffff }) }).map(
    ({ typeId, length, word }) => {
      const bytes = new Uint8Array(length);
      const view = new DataView(bytes.buffer);
      if (length >= 2) view.setUint16(0, typeId, true);
      if (length >= 16) view.setUint32(12, word, true);
      return bytes;
    },
  ),
);

export type Command =
  | { kind: 'write'; message: DmMessage }
  | { kind: 'raw'; bytes: Uint8Array }
  | { kind: 'target'; pages: number }
  | { kind: 'run'; ms: number }
  | { kind: 'close' }
  | { kind: 'open' }
  | { kind: 'systemReset' }
  | { kind: 'drain'; on: boolean }
  | { kind: 'negotiate'; caps: DmCaps }
  | { kind: 'reconnect'; caps: DmCaps };

export const arbCommand: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: arbMessage.map((message) => ({ kind: 'write' as const, message })) },
  { weight: 2, arbitrary: arbRaw.map((bytes) => ({ kind: 'raw' as const, bytes })) },
  {
    weight: 6,
    arbitrary: fc
      .oneof(
        fc.integer({ min: 0, max: 2 * BOOT_RAM_PAGES }),
        fc.integer({ min: BOOT_RAM_PAGES - 2000, max: BOOT_RAM_PAGES + 70_000 }),
        fc.integer({ min: BOOT_RAM_PAGES - 600_000, max: BOOT_RAM_PAGES + 600_000 }),
      )
      .map((pages) => ({ kind: 'target' as const, pages })),
  },
  { weight: 4, arbitrary: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.constant(50_000)).map((ms) => ({ kind: 'run' as const, ms })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'close' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'open' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'systemReset' as const }) },
  { weight: 1, arbitrary: fc.boolean().map((on) => ({ kind: 'drain' as const, on })) },
  { weight: 1, arbitrary: arbCaps.map((caps) => ({ kind: 'negotiate' as const, caps })) },
  { weight: 2, arbitrary: arbCaps.map((caps) => ({ kind: 'reconnect' as const, caps })) },
);

/** A guest that answers the host's requests with random (often wrong) answers. */
export function installResponder(h: DeviceHarness, seed: number): void {
  const prng = new SeededPrng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[prng.nextInt(0, xs.length - 1)]!;
  h.guest.onMessage = (m) => {
    if (prng.nextInt(0, 9) === 0) return; // sometimes the guest just does not answer
    if (m.type === 'DM_BALLOON_REQUEST') {
      const start = Math.min(pick(BASES) + prng.nextInt(0, 4096), 2 ** 40 - 1);
      const count = Math.min(m.numPages, prng.nextInt(0, m.numPages + 100));
      h.guest.write({ type: 'DM_BALLOON_RESPONSE', transId: m.transId, morePages: prng.nextInt(0, 3) === 0, ranges: count > 0 ? [{ startPage: start, pageCount: count }] : [] });
    } else if (m.type === 'DM_UNBALLOON_REQUEST') {
      if (!m.morePages || prng.nextInt(0, 3) === 0) h.guest.write({ type: 'DM_UNBALLOON_RESPONSE', transId: m.transId });
    } else if (m.type === 'DM_MEM_HOT_ADD_REQUEST') {
      const pageCount = pick([m.range.pageCount, m.range.pageCount, 0, prng.nextInt(0, m.range.pageCount), m.range.pageCount * 2]);
      h.guest.write({ type: 'DM_MEM_HOT_ADD_RESPONSE', transId: m.transId, pageCount, result: pick([1, 1, 1, 0]) });
    }
  };
}

/** Apply one command to the device and its scripted guest. */
export function applyCommand(h: DeviceHarness, cmd: Command): void {
  switch (cmd.kind) {
    case 'write':
      h.guest.write(cmd.message);
      break;
    case 'raw':
      h.guest.write(cmd.bytes);
      break;
    case 'target':
      h.bus.post('user', 'device', { type: 'device.set-target', targetPages: cmd.pages });
      break;
    case 'run':
      h.run(cmd.ms);
      break;
    case 'close':
      h.guest.close();
      break;
    case 'open':
      h.guest.open();
      break;
    case 'systemReset':
      h.bus.post('user', 'channel', { type: 'system.reset' });
      h.bus.post('user', 'device', { type: 'system.reset' });
      break;
    case 'drain':
      h.guest.autoDrain = cmd.on;
      if (cmd.on) h.guest.drain();
      break;
    case 'negotiate':
      h.negotiate(cmd.caps);
      break;
    case 'reconnect':
      // Close, reopen, negotiate (maybe other caps), wait out the 50 s: the device is usable again.
      h.guest.close();
      h.run();
      h.guest.open();
      h.run();
      h.negotiate(cmd.caps);
      h.run(50_000);
      break;
  }
}
