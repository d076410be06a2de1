/** The Linux balloon floor (hv_balloon.c compute_balloon_floor) and balloon_up's once-per-request clamp. */
import { balloonFloorPages, clampToFloor, clampToReserve } from '../../../machines/dm-guest/balloon-floor';

const MiB = 256;

describe('balloon floor (Linux compute_balloon_floor)', () => {
  it.each([
    [256, 104],
    [512, 168],
    [1024, 232],
    [2048, 360],
    [4096, 488],
    [8192, 744],
    [16384, 1000],
    [32768, 1512],
  ])('%i MiB of managed memory -> %i MiB floor', (totalMiB, floorMiB) => {
    expect(balloonFloorPages(totalMiB * MiB)).toBe(floorMiB * MiB);
  });

  it('uses 8 MiB + T/2 below 128 MiB', () => {
    expect(balloonFloorPages(64 * MiB)).toBe(40 * MiB);
    expect(balloonFloorPages(0)).toBe(8 * MiB);
  });

  it('is continuous at every boundary (no jump when the balloon crosses one)', () => {
    for (const boundary of [128, 512, 2048, 8192].map((m) => m * MiB)) {
      expect(balloonFloorPages(boundary) - balloonFloorPages(boundary - 1)).toBeLessThanOrEqual(1);
    }
  });

  it('costs nothing per page: a 1 TiB guest is computed in integer pages', () => {
    expect(balloonFloorPages(1024 * 1024 * MiB)).toBe(488 * MiB + 32 * 1024 * MiB);
  });
});

describe('balloon request clamp', () => {
  it('keeps a request that leaves the floor free', () => {
    expect(clampToFloor(1000, 100_000, 50_000)).toEqual({ pages: 1000, partial: null });
  });
  it('cuts a request that would go below the floor to available - floor', () => {
    expect(clampToFloor(80_000, 100_000, 50_000)).toEqual({ pages: 50_000, partial: 'floor-reached' });
  });
  it('cuts a request above what is available', () => {
    expect(clampToFloor(200_000, 100_000, 50_000)).toEqual({ pages: 50_000, partial: 'not-enough-memory' });
  });
  it('clamps to 0 when available is already below the floor', () => {
    expect(clampToFloor(10, 40_000, 50_000)).toEqual({ pages: 0, partial: 'floor-reached' });
  });
  it('Windows-like: keeps the reserve free', () => {
    expect(clampToReserve(100, 1000, 512)).toEqual({ pages: 100, partial: null });
    expect(clampToReserve(900, 1000, 512)).toEqual({ pages: 488, partial: 'reserve-reached' });
  });
});
