/** The malicious plan as pure code: seeded resolution, triggers and the byte-level corruptions. */
import { encode } from '../../../protocol/codec';
import {
  corruptedCopies,
  corruptRanges,
  defaultPlanEntries,
  injectedRangeCount,
  MISBEHAVIOUR_KINDS,
  misbehavioursForResponse,
  resolvePlan,
  timedSchedule,
  withTransId,
  type Misbehaviour,
  type ResponseMisbehaviour,
} from '../../../machines/dm-guest/malicious-plan';

describe('malicious plan', () => {
  it('resolves the default plan (every kind once) the same way for the same seed', () => {
    const a = resolvePlan(defaultPlanEntries(), 123);
    expect(resolvePlan(defaultPlanEntries(), 123)).toEqual(a);
    expect(a.map((m) => m.kind)).toEqual([...MISBEHAVIOUR_KINDS]);
    expect(resolvePlan(defaultPlanEntries(), 124)).not.toEqual(a);
  });

  it('draws fake pages from the right places: beyond RAM, the PC ROM areas, the PC MMIO areas', () => {
    for (let seed = 0; seed < 50; seed++) {
      const plan = resolvePlan(defaultPlanEntries(), seed);
      const range = (kind: Misbehaviour['kind']) => (plan.find((m) => m.kind === kind) as { range: { startPage: number; pageCount: number } }).range;
      const outside = range('outsideRam');
      expect(outside.startPage).toBeGreaterThanOrEqual(2 ** 36);
      expect(outside.startPage + outside.pageCount).toBeLessThan(2 ** 40);
      const rom = range('romPages');
      const inRom = [[0xc0, 0x100], [0xfffc0, 0x100000]].some(([s, e]) => rom.startPage >= s! && rom.startPage + rom.pageCount <= e!);
      expect(inRom).toBe(true);
      const mmio = range('mmioPages');
      const inMmio = [[0xa0, 0xc0], [0xfec00, 0xfec01], [0xfee00, 0xfee01]].some(([s, e]) => mmio.startPage >= s! && mmio.startPage + mmio.pageCount <= e!);
      expect(inMmio).toBe(true);
    }
  });

  it('keeps what the user fixed and orders timed entries by time', () => {
    const plan = resolvePlan(
      [
        { kind: 'capsReportAfterInit', atMs: 500 },
        { kind: 'versionRequestAfterInit', atMs: 100 },
        { kind: 'romPages', response: 7, range: { startPage: 0xe0, pageCount: 2 } },
      ],
      1,
    );
    expect(plan[2]).toEqual({ kind: 'romPages', response: 7, range: { startPage: 0xe0, pageCount: 2 } });
    expect(timedSchedule(plan).map((m) => m.atMs)).toEqual([100, 500]);
    expect(misbehavioursForResponse(plan, 7)).toHaveLength(1);
    expect(misbehavioursForResponse(plan, 6)).toHaveLength(0);
  });

  it('adds fake ranges after the real ones and counts them against the 510', () => {
    const list: ResponseMisbehaviour[] = [
      { kind: 'mmioPages', response: 1, range: { startPage: 0xa0, pageCount: 1 } },
      { kind: 'duplicatePages', response: 1 },
      { kind: 'truncatedMessage', response: 1 },
    ];
    expect(injectedRangeCount(list)).toBe(2);
    const out = corruptRanges([{ startPage: 1000, pageCount: 512 }], list, { startPage: 5000, pageCount: 512 }, 1);
    expect(out.ranges).toEqual([
      { startPage: 1000, pageCount: 512 },
      { startPage: 0xa0, pageCount: 1 },
      { startPage: 5000, pageCount: 512 },
    ]);
    expect(out.notes.map((n) => n.kind)).toEqual(['mmioPages', 'duplicatePages']);
  });

  it('overlaps half of a real range, or a single page with two', () => {
    const overlap: ResponseMisbehaviour[] = [{ kind: 'overlappingRanges', response: 1 }];
    expect(corruptRanges([{ startPage: 1024, pageCount: 512 }], overlap, null, 1).ranges[1]).toEqual({ startPage: 1280, pageCount: 512 });
    expect(corruptRanges([{ startPage: 7, pageCount: 1 }], overlap, null, 1).ranges[1]).toEqual({ startPage: 7, pageCount: 2 });
  });

  it('builds the truncated copy (8 bytes, hdr.size unchanged) and the range-count mismatch (more_pages kept)', () => {
    const bytes = encode({ type: 'DM_BALLOON_RESPONSE', transId: 3, morePages: true, ranges: [{ startPage: 1, pageCount: 1 }] });
    const [truncated, mismatch] = corruptedCopies(
      bytes,
      [
        { kind: 'truncatedMessage', response: 1 },
        { kind: 'rangeCountMismatch', response: 1, extraRanges: 3 },
      ],
      1,
    );
    expect(Array.from(truncated!.bytes)).toEqual(Array.from(bytes.slice(0, 8)));
    const word = new DataView(mismatch!.bytes.buffer).getUint32(12, true);
    expect(word).toBe((4 << 1) | 1);
    expect(mismatch!.bytes.length).toBe(bytes.length);
    expect(Array.from(withTransId(truncated!.bytes, 9).slice(4, 8))).toEqual([9, 0, 0, 0]);
  });
});
