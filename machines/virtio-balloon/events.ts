/**
 * The messages of a virtio-balloon VM's parts. The driver and the device share the transport's
 * queues and config space (shared memory); what travels on the bus are the notifications: kicks
 * and config writes to the device (VM exits), used-buffer and config-change interrupts to the guest.
 */
import type { VirtqueueName } from './constants';

/** To the virtio-balloon device (systemId 'device'). */
export type VirtioDeviceEvent =
  /** user (balloon command): QEMU virtio_balloon_to_target with the byte value. */
  | { type: 'virtio.set-target'; targetBytes: number }
  /** guest: feature negotiation done, DRIVER_OK set (QEMU virtio_balloon_set_status). */
  | { type: 'virtio.driver-ok' }
  /** guest: virtqueue_kick on a queue (QEMU: the queue's handle_output runs). */
  | { type: 'virtio.kick'; queue: VirtqueueName }
  /** guest: wrote `actual` into the config space (QEMU virtio_balloon_set_config). */
  | { type: 'virtio.config-written' }
  /** qom-set guest-stats-polling-interval, already validated (QEMU balloon_stats_set_poll_interval). */
  | { type: 'virtio.set-stats-interval'; seconds: number };

/** To the virtio_balloon driver (systemId 'guest'). */
export type VirtioGuestEvent =
  /** vm: the device is found at boot; the driver probes (virtballoon_probe). */
  | { type: 'virtio.probe' }
  /** device: a buffer was used on `queue` (the vring interrupt: balloon_ack / stats_request). */
  | { type: 'virtio.interrupt'; queue: VirtqueueName }
  /** device: the config space changed (virtballoon_changed). */
  | { type: 'virtio.config-changed' }
  /** vm (the guest kernel): an allocation failed and out_of_memory() runs the OOM notifiers. */
  | { type: 'virtio.oom' };
