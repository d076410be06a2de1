/**
 * Paging: a guest whose demand exceeds its memory swaps (counted), keeps the swapped memory in
 * Committed_AS (what its status reports tell the host), and reads it back when memory returns.
 */
import { createVm } from '../../../actors/vm/create-vm';
import { MachineMemory } from '../../../machines/machine-memory';
import { followDemand } from '../../../machines/workload/paging';

const G = 2 ** 30;
const PAGES_PER_G = G / 4096;

describe('paging', () => {
  it('demand beyond free memory is swapped out and stays committed', () => {
    const m = new MachineMemory({ ramBytes: 2 * G });
    const committedAtBoot = m.committedPages();
    const r = followDemand(m, 3 * PAGES_PER_G, 0);
    expect(r.swapOutPages).toBeGreaterThan(PAGES_PER_G);
    expect(m.workloadUsedPages() + m.swappedPages()).toBe(3 * PAGES_PER_G);
    expect(m.committedPages()).toBe(committedAtBoot + 3 * PAGES_PER_G);
    expect(m.swapStats().swapOutPages).toBe(r.swapOutPages);
    expect(r.work.some((w) => w.kind === 'pageSwapped')).toBe(true);
  });

  it('a working set partly in swap thrashes: touched pages fault in and push others out', () => {
    const m = new MachineMemory({ ramBytes: 2 * G });
    followDemand(m, 3 * PAGES_PER_G, 0);
    const before = m.swapStats();
    const r = followDemand(m, 3 * PAGES_PER_G, PAGES_PER_G / 4);
    expect(r.swapInPages).toBeGreaterThan(0);
    expect(r.swapInPages).toBe(r.swapOutPages);
    expect(m.swappedPages()).toBe(before.swappedPages);
  });

  it('when demand falls, swapped pages go first and no I/O is counted for them', () => {
    const m = new MachineMemory({ ramBytes: 2 * G });
    followDemand(m, 3 * PAGES_PER_G, 0);
    const swapped = m.swappedPages();
    const r = followDemand(m, 3 * PAGES_PER_G - swapped, 0);
    expect(m.swappedPages()).toBe(0);
    expect(r.swapInPages).toBe(0);
  });

  it('in a VM: a demand workload above boot size swaps; memory the host gives back is paged in', () => {
    const vm = createVm({
      machine: { memory: '2G', maxmem: '40G' },
      device: { statusReport: true, memdev: '4G' },
      workload: { kind: 'demand', shape: 'steady', baseBytes: '3G', periodMs: '5s' },
    });
    vm.run(60_000);
    const short = vm.counters().memory;
    expect(short.swappedPages).toBeGreaterThan(0);
    let committed = 0;
    vm.events$.subscribe((e) => {
      if (e.event === 'HV_BALLOON_STATUS_REPORT') committed = (e.data as { committed: number }).committed;
    });
    vm.run(2_000);
    expect(committed).toBeGreaterThan(3 * G);
    vm.balloon(5 * G);
    vm.run(120_000);
    const after = vm.counters().memory;
    expect(after.swappedPages).toBe(0);
    expect(after.swapInPages).toBeGreaterThan(0);
    vm.dispose();
  });
});
