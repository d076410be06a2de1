/**
 * encodeBalloonResponseUnits: a balloon response whose units are given as runs has exactly the
 * bytes (and the errors) of `encode` with the units listed one by one.
 */
import fc from 'fast-check';
import { encodeBalloonResponseUnits, unitsOfRuns } from '../../protocol/balloon-response-units';
import { encode } from '../../protocol/codec';
import { MAX_START_PAGE } from '../../protocol/constants';
import type { PageRange } from '../../protocol/messages';
import { errorOf } from './protocol-error';

const viaEncode = (transId: number, morePages: boolean, runs: PageRange[], unitPages: number): Uint8Array =>
  encode({ type: 'DM_BALLOON_RESPONSE', transId, morePages, ranges: unitsOfRuns(runs, unitPages) });

/** Runs of 0-40 units each, anywhere a unit's start page fits the wire, in any order. */
const unitRuns = fc.constantFrom(1, 2, 512, 4096).chain((unitPages) =>
  fc.tuple(
    fc.constant(unitPages),
    fc.array(
      fc.record({ unit: fc.integer({ min: 0, max: Math.floor(MAX_START_PAGE / unitPages) - 40 }), units: fc.integer({ min: 0, max: 40 }) }),
      { maxLength: 12 },
    ).map((rs) => rs.map(({ unit, units }) => ({ startPage: unit * unitPages, pageCount: units * unitPages }))),
  ),
);

describe('encodeBalloonResponseUnits', () => {
  test('the same bytes as encode with one range per unit', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 32 - 1 }), fc.boolean(), unitRuns, (transId, morePages, [unitPages, runs]) => {
        expect(encodeBalloonResponseUnits(transId, morePages, runs, unitPages)).toEqual(viaEncode(transId, morePages, runs, unitPages));
      }),
    );
  });

  test('a Linux message: 510 units of 2 MiB in three runs above 4 TiB', () => {
    const runs = [
      { startPage: 2 ** 30, pageCount: 200 * 512 },
      { startPage: 2 ** 30 + 201 * 512, pageCount: 300 * 512 },
      { startPage: 512, pageCount: 10 * 512 },
    ];
    const bytes = encodeBalloonResponseUnits(7, true, runs, 512);
    expect(bytes.length).toBe(16 + 8 * 510);
    expect(bytes).toEqual(viaEncode(7, true, runs, 512));
  });

  test('a run across a 2^32-page boundary carries into the high bits of the start page', () => {
    const runs = [{ startPage: 2 ** 32 - 1024, pageCount: 4 * 512 }, { startPage: 3 * 2 ** 32 - 1, pageCount: 3 }];
    expect(encodeBalloonResponseUnits(1, false, runs.slice(0, 1), 512)).toEqual(viaEncode(1, false, runs.slice(0, 1), 512));
    expect(encodeBalloonResponseUnits(1, false, runs.slice(1), 1)).toEqual(viaEncode(1, false, runs.slice(1), 1));
  });

  test('what does not fit the wire fails as encode fails for the units', () => {
    // A unit starting past the 40-bit start_page field.
    const past = [{ startPage: MAX_START_PAGE, pageCount: 2 }];
    expect(errorOf(() => encodeBalloonResponseUnits(1, false, past, 1))).toEqual(errorOf(() => viaEncode(1, false, past, 1)));
    // A unit larger than the 24-bit page_cnt field.
    const big = [{ startPage: 0, pageCount: 2 ** 24 }];
    expect(errorOf(() => encodeBalloonResponseUnits(1, false, big, 2 ** 24))).toEqual(errorOf(() => viaEncode(1, false, big, 2 ** 24)));
    // More units than a message holds (8,189), and far more.
    const many = [{ startPage: 0, pageCount: 8190 }];
    const tooMany = errorOf(() => encodeBalloonResponseUnits(1, false, many, 1));
    expect(tooMany).toEqual(errorOf(() => viaEncode(1, false, many, 1)));
    expect(tooMany.message).toBe(errorOf(() => viaEncode(1, false, many, 1)).message);
    expect(errorOf(() => encodeBalloonResponseUnits(1, false, [{ startPage: 0, pageCount: 2 ** 40 }], 1)).code).toBe('TOO_LONG');
    // A trans_id that is not a u32.
    for (const transId of [-1, 2 ** 32, 1.5]) {
      expect(errorOf(() => encodeBalloonResponseUnits(transId, false, many, 1)).message).toBe(errorOf(() => viaEncode(transId, false, [], 1)).message);
    }
    // A more_pages flag that is not a boolean (a JavaScript caller): encode's error, not a 0/1 bit.
    for (const morePages of [1, 'yes', undefined] as unknown as boolean[]) {
      const e = errorOf(() => encodeBalloonResponseUnits(1, morePages, [{ startPage: 0, pageCount: 512 }], 512));
      expect(e.code).toBe('FIELD_OUT_OF_RANGE');
      expect(e.message).toBe(errorOf(() => viaEncode(1, morePages, [], 1)).message);
    }
  });

  test('runs that are not whole units are refused, naming the field', () => {
    const e = errorOf(() => encodeBalloonResponseUnits(1, false, [{ startPage: 0, pageCount: 512 }, { startPage: 1024, pageCount: 100 }], 512));
    expect(e.code).toBe('FIELD_OUT_OF_RANGE');
    expect(e.field).toBe('runs[1].pageCount');
    expect(e.message).toContain('got 100');
    expect(errorOf(() => encodeBalloonResponseUnits(1, false, [{ startPage: -512, pageCount: 512 }], 512)).field).toBe('runs[0].startPage');
    expect(errorOf(() => encodeBalloonResponseUnits(1, false, [], 0)).field).toBe('unitPages');
  });
});
