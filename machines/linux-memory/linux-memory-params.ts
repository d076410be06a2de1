/**
 * The parameters of the Linux guest memory model: what the kernel keeps for itself at boot, what
 * a minimal guest uses, what memory hot-add costs. The defaults reproduce the recorded guest
 * (Debian's Linux 6.12.95 with a busybox initramfs on a 4 GiB q35 VM: docs/memory-model.md,
 * spec/fixtures/qemu-10-rig); a larger distribution guest sets its own baseline.
 */
import { PAGE_SIZE } from '../../protocol/constants';

export interface LinuxMemoryOptions {
  /** Physical address of the kernel image (KASLR picks it at boot). Default 0x40000000. */
  kernelAt?: number;
  /** Pages of the kernel image that stay reserved after boot (text, rodata, data, bss). Default 8879. */
  kernelImagePages?: number;
  /** Other boot reservations (hash tables, percpu areas, page tables, ACPI...), pages. Default 2688. */
  earlyReservedPages?: number;
  /** The software IO TLB reserved below 4 GiB when RAM reaches above 4 GiB, pages. Default 16384 (64 MiB). */
  swiotlbPages?: number;
  /** Pages the kernel has allocated from the page allocator once the guest is up (slab, page tables, initramfs). Default 8889. */
  baselineUsedPages?: number;
  /** Of those, how many sit at the start of ZONE_DMA32 (16 MiB). Default 512. */
  dma32HeadPages?: number;
  /** Of those, how many sit at the start of ZONE_NORMAL (4 GiB). Default 6144. The rest sit right after the kernel image. */
  normalHeadPages?: number;
  /** Committed_AS of the guest's processes, pages. Default 774. */
  committedPages?: number;
  /** Reclaimable kernel memory (SReclaimable + KReclaimable) si_mem_available counts half of, pages. Default 472. */
  reclaimablePages?: number;
  /** Kernel pages a hot-added memory block costs (its memmap and the rest), per 128 MiB block. Default 715. */
  hotplugPagesPerBlock?: number;
}

export type LinuxMemoryParams = Required<LinuxMemoryOptions>;

/** Calibrated to the recordings (docs/memory-model.md says how each was read off them). */
export const DEFAULT_LINUX_MEMORY: LinuxMemoryParams = {
  kernelAt: 0x4000_0000,
  kernelImagePages: 8879,
  earlyReservedPages: 2688,
  swiotlbPages: 16384,
  baselineUsedPages: 8889,
  dma32HeadPages: 512,
  normalHeadPages: 6144,
  committedPages: 774,
  reclaimablePages: 472,
  hotplugPagesPerBlock: 715,
};

const KEYS = Object.keys(DEFAULT_LINUX_MEMORY) as (keyof LinuxMemoryParams)[];

export class LinuxMemoryParamError extends Error {
  override readonly name = 'LinuxMemoryParamError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Check untrusted options; `path` prefixes field names (e.g. "guest.memory"). */
export function resolveLinuxMemory(value: unknown, path = 'memory'): LinuxMemoryParams {
  if (value === undefined) return { ...DEFAULT_LINUX_MEMORY };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LinuxMemoryParamError(path, `${path} must be an object of Linux memory parameters (${KEYS.join(', ')}), got ${JSON.stringify(value)}`);
  }
  const out: LinuxMemoryParams = { ...DEFAULT_LINUX_MEMORY };
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const field = `${path}.${key}`;
    if (!(KEYS as string[]).includes(key)) throw new LinuxMemoryParamError(field, `${field} is not a Linux memory parameter (parameters: ${KEYS.join(', ')})`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new LinuxMemoryParamError(field, `${field} must be a non-negative integer, got ${JSON.stringify(v)}`);
    }
    if (key === 'kernelAt' && v % (2 * 1024 * 1024) !== 0) {
      throw new LinuxMemoryParamError(field, `${field} must be 2 MiB aligned (the kernel's physical alignment), got 0x${v.toString(16)}`);
    }
    out[key as keyof LinuxMemoryParams] = v;
  }
  if (out.dma32HeadPages + out.normalHeadPages > out.baselineUsedPages) {
    throw new LinuxMemoryParamError(
      `${path}.baselineUsedPages`,
      `${path}.baselineUsedPages (${out.baselineUsedPages}) must be at least dma32HeadPages + normalHeadPages (${out.dma32HeadPages + out.normalHeadPages})`,
    );
  }
  return out;
}

/** Page number of the kernel image. */
export function kernelStartPage(p: LinuxMemoryParams): number {
  return p.kernelAt / PAGE_SIZE;
}
