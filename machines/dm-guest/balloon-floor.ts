/**
 * The Linux guest's balloon floor and the balloon-up request clamp (Linux drivers/hv/hv_balloon.c
 * compute_balloon_floor, balloon_up). Pure integer page arithmetic: MiB -> pages is x256, T/2^k is
 * a division.
 */

/** 4 KiB pages per MiB. */
const MIB = 256;

/**
 * Linux hv_balloon.c compute_balloon_floor: the memory the guest keeps whatever the host asks,
 * from the managed page count T (totalram_pages, which shrinks as the balloon grows).
 * Piecewise, continuous: 8 MiB + T/2 below 128 MiB, 40 + T/4 below 512 MiB, 104 + T/8 below
 * 2 GiB, 232 + T/16 below 8 GiB, else 488 MiB + T/32.
 */
export function balloonFloorPages(managedPages: number): number {
  const t = Math.max(0, Math.floor(managedPages));
  if (t < 128 * MIB) return 8 * MIB + Math.floor(t / 2);
  if (t < 512 * MIB) return 40 * MIB + Math.floor(t / 4);
  if (t < 2048 * MIB) return 104 * MIB + Math.floor(t / 8);
  if (t < 8192 * MIB) return 232 * MIB + Math.floor(t / 16);
  return 488 * MIB + Math.floor(t / 32);
}

/** Why a balloon request was cut down, if it was. */
export type PartialReason = 'not-enough-memory' | 'floor-reached' | 'reserve-reached';

export interface ClampedRequest {
  /** Pages the guest will try to balloon. */
  pages: number;
  /** Set when `pages` is below the request. */
  partial: PartialReason | null;
}

/**
 * Linux hv_balloon.c balloon_up, done once per request: if MemAvailable is below the request, or
 * would fall below the floor, balloon only max(available - floor, 0).
 */
export function clampToFloor(requestedPages: number, availablePages: number, floorPages: number): ClampedRequest {
  if (availablePages < requestedPages) {
    return { pages: Math.max(availablePages - floorPages, 0), partial: 'not-enough-memory' };
  }
  if (availablePages - requestedPages < floorPages) {
    return { pages: Math.max(availablePages - floorPages, 0), partial: 'floor-reached' };
  }
  return { pages: requestedPages, partial: null };
}

/**
 * The Windows-like profile: keep `reservePages` of available memory for itself (qemu-devel,
 * Szmigiero 2020-09-22: Windows "will generally leave some memory free", a few hundred MB to
 * 1+ GB). The fixed reserve is this simulator's assumption.
 */
export function clampToReserve(requestedPages: number, availablePages: number, reservePages: number): ClampedRequest {
  const allowed = Math.max(availablePages - reservePages, 0);
  return requestedPages <= allowed ? { pages: requestedPages, partial: null } : { pages: allowed, partial: 'reserve-reached' };
}

/** The log line Linux prints when the clamp bites (hv_balloon.c balloon_up). */
export function partialFulfilmentText(reason: PartialReason): string {
  switch (reason) {
    case 'not-enough-memory':
      return 'Balloon request will be partially fulfilled. Not enough memory.';
    case 'floor-reached':
      return 'Balloon request will be partially fulfilled. Balloon floor reached.';
    case 'reserve-reached':
      return 'Balloon request will be partially fulfilled. Free-memory reserve reached.';
  }
}
