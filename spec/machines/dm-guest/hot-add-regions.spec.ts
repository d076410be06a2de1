/**
 * The HAS bookkeeping (Linux hv_balloon.c process_hot_add, handle_pg_range, hv_online_page) as a
 * pure model: regions, covered ranges, gaps, chunks.
 */
import { HotAddRegions, hotAddResult, roundUpToChunks } from '../../../machines/dm-guest/hot-add-regions';

const C = 32_768;
const P = 1_048_576;

/** Run one request through, adding every planned chunk successfully. */
function request(model: HotAddRegions, range: { startPage: number; pageCount: number }, region?: { startPage: number; pageCount: number }) {
  const op = model.begin(region === undefined ? { range } : { range, region });
  const blocks = [];
  while (model.operation!.chunksLeft > 0) {
    blocks.push(model.takeChunk());
    model.chunkAdded();
  }
  return { op, blocks, pageCount: model.finish() };
}

describe('hot-add regions (HAS)', () => {
  it('derives the region of a 16-byte request in whole chunks and covers only what was asked', () => {
    const m = new HotAddRegions(C);
    const { blocks, pageCount } = request(m, { startPage: P, pageCount: 25_600 });
    expect(blocks).toEqual([{ startPage: P, pageCount: C }]);
    expect(pageCount).toBe(25_600);
    expect(m.regions).toEqual([
      { startPage: P, endPage: P + C, haEndPage: P + C, coveredStartPage: P, coveredEndPage: P + 25_600, gaps: [] },
    ]);
    expect(m.addedPages).toBe(25_600);
  });

  it('records a gap when a 16-byte request skips pages, and backs pages inside an added chunk', () => {
    const m = new HotAddRegions(C);
    request(m, { startPage: P, pageCount: 1000 });
    const { blocks, pageCount, op } = request(m, { startPage: P + 3000, pageCount: 500 });
    expect(blocks).toEqual([]);
    expect(pageCount).toBe(500);
    expect(op.backedInAddedChunks).toEqual({ startPage: P + 3000, pageCount: 500 });
    expect(m.regions[0]!.gaps).toEqual([{ startPage: P + 1000, endPage: P + 3000 }]);
    expect(m.backedIn(0, { startPage: P, pageCount: C })).toEqual([
      { startPage: P, pageCount: 1000 },
      { startPage: P + 3000, pageCount: 500 },
    ]);
  });

  it('grows a region by whole chunks when a 16-byte request runs past its end', () => {
    const m = new HotAddRegions(C);
    request(m, { startPage: P, pageCount: 1000 });
    const { blocks, pageCount } = request(m, { startPage: P + 1000, pageCount: 40_000 });
    expect(m.regions[0]!.endPage).toBe(P + 2 * C);
    expect(blocks).toEqual([{ startPage: P + C, pageCount: C }]);
    expect(pageCount).toBe(40_000);
    expect(m.regions[0]!.coveredEndPage).toBe(P + 41_000);
  });

  it('appends a region for every 24-byte request; the first region holding pg_start does the work', () => {
    const m = new HotAddRegions(C);
    request(m, { startPage: P, pageCount: 1000 }, { startPage: P, pageCount: C });
    const second = request(m, { startPage: P + 1000, pageCount: 500 }, { startPage: P, pageCount: C });
    expect(m.regions).toHaveLength(2);
    expect(second.op.regionIndex).toBe(0);
    expect(second.pageCount).toBe(500);
  });

  it('clips a request to its region and adds nothing for 0 pages', () => {
    const m = new HotAddRegions(C);
    const { blocks, pageCount } = request(m, { startPage: P, pageCount: 3 * C }, { startPage: P, pageCount: 2 * C });
    expect(blocks).toHaveLength(2);
    expect(pageCount).toBe(2 * C);
    expect(request(m, { startPage: P, pageCount: 0 }).pageCount).toBe(0);
  });

  it('undoes a chunk whose add failed and adds no more', () => {
    const m = new HotAddRegions(C);
    m.begin({ range: { startPage: P, pageCount: 3 * C }, region: { startPage: P, pageCount: 3 * C } });
    m.takeChunk();
    m.chunkAdded();
    m.takeChunk();
    m.undoChunk();
    expect(m.operation!.chunksLeft).toBe(0);
    expect(m.regions[0]!.haEndPage).toBe(P + C);
    expect(m.finish()).toBe(C);
  });

  it('onlines only backed pages of a block; pages outside every region go online as they are, uncounted', () => {
    const m = new HotAddRegions(C);
    request(m, { startPage: P, pageCount: 25_600 });
    expect(m.onlineBlock({ startPage: P, pageCount: C })).toEqual({ backed: [{ startPage: P, pageCount: 25_600 }], outside: [] });
    expect(m.isBlockOnline(P + 30_000)).toBe(true);
    expect(m.onlineBlock({ startPage: 4 * P, pageCount: C })).toEqual({ backed: [], outside: [{ startPage: 4 * P, pageCount: C }] });
    // Backing the tail of an online block puts it online at once.
    const tail = m.begin({ range: { startPage: P + 25_600, pageCount: 7_168 } });
    expect(tail.onlineNow).toEqual([{ startPage: P + 25_600, pageCount: 7_168 }]);
  });

  it('result: 1 when pages were added or hot-add is disabled (permanent), 0 otherwise (transient)', () => {
    expect(hotAddResult(5, false)).toBe(1);
    expect(hotAddResult(0, true)).toBe(1);
    expect(hotAddResult(0, false)).toBe(0);
  });

  it('rounds up to whole chunks', () => {
    expect(roundUpToChunks(1, C)).toBe(C);
    expect(roundUpToChunks(C, C)).toBe(C);
    expect(roundUpToChunks(C + 1, C)).toBe(2 * C);
  });
});
