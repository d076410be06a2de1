/**
 * The malicious profile: a Linux guest that corrupts its answers following a seeded plan. Each
 * misbehaviour must show up on the wire exactly as planned, be emitted and logged, and the same
 * seed must give the same bytes.
 */
import { decode } from '../../../protocol/codec';
import { ProtocolError } from '../../../protocol/errors';
import type { MaliciousPlanEntry } from '../../../machines/dm-guest/malicious-plan';
import type { GuestProfileConfig } from '../../../machines/dm-guest/profiles';
import { FakeGuestMemory } from './fake-guest-memory';
import { bootInitialized, type GuestHarness } from './guest-harness';

const GiB = 262_144;
const P = 4 * GiB;

const PLAN: MaliciousPlanEntry[] = [
  { kind: 'outsideRam', response: 1, range: { startPage: 2 ** 37, pageCount: 8 } },
  { kind: 'romPages', response: 1, range: { startPage: 0xe0, pageCount: 16 } },
  { kind: 'mmioPages', response: 1, range: { startPage: 0xfec00, pageCount: 1 } },
  { kind: 'duplicatePages', response: 2 },
  { kind: 'overlappingRanges', response: 2 },
  { kind: 'truncatedMessage', response: 3 },
  { kind: 'rangeCountMismatch', response: 3, extraRanges: 4 },
  { kind: 'unsolicitedUnballoonResponse', atMs: 10_000 },
  { kind: 'unsolicitedHotAddResponse', atMs: 11_000, pages: 99 },
  { kind: 'versionRequestAfterInit', atMs: 12_000 },
  { kind: 'capsReportAfterInit', atMs: 13_000 },
  { kind: 'inflatedHotAddCount', hotAdd: 1, pages: 5 },
];

/** Three balloon requests (one response each), a hot-add, and 31 s for the timed entries (default plan: 2-30 s). */
function scenario(profile: GuestProfileConfig, seed = 1): GuestHarness {
  const memory = new FakeGuestMemory({ ramPages: 4 * GiB, usedPages: GiB });
  const h = bootInitialized({ memory, seed, profile });
  for (let i = 0; i < 3; i++) {
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: i + 1, numPages: 1024 });
    h.run(50);
  }
  h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 9, range: { startPage: P, pageCount: 32_768 } });
  h.run(31_000);
  return h;
}

describe('malicious guest', () => {
  const h = scenario({ profile: 'malicious', plan: PLAN });
  const responses = h.host.messages('DM_BALLOON_RESPONSE');
  const initAt = h.guest.getSnapshot().context.connection.initializedAt!;

  it('reports pages outside RAM, ROM pages and MMIO pages after its real ranges', () => {
    const first = responses[0]!;
    expect(first.ranges).toHaveLength(5);
    expect(first.ranges.slice(2)).toEqual([
      { startPage: 2 ** 37, pageCount: 8 },
      { startPage: 0xe0, pageCount: 16 },
      { startPage: 0xfec00, pageCount: 1 },
    ]);
  });

  it('reports pages it already returned, and ranges that overlap its own', () => {
    const [first, second] = responses;
    const real = second!.ranges.slice(0, 2);
    expect(second!.ranges[2]).toEqual(first!.ranges[0]); // duplicate of response 1
    const overlap = second!.ranges[3]!;
    expect(overlap.startPage).toBeGreaterThan(real[0]!.startPage);
    expect(overlap.startPage).toBeLessThan(real[0]!.startPage + real[0]!.pageCount);
  });

  it('sends a truncated copy and one whose range count does not fit, before the real response', () => {
    const bad = h.host.received.filter((r) => r.error !== undefined);
    expect(bad).toHaveLength(2);
    expect(bad[0]!.bytes.length).toBe(8);
    expect(new DataView(bad[0]!.bytes.buffer, bad[0]!.bytes.byteOffset).getUint16(2, true)).toBe(32); // hdr.size lies
    let error: unknown;
    try {
      decode(bad[1]!.bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('RANGE_COUNT_MISMATCH');
    expect(responses[2]!.ranges).toHaveLength(2); // the real third response still follows
  });

  it('sends messages the host does not expect in its state, at the planned times', () => {
    const at = (type: Parameters<typeof h.host.timed>[0]) => h.host.timed(type).map((r) => Math.floor(r.timeMs - initAt));
    expect(at('DM_UNBALLOON_RESPONSE')).toEqual([10_000]);
    expect(h.host.messages('DM_MEM_HOT_ADD_RESPONSE').map((r) => r.pageCount)).toContain(99);
    expect(h.host.messages('DM_VERSION_REQUEST')).toHaveLength(2); // the handshake's, then one after init
    expect(at('DM_VERSION_REQUEST').at(-1)).toBe(12_000);
    expect(at('DM_CAPABILITIES_REPORT').at(-1)).toBe(13_000);
  });

  it('claims more hot-added pages than it added', () => {
    const real = h.host.messages('DM_MEM_HOT_ADD_RESPONSE').filter((r) => r.pageCount !== 99);
    expect(real.map((r) => r.pageCount)).toEqual([32_768 + 5]);
    expect(h.guest.getSnapshot().context.hotAdd.addedPages).toBe(32_768);
  });

  it('emits and logs every misbehaviour', () => {
    expect(h.misbehaviours.map((m) => m.kind).sort()).toEqual(PLAN.map((p) => p.kind).sort());
    expect(h.logTexts().filter((t) => t.startsWith('malicious guest: '))).toHaveLength(PLAN.length);
    expect(h.guest.getSnapshot().context.stats.misbehaviours).toBe(PLAN.length);
  });

  it('is otherwise a working Linux guest: trans_ids stay fresh and unique', () => {
    const ids = h.host.received.map((r) => new DataView(r.bytes.buffer, r.bytes.byteOffset).getUint32(4, true));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('malicious default plan', () => {
  const bytesOf = (g: GuestHarness) => g.host.received.map((r) => Buffer.from(r.bytes).toString('hex'));

  it('fires every misbehaviour kind, deterministically from its seed', () => {
    const a = scenario({ profile: 'malicious', seed: 42 });
    const b = scenario({ profile: 'malicious', seed: 42 });
    expect(bytesOf(a)).toEqual(bytesOf(b));
    expect(a.misbehaviours).toEqual(b.misbehaviours);
    expect(new Set(a.misbehaviours.map((m) => m.kind)).size).toBe(12);
  });

  it('takes its seed from the driver when the profile gives none, and a different seed gives a different plan', () => {
    const a = scenario({ profile: 'malicious' }, 1);
    const b = scenario({ profile: 'malicious' }, 2);
    expect(a.guest.getSnapshot().context.profile.malicious!.seed).toBe(1);
    expect(a.guest.getSnapshot().context.profile.malicious!.plan).not.toEqual(b.guest.getSnapshot().context.profile.malicious!.plan);
  });
});
