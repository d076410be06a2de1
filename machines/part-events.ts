/**
 * The typed messages that cross between the machine's parts. Every part is an XState actor with a
 * `systemId` from {@link PartId}; parts never call each other's actors directly, they post these
 * events through an {@link Outbox}, which the runtime (actors/message-bus.ts) schedules on the
 * virtual clock. Naming rule: an event's prefix is the part that receives it.
 */
import type { PageRange } from '../protocol/messages';
import type { VirtioDeviceEvent, VirtioGuestEvent } from './virtio-balloon/events';

/** The systemIds of the parts of one VM. */
export type PartId = 'vm' | 'device' | 'channel' | 'guest' | 'memctl' | 'vcpu';

/** Which end of the VMBus channel. The host end is the hv-balloon device, the guest end the DM driver. */
export type ChannelSide = 'host' | 'guest';

// ---- to the VMBus channel ----------------------------------------------------------------------
export type ChannelEvent =
  /** guest: open the DM channel (vmbus_open). */
  | { type: 'channel.open' }
  /** guest: close the DM channel (CLOSECHANNEL). */
  | { type: 'channel.close' }
  /** device: the open may go ahead (QEMU open_channel callback returned 0). */
  | { type: 'channel.open-accepted' }
  /** device: the open is refused (QEMU: "guest trying to open a DM channel in invalid %d state"). */
  | { type: 'channel.open-refused'; reason: string }
  /** an endpoint wrote packets or freed room and signals the other side (a hypercall/interrupt). */
  | { type: 'channel.signal'; from: ChannelSide }
  /** vm: system reset; the bus resets every channel. */
  | { type: 'system.reset' };

// ---- to the hv-balloon device (host) ----------------------------------------------------------
export type DeviceChannelEvent =
  /** channel: the guest asks to open; answer with channel.open-accepted / channel.open-refused. */
  | { type: 'device.open-request' }
  /** channel: the guest signalled (new packets, or room freed after pending_send_sz). */
  | { type: 'device.notify' }
  /** channel: QEMU close_channel callback. */
  | { type: 'device.close-channel' }
  /** channel: all channels closed, QEMU vmdev_reset. */
  | { type: 'device.reset' }
  /** vm: system reset (QEMU's reset hook: free the hot-add range). */
  | { type: 'system.reset' };

/** user (balloon command) -> device: QEMU hv_balloon_to_target with target_pages = bytes >> 12. */
export type DeviceControlEvent = { type: 'device.set-target'; targetPages: number };

// ---- to the guest DM driver --------------------------------------------------------------------
export type GuestChannelEvent =
  /** channel: the DM channel is offered at boot (the driver probes). */
  | { type: 'guest.channel-offered' }
  /** channel: the result of channel.open. */
  | { type: 'guest.channel-opened'; ok: boolean }
  /** channel: the host signalled (new packets, or room freed after pending_send_sz). */
  | { type: 'guest.interrupt' }
  /** channel: the channel was closed or reset under the guest. */
  | { type: 'guest.channel-closed' };

// ---- to the vCPU -------------------------------------------------------------------------------
/** What a piece of guest work costs; the vCPU prices each kind from the cost model. */
export type CostKind =
  | 'pageAllocated'
  | 'pageFreed'
  | 'pageDirtied'
  | 'rangeAllocated'
  | 'rangeFreed'
  | 'messageHandled'
  | 'messageSent'
  | 'blockAdded'
  | 'pageOnlined'
  | 'pageSwapped'
  /** virtio-balloon: the guest puts one PFN into (or takes one out of) a buffer. */
  | 'pfnQueued'
  /** virtio-balloon: the host handles one PFN of a buffer (QEMU: a section lookup and one madvise). */
  | 'pfnHandled'
  /** virtio-balloon: one buffer's round trip: kick, host wake-up, used interrupt, guest wake-up. */
  | 'bufferRoundTrip';
export interface WorkItem {
  kind: CostKind;
  count: number;
}
export interface VcpuJob {
  /** who gets `job.done` when the job has run. */
  owner: PartId;
  /** echoed in `job.done`, so the owner knows which job finished. */
  tag: string;
  work: WorkItem[];
}
export type VcpuEvent =
  | { type: 'vcpu.run'; job: VcpuJob }
  | { type: 'vcpu.halt' }
  | { type: 'vcpu.resume' }
  | { type: 'system.reset' };
/** vcpu -> owner: the job has been charged and has run. */
export type JobDoneEvent = { type: 'job.done'; tag: string; costMs: number };

// ---- to the memory controller -------------------------------------------------------------------
export type MemctlEvent =
  /** guest: a hot-added memory block exists now (offline); online it per the auto-online policy. */
  | { type: 'memctl.block-added'; range: PageRange }
  | { type: 'system.reset' };
/** memctl -> guest: the block was onlined (Linux memory notifier MEM_ONLINE). */
export type GuestMemoryEvent = { type: 'guest.block-onlined'; range: PageRange };

// ---- who receives what -----------------------------------------------------------------------
/** The events each part accepts from the bus; `Outbox.post(to, event)` is typed by this map. */
export interface PartInbox {
  vm: JobDoneEvent | { type: 'vm.guest-error'; message: string };
  /** hv-balloon's events, or virtio-balloon's in a VM with that device model. */
  device: DeviceChannelEvent | DeviceControlEvent | VirtioDeviceEvent;
  channel: ChannelEvent;
  guest: GuestChannelEvent | GuestMemoryEvent | JobDoneEvent | VirtioGuestEvent | { type: 'system.reset' };
  memctl: MemctlEvent | JobDoneEvent;
  vcpu: VcpuEvent;
}
