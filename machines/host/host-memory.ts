/**
 * The host's physical memory, as a ledger: what each VM holds resident (its guest RAM that is
 * backed: boot RAM and hot-added memory the guest touched, less what the balloon discarded), the
 * host's reserve, and what is free. When the VMs hold more than the host has, the host must page
 * VM memory out (a KVM host swaps; Hyper-V's Smart Paging does the same during a restart): the
 * overflow is charged to the VMs in proportion to what they hold, and the paging traffic is
 * counted per VM. Pure bookkeeping in bytes; the host runtime samples the VMs into it.
 */

export interface HostVmLedger {
  residentBytes: number;
  /** VM memory the host has paged out now. */
  hostPagedBytes: number;
  /** Host paging traffic so far (out + in), bytes. */
  hostPagingTrafficBytes: number;
}

export interface HostLedgerSnapshot {
  memoryBytes: number;
  reserveBytes: number;
  residentBytes: number;
  /** memory - reserve - resident, never below 0. */
  freeBytes: number;
  /** What the VMs hold beyond the host's memory (paged out by the host). */
  overcommitBytes: number;
}

export class HostMemoryLedger {
  readonly vms: HostVmLedger[];
  private last: HostLedgerSnapshot;

  constructor(
    readonly memoryBytes: number,
    readonly reserveBytes: number,
    vmCount: number,
  ) {
    this.vms = Array.from({ length: vmCount }, () => ({ residentBytes: 0, hostPagedBytes: 0, hostPagingTrafficBytes: 0 }));
    this.last = { memoryBytes, reserveBytes, residentBytes: 0, freeBytes: Math.max(0, memoryBytes - reserveBytes), overcommitBytes: 0 };
  }

  /** Record what each VM holds now; recomputes free memory and the host's paging. */
  sample(residentBytes: readonly number[]): HostLedgerSnapshot {
    let total = 0;
    for (const r of residentBytes) total += r;
    const usable = Math.max(0, this.memoryBytes - this.reserveBytes);
    const over = Math.max(0, total - usable);
    residentBytes.forEach((r, i) => {
      const vm = this.vms[i]!;
      vm.residentBytes = r;
      const paged = over === 0 || total === 0 ? 0 : Math.round((over * r) / total);
      vm.hostPagingTrafficBytes += Math.abs(paged - vm.hostPagedBytes);
      vm.hostPagedBytes = paged;
    });
    this.last = { memoryBytes: this.memoryBytes, reserveBytes: this.reserveBytes, residentBytes: total, freeBytes: Math.max(0, usable - total), overcommitBytes: over };
    return this.last;
  }

  snapshot(): HostLedgerSnapshot {
    return { ...this.last };
  }
}
