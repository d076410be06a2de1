/**
 * The IDLE handler's target maths (QEMU hw/hyperv/hv-balloon.c
 * hv_balloon_idle_state_process_target). All quantities are 4 KiB pages. Pure functions.
 */

/** QEMU hv_balloon_total_ram: boot RAM + realized pc-dimms + pages this device hot-added. */
export function ramTotalPages(bootRamPages: number, pcDimmPages: number, ourAddedPages: number): number {
  return bootRamPages + pcDimmPages + ourAddedPages;
}

/**
 * QEMU hv_balloon_total_removed_rs: removed_guest_ctr + removed_both_ctr, clamped to ram_total
 * because a guest can report pages outside real RAM (or one page into two trees).
 */
export function totalRemovedPages(removedGuestCtr: number, removedBothCtr: number, ramTotal: number): number {
  return Math.min(removedGuestCtr + removedBothCtr, ramTotal);
}

export interface TargetInputs {
  /** The balloon target: the total guest size wanted, in pages (QEMU `target`). */
  target: number;
  ramTotal: number;
  removedGuestCtr: number;
  removedBothCtr: number;
  canBalloon: boolean;
  canHotAdd: boolean;
}

/**
 * What the IDLE handler starts, with the diffs it latches. QEMU writes unballoon_diff and
 * hot_add_diff whenever the guest should grow (even when both end up 0), and balloon_diff only
 * when it should shrink; 'none' writes nothing.
 */
export type TargetPlan =
  | { kind: 'unballoon'; unballoonDiff: number; hotAddDiff: number }
  | { kind: 'hotAdd'; unballoonDiff: 0; hotAddDiff: number }
  /** The guest should grow but nothing can be done (nothing ballooned, no hot-add): no error. */
  | { kind: 'growNothing'; unballoonDiff: 0; hotAddDiff: 0 }
  | { kind: 'balloon'; balloonDiff: number }
  | { kind: 'none' };

export function planForTarget(i: TargetInputs): TargetPlan {
  const removed = totalRemovedPages(i.removedGuestCtr, i.removedBothCtr, i.ramTotal);
  const current = i.ramTotal - removed;
  if (i.target > current) {
    const diff = i.target - current;
    // QEMU: return ballooned pages first, then hot-add the rest (only with the hot_add capability).
    const unballoonDiff = Math.min(diff, removed);
    const hotAddDiff = i.canHotAdd ? diff - unballoonDiff : 0;
    if (unballoonDiff > 0) return { kind: 'unballoon', unballoonDiff, hotAddDiff };
    if (hotAddDiff > 0) return { kind: 'hotAdd', unballoonDiff: 0, hotAddDiff };
    return { kind: 'growNothing', unballoonDiff: 0, hotAddDiff: 0 };
  }
  if (i.canBalloon && i.target < current) return { kind: 'balloon', balloonDiff: current - i.target };
  return { kind: 'none' };
}
