/**
 * A DM_BALLOON_RESPONSE listing units given as runs. A Linux guest balloons in 2 MiB units and
 * lists every unit as its own range (Linux never merges them), 510 to a message; the units of a
 * message mostly lie back to back, so the guest keeps them as a few runs and this writes the
 * unit ranges straight into the bytes, without one PageRange object per unit.
 *
 * The bytes are exactly `encode`'s for the same message with the units listed one by one, and so
 * are the errors (a value that does not fit goes through `encode`, which names the field).
 */
import { encode } from './codec';
import { ProtocolError } from './errors';
import { DM_MESSAGE_TYPE_IDS, type PageRange } from './messages';
import { MAX_MESSAGE_BYTES, MAX_PAGE_COUNT, MAX_START_PAGE } from './constants';

/** PROTO struct dm_balloon_response: header, u32 reservedz, u32 more_pages:1 range_count:31, then the ranges. */
const RANGES_OFFSET = 16;
const TWO_POW_32 = 2 ** 32;
/** Typed arrays use the platform's byte order; where it is little-endian the words are written directly. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Units of `unitPages` in `runs`, in order: run 0's units from its start upward, then run 1's... */
export function unitsOfRuns(runs: readonly PageRange[], unitPages: number): PageRange[] {
  const out: PageRange[] = [];
  for (const run of runs) {
    for (let p = run.startPage; p < run.startPage + run.pageCount; p += unitPages) out.push({ startPage: p, pageCount: unitPages });
  }
  return out;
}

/**
 * The bytes of `{type: 'DM_BALLOON_RESPONSE', transId, morePages, ranges: unitsOfRuns(runs, unitPages)}`.
 * `unitPages` and the runs' fields must be whole numbers, and every run a whole number of units
 * (FIELD_OUT_OF_RANGE naming `unitPages` or `runs[i].<field>` if not); what does not fit the wire
 * is reported by `encode` as for the units one by one.
 */
export function encodeBalloonResponseUnits(transId: number, morePages: boolean, runs: readonly PageRange[], unitPages: number): Uint8Array {
  if (!Number.isInteger(unitPages) || unitPages < 1) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `DM_BALLOON_RESPONSE unitPages: must be an integer >= 1, got ${String(unitPages)}`, 'unitPages');
  }
  let units = 0;
  // encode checks transId and morePages before the ranges: the same error whatever the ranges
  // (a JavaScript caller can pass a morePages that is not a boolean).
  if (!Number.isInteger(transId) || transId < 0 || transId >= TWO_POW_32 || typeof morePages !== 'boolean') {
    return encode({ type: 'DM_BALLOON_RESPONSE', transId, morePages, ranges: [] });
  }
  let fits = unitPages <= MAX_PAGE_COUNT;
  for (let i = 0; i < runs.length; i++) {
    const { startPage, pageCount } = runs[i]!;
    if (!Number.isSafeInteger(startPage) || startPage < 0) badRun(i, 'startPage', 'an integer >= 0', startPage);
    if (!Number.isSafeInteger(pageCount) || pageCount < 0 || pageCount % unitPages !== 0) {
      badRun(i, 'pageCount', `a whole number of units (${unitPages} pages)`, pageCount);
    }
    if (pageCount > 0 && startPage + pageCount - unitPages > MAX_START_PAGE) fits = false;
    units += pageCount / unitPages;
  }
  const size = RANGES_OFFSET + 8 * units;
  if (size > MAX_MESSAGE_BYTES) {
    // encode's wording, without building the (possibly huge) list of units first.
    const maxRanges = Math.floor((MAX_MESSAGE_BYTES - RANGES_OFFSET) / 8);
    throw new ProtocolError(
      'TOO_LONG',
      `DM_BALLOON_RESPONSE ranges: ${units} ranges need ${size} bytes; a DM message holds at most ${maxRanges} (${MAX_MESSAGE_BYTES} bytes)`,
      'ranges',
    );
  }
  // encode's own checks and wording for a value that does not fit its wire field.
  if (!fits) return encode({ type: 'DM_BALLOON_RESPONSE', transId, morePages, ranges: unitsOfRuns(runs, unitPages) });

  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, DM_MESSAGE_TYPE_IDS.DM_BALLOON_RESPONSE, true);
  view.setUint16(2, size, true);
  view.setUint32(4, transId, true);
  view.setUint32(12, (units * 2 + (morePages ? 1 : 0)) >>> 0, true);
  // PROTO union dm_mem_page_range: start_page in bits 0-39, page_cnt in bits 40-63; as two
  // little-endian u32 words, the low 32 bits of start_page, then its high 8 bits + page_cnt x 256.
  const countBits = unitPages * 256;
  let word = RANGES_OFFSET / 4;
  const words = LITTLE_ENDIAN ? new Uint32Array(bytes.buffer) : null;
  for (const run of runs) {
    let low = run.startPage % TWO_POW_32;
    let high = Math.floor(run.startPage / TWO_POW_32);
    for (let left = run.pageCount; left > 0; left -= unitPages) {
      if (words !== null) {
        words[word] = low;
        words[word + 1] = high + countBits;
      } else {
        view.setUint32(word * 4, low, true);
        view.setUint32(word * 4 + 4, high + countBits, true);
      }
      word += 2;
      low += unitPages;
      if (low >= TWO_POW_32) {
        low -= TWO_POW_32;
        high++;
      }
    }
  }
  return bytes;
}

function badRun(i: number, field: string, expected: string, value: unknown): never {
  throw new ProtocolError('FIELD_OUT_OF_RANGE', `DM_BALLOON_RESPONSE runs[${i}].${field}: must be ${expected}, got ${String(value)}`, `runs[${i}].${field}`);
}
