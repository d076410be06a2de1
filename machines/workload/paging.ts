/**
 * Paging: what a guest does when its applications want more memory than it has. The workload's
 * demand is met from free memory while it lasts; the rest is swapped out (the kernel evicts
 * anonymous pages to make room), and when memory comes back (balloon deflated, memory hot-added)
 * swapped pages are read back in. While part of the working set is swapped out, the pages the
 * workload touches fault in from swap, each pushing another page out: the thrashing that makes
 * an under-provisioned VM slow. Swap traffic is counted like Linux's /proc/vmstat pswpin/pswpout.
 *
 * Swapped pages stay committed (Linux Committed_AS counts anonymous memory wherever it lives), so
 * the guest's status reports tell the host about demand it cannot hold.
 */
import type { WorkItem } from '../part-events';
import type { WorkloadMemory } from '../vcpu.machine';

/** The memory model's side of paging (MachineMemory implements it). */
export interface PagingMemory extends WorkloadMemory {
  /** Free pages an allocation may take (above the min watermark). */
  allocatablePages(): number;
  swappedPages(): number;
  /** `pages` of the workload went to swap (counted as pswpout). */
  swapOut(pages: number): void;
  /** `pages` came back from swap (counted as pswpin); the caller allocated room for them. */
  swapIn(pages: number): void;
  /** The workload freed `pages` that were in swap (no I/O). */
  dropSwapped(pages: number): number;
}

export function isPagingMemory(m: WorkloadMemory | null | undefined): m is PagingMemory {
  return m !== null && m !== undefined && typeof (m as Partial<PagingMemory>).swapOut === 'function';
}

export interface FollowResult {
  work: WorkItem[];
  /** Pages the workload's footprint moved by (allocated or freed, resident or swapped). */
  moved: number;
  swapInPages: number;
  swapOutPages: number;
}

/**
 * Moves the workload's footprint (resident + swapped) to `demandPages`, then pages in what free
 * memory allows, then thrashes `activePages` x (swapped share) pages. Returns the work it cost.
 */
export function followDemand(memory: PagingMemory, demandPages: number, activePages: number): FollowResult {
  let swapIn = 0;
  let swapOut = 0;
  let moved = 0;
  const work: WorkItem[] = [];
  const have = memory.workloadUsedPages() + memory.swappedPages();
  if (demandPages < have) {
    // The application frees memory: what sits in swap goes first (no I/O), then resident pages.
    let drop = have - demandPages;
    const fromSwap = memory.dropSwapped(Math.min(drop, memory.swappedPages()));
    drop -= fromSwap;
    const freed = drop > 0 ? memory.freeUsed(drop) : 0;
    moved = fromSwap + freed;
    if (freed > 0) work.push({ kind: 'pageFreed', count: freed });
  } else if (demandPages > have) {
    const need = demandPages - have;
    const ranges = memory.allocateUsed(need);
    const got = ranges.reduce((sum, r) => sum + r.pageCount, 0);
    if (got > 0) work.push({ kind: 'pageAllocated', count: got }, { kind: 'rangeAllocated', count: ranges.length });
    // No room: the kernel evicts older anonymous pages to make it (counted as written to swap).
    if (need > got) {
      memory.swapOut(need - got);
      swapOut += need - got;
    }
    moved = need;
  }
  // Memory came back: swapped pages are read in as free memory allows.
  const swapped = memory.swappedPages();
  if (swapped > 0) {
    const ranges = memory.allocateUsed(Math.min(swapped, memory.allocatablePages()));
    const back = ranges.reduce((sum, r) => sum + r.pageCount, 0);
    if (back > 0) {
      memory.swapIn(back);
      swapIn += back;
      work.push({ kind: 'pageAllocated', count: back }, { kind: 'rangeAllocated', count: ranges.length });
    }
  }
  // Thrashing: the touched pages that are in swap fault in, each evicting another.
  const stillSwapped = memory.swappedPages();
  const footprint = stillSwapped + memory.workloadUsedPages();
  if (stillSwapped > 0 && activePages > 0 && footprint > 0) {
    const faults = Math.min(stillSwapped, memory.workloadUsedPages(), Math.round((activePages * stillSwapped) / footprint));
    if (faults > 0) {
      memory.swapIn(faults);
      memory.swapOut(faults);
      swapIn += faults;
      swapOut += faults;
    }
  }
  if (swapIn + swapOut > 0) work.push({ kind: 'pageSwapped', count: swapIn + swapOut });
  return { work, moved, swapInPages: swapIn, swapOutPages: swapOut };
}
