/**
 * The simplified virtio transport between QEMU's virtio-balloon device and Linux's virtio_balloon
 * driver. What is kept: the three virtqueues as FIFOs of buffers the guest makes available and the
 * host returns used (shared memory, read and written synchronously by both sides, as the vring
 * is); the device config space (`num_pages`, `actual`); the negotiated feature bits. Kicks,
 * used-buffer interrupts and config-change interrupts are bus messages (the machines post them).
 *
 * Left out (docs/virtio-balloon.md#the-transport): descriptor tables, indirect descriptors,
 * avail/used ring indices and event suppression, queue sizes (a queue never fills: the guest has
 * one buffer in flight per queue), PCI/MMIO registers and the status byte beyond DRIVER_OK, the
 * free-page-hint and free-page-reporting queues, page poisoning.
 *
 * A buffer of PFNs carries them as runs of consecutive PFNs (ranges, not pages): the device still
 * handles, and is charged for, every PFN in it.
 */
import type { PageRange } from '../../protocol/messages';
import type { VirtqueueName } from './constants';

/** An inflate or deflate buffer: the PFNs, as runs, and how many there are. */
export interface PfnBuffer {
  kind: 'pfns';
  runs: PageRange[];
  pfnCount: number;
}

/** A stats buffer: {tag, value} entries in the guest's order. */
export interface StatsBuffer {
  kind: 'stats';
  entries: ReadonlyArray<{ tag: number; value: bigint }>;
}

export type VirtqueueBuffer = PfnBuffer | StatsBuffer;

/** One virtqueue: buffers the driver made available, buffers the device has used. */
export class Virtqueue {
  private readonly avail: VirtqueueBuffer[] = [];
  private readonly used: VirtqueueBuffer[] = [];
  /** Buffers made available since the queue was set up, and bytes they carried (for the comparison). */
  buffersAdded = 0;
  bytesAdded = 0;

  constructor(readonly name: VirtqueueName) {}

  /** Driver: virtqueue_add_outbuf. */
  addOutbuf(buffer: VirtqueueBuffer, bytes: number): void {
    this.avail.push(buffer);
    this.buffersAdded++;
    this.bytesAdded += bytes;
  }
  /** Device: virtqueue_pop. */
  pop(): VirtqueueBuffer | undefined {
    return this.avail.shift();
  }
  /** Device: virtqueue_push. */
  push(buffer: VirtqueueBuffer): void {
    this.used.push(buffer);
  }
  /** Driver: virtqueue_get_buf. */
  getBuf(): VirtqueueBuffer | undefined {
    return this.used.shift();
  }
  /** Device: virtqueue_unpop of a buffer it held (QEMU keeps the stats buffer until it polls). */
  unpop(buffer: VirtqueueBuffer): void {
    this.avail.unshift(buffer);
  }
  get availCount(): number {
    return this.avail.length;
  }
  /** Device reset: the rings are re-initialized by the driver. */
  clear(): void {
    this.avail.length = 0;
    this.used.length = 0;
  }
}

/** struct virtio_balloon_config, the part we keep: both in 4 KiB pages. */
export interface VirtioBalloonConfigSpace {
  /** Host's target balloon size (written by QEMU virtio_balloon_to_target). */
  numPages: number;
  /** Guest's current balloon size (written by the driver, update_balloon_size). */
  actual: number;
}

/** The device's queues, config space and negotiated features, shared by device and driver. */
export class VirtioBalloonTransport {
  readonly queues: Readonly<Record<VirtqueueName, Virtqueue>> = {
    inflate: new Virtqueue('inflate'),
    deflate: new Virtqueue('deflate'),
    stats: new Virtqueue('stats'),
  };
  readonly config: VirtioBalloonConfigSpace = { numPages: 0, actual: 0 };
  /** Feature bits the driver accepted (a bit mask; set at DRIVER_OK). */
  features = 0;
  /** DRIVER_OK has been set since the last reset. */
  driverOk = false;

  /** Offered by QEMU: STATS_VQ always, DEFLATE_ON_OOM if the device property is on. */
  constructor(readonly hostFeatures: number) {}

  has(bit: number): boolean {
    return (this.features & (1 << bit)) !== 0;
  }

  /** A device reset (the guest reboots): queues and features go; config space stays (QEMU keeps num_pages/actual). */
  reset(): void {
    for (const q of Object.values(this.queues)) q.clear();
    this.features = 0;
    this.driverOk = false;
  }
}
