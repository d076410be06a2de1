/**
 * Page ranges read one field at a time, without an object per range. A balloon response carries up
 * to 8,189 ranges (a Linux guest sends ~400 of 2 MiB each), and the device only reads them once, in
 * order, to account for them: `decode` would build one PageRange object per range for that. A
 * RangeList reads the same values `decode` gives, straight from the message's bytes (WireRanges),
 * or from an array of PageRange (rangeListOf), so the accounting code takes either.
 * Internal to the package (not re-exported from protocol/index.ts); codec.ts decodes a range with
 * the same two functions.
 */
import type { PageRange } from './messages';

/** Read-only, indexed page ranges: startPage(i) and pageCount(i) for 0 <= i < length. */
export interface RangeList {
  readonly length: number;
  startPage(index: number): number;
  pageCount(index: number): number;
}

const TWO_POW_32 = 2 ** 32;

// PROTO union dm_mem_page_range: start_page bits 0-39, page_cnt bits 40-63 of one u64. Two u32
// halves keep it exact without BigInt: the high half holds start bits 32-39 and the count.

/** start_page of the range whose 8 bytes start at `offset`. */
export function wireRangeStart(view: DataView, offset: number): number {
  return (view.getUint32(offset + 4, true) & 0xff) * TWO_POW_32 + view.getUint32(offset, true);
}

/** page_cnt of the range whose 8 bytes start at `offset`. */
export function wireRangeCount(view: DataView, offset: number): number {
  return view.getUint32(offset + 4, true) >>> 8;
}

/**
 * `count` ranges at byte `offset` of `bytes`, as they lie on the wire. The caller has checked that
 * they are all there (offset + 8 * count <= bytes.length), as `decode` checks before reading them.
 */
export class WireRanges implements RangeList {
  private readonly view: DataView;

  constructor(
    bytes: Uint8Array,
    private readonly offset: number,
    readonly length: number,
  ) {
    if (!Number.isInteger(length) || length < 0 || offset + 8 * length > bytes.length) {
      throw new RangeError(`${length} page ranges at byte ${offset} do not fit in ${bytes.length} bytes`);
    }
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  startPage(index: number): number {
    return wireRangeStart(this.view, this.offset + 8 * index);
  }

  pageCount(index: number): number {
    return wireRangeCount(this.view, this.offset + 8 * index);
  }

  /** The ranges as objects (what `decode` builds). */
  toArray(): PageRange[] {
    const out = new Array<PageRange>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = { startPage: this.startPage(i), pageCount: this.pageCount(i) };
    return out;
  }
}

/** An array of PageRange as a RangeList. */
export function rangeListOf(ranges: readonly PageRange[]): RangeList {
  return {
    length: ranges.length,
    startPage: (i) => ranges[i]!.startPage,
    pageCount: (i) => ranges[i]!.pageCount,
  };
}
