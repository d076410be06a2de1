/**
 * `hv-balloon-sim/machines`: every part of the VM as a plain XState 5 machine, with its input,
 * context, event and emitted types, and the pure models they work on. Create one with XState's
 * own createActor (`clock` from `hv-balloon-sim`'s VirtualClock), walk it with `xstate/graph`,
 * or hand it to Stately's tools. The machines do no I/O: they post to other parts through an
 * Outbox (MessageBus.outboxFor gives one) and share memory models and VMBus rings by reference.
 */

// ---- the hv-balloon device (host side, QEMU hw/hyperv/hv-balloon.c) -----------------------------
export {
  hvBalloonDeviceMachine,
  type HvBalloonDeviceMachine,
  type HvBalloonDeviceInput,
  type HvBalloonDeviceConfig,
  type HvBalloonContext,
  type HvBalloonModel,
  type HvBalloonEvent,
  type HvBalloonEmitted,
  type HvBalloonStateName,
  type DeviceEndpoint,
  type DmPacketEvent,
  type StatusReportData,
} from './hv-balloon-device.machine';
// The device's packet events, named here so a consumer's declarations can name them (TS2742 otherwise).
export type {
  DmVersionRequestPacket,
  DmCapabilitiesReportPacket,
  DmStatusReportPacket,
  DmBalloonResponsePacket,
  DmUnballoonResponsePacket,
  DmHotAddResponsePacket,
  DmUnknownPacket,
} from './hv-balloon-device/packets';
export {
  validateDeviceConfig,
  assertDeviceConfig,
  memdevWindow,
  DeviceConfigError,
  REALIZE_ERROR_TEXTS,
  type HvBalloonMemdevConfig,
  type DeviceConfigErrorCode,
} from './hv-balloon-device/config';
export { HV_BALLOON_STATE_NAMES, leafStateName, isStateName } from './hv-balloon-device/states';
export type { WarningEmitted, TraceEmitted, StatusReportEmitted, TracePointName, TraceArgs } from './hv-balloon-device/output';
export { WARNING_KINDS, type WarningKind, type WarningLevel, type WarningCounters } from './hv-balloon-device/warnings';
export {
  deviceCounters,
  queryBalloon,
  queryHvBalloonStatusReport,
  queryMemoryDevices,
  hmpInfoBalloon,
  hmpInfoMemoryDevices,
  type DeviceCounters,
  type DeviceSnapshotLike,
  type BalloonInfo,
  type HvBalloonInfo,
  type HvBalloonMemoryDeviceInfo,
  type TreeCounters,
} from './hv-balloon-device/queries';

// ---- the guest's DM driver (Linux drivers/hv/hv_balloon.c, and a Windows profile) --------------
export {
  dmGuestDriverMachine,
  summarizeGuestDriver,
  VERSION_SEQUENCE,
  type DmGuestDriverInput,
  type DmGuestDriverContext,
  type DmGuestDriverEvent,
  type DmGuestDriverBusEvent,
  type DmGuestDriverEmitted,
  type DmGuestDriverSummary,
  type DmDriverState,
  type DriverFailure,
  type LogLevel,
  type DriverParts,
  type ConnectionState,
  type WorkState,
  type ReceiveState,
  type StatusState,
  type DriverStats,
  type MaliceState,
  type WorkRequest,
  type BalloonUpProgress,
  type UnballoonProgress,
} from './dm-guest-driver.machine';
export {
  GUEST_PROFILE_NAMES,
  GuestProfileError,
  validateGuestProfile,
  resolveGuestProfile,
  type GuestProfileName,
  type GuestProfileConfig,
  type LinuxProfileConfig,
  type WindowsProfileConfig,
  type MaliciousProfileConfig,
  type ResolvedGuestProfile,
} from './dm-guest/profiles';
export { MISBEHAVIOUR_KINDS, type MisbehaviourKind, type MaliciousPlanEntry } from './dm-guest/malicious-plan';
// Named here so a consumer's declarations can name the driver's context (TS2742 otherwise).
export type { HotAddRegions, HotAddRegion, HotAddGap, HotAddRequestRanges, HotAddOperation } from './dm-guest/hot-add-regions';

// ---- the VMBus channel and its rings -----------------------------------------------------------
export { vmbusChannelMachine, type VmbusChannelInput, type VmbusChannelContext } from './vmbus-channel.machine';
export { ChannelLink, ChannelEndpoint, VmbusRing, type RingPacket, type PacketTrace, type SendResult } from './vmbus-ring';

// ---- the memory controller and the vCPU -------------------------------------------------------
export {
  memoryControllerMachine,
  MemoryControllerConfigError,
  DEFAULT_ONLINE_DELAY_MS,
  type MemoryControllerInput,
  type MemoryControllerContext,
  type MemoryControllerEvent,
  type ControlledMemory,
} from './memory-controller.machine';
export {
  vcpuMachine,
  validateWorkload,
  WorkloadConfigError,
  DEFAULT_VCPU_RESET_MS,
  type VcpuInput,
  type VcpuContext,
  type VcpuMachineEvent,
  type VcpuEmitted,
  type WorkloadConfig,
  type WorkloadStep,
  type WorkloadMemory,
} from './vcpu.machine';

// ---- virtio-balloon (QEMU hw/virtio/virtio-balloon.c, Linux drivers/virtio/virtio_balloon.c) --
export {
  virtioBalloonDeviceMachine,
  notifyLatencyMs,
  type VirtioBalloonDeviceInput,
  type VirtioBalloonDeviceConfig,
  type VirtioBalloonDeviceContext,
  type VirtioBalloonDeviceEvent,
  type VirtioBalloonDeviceEmitted,
  type VirtioDeviceCounters,
  type VirtioTracePoint,
} from './virtio-balloon/virtio-balloon-device.machine';
export {
  virtioBalloonDriverMachine,
  towardsTarget,
  type VirtioBalloonDriverInput,
  type VirtioBalloonDriverContext,
  type VirtioBalloonDriverEvent,
  type VirtioBalloonDriverEmitted,
  type VirtioDriverCounters,
  type VirtioGuestMemory,
} from './virtio-balloon/virtio-balloon-driver.machine';
export { createVirtioVmMachine, type VirtioVmPartInputs, type VirtioVmRootInput } from './virtio-balloon/virtio-vm.machine';
export {
  VirtioBalloonTransport,
  Virtqueue,
  type VirtqueueBuffer,
  type PfnBuffer,
  type StatsBuffer,
  type VirtioBalloonConfigSpace,
} from './virtio-balloon/virtqueue';
export type { VirtioDeviceEvent, VirtioGuestEvent } from './virtio-balloon/events';
export { normalizeVirtioDevice, VirtioConfigError } from './virtio-balloon/config';
export * as virtioBalloonConstants from './virtio-balloon/constants';

// ---- what the parts say to each other ---------------------------------------------------------
export type { Outbox, PostedEvent } from './outbox';
export type {
  PartId,
  PartInbox,
  ChannelSide,
  ChannelEvent,
  DeviceChannelEvent,
  DeviceControlEvent,
  GuestChannelEvent,
  GuestMemoryEvent,
  VcpuEvent,
  VcpuJob,
  JobDoneEvent,
  MemctlEvent,
  CostKind,
  WorkItem,
} from './part-events';

// ---- the pure models --------------------------------------------------------------------------
export { PageRangeTree, type PageRangeIterationOptions } from './page-range-tree';
export {
  MachineMemory,
  MemoryModelError,
  DEFAULT_KERNEL_RESERVED_PAGES,
  type MachineMemoryConfig,
  type GuestPageState,
} from './machine-memory';
export type { HostMemoryView, GuestMemoryView, MemorySection, RegionKind } from './memory-views';
export {
  buildPcMemoryMap,
  placeMemdevWindow,
  visibleBootRamPages,
  MemoryMapError,
  type PcMemoryMap,
  type PcMemoryMapConfig,
  type MapRegion,
  type MapRegionKind,
  type MemdevWindow,
  type MemdevWindowRequest,
} from './pc-memory-map';
export {
  DEFAULT_COST_TABLE,
  COST_KINDS,
  CostModelError,
  resolveCostTable,
  costOf,
  costNs,
  balloonBytesPerMinute,
  unballoonSeconds,
  virtioInflateReferenceWork,
  virtioDeflateReferenceWork,
  virtioInflateBytesPerMinute,
  virtioDeflateSeconds,
  type CostTable,
  type CostEntry,
  type CostOverrides,
} from './cost-model';
export { SeededPrng } from './seeded-prng';

// ---- the host's memory policies (machines/policy/), demand workloads and the host ledger -------
export { hypervPolicyMachine, DEFAULT_HYSTERESIS_BYTES, type HypervPolicyInput, type HypervPolicyContext } from './policy/hyperv-policy.machine';
export { manualPolicyMachine } from './policy/manual-policy.machine';
export { functionPolicyMachine, type FunctionPolicyInput, type FunctionPolicyEmitted } from './policy/function-policy.machine';
export { planBalance, desiredBytes, divideByWeight, type BalanceOptions, type BalancePlan } from './policy/hyperv-balance';
export type { PolicyTickEvent, PolicyVmView, PolicyHostView, PolicyDecision, PolicyDecisionEvent, PolicyFunction } from './policy/policy-types';
export { validateDynamicMemory, DynamicMemoryError, type DynamicMemorySettings } from './policy/dynamic-memory';
export { demandAt, validateDemandCurve, DemandCurveError, DEMAND_SHAPES, type DemandCurve, type DemandShape } from './workload/demand-curve';
export { followDemand, type PagingMemory, type FollowResult } from './workload/paging';
export { HostMemoryLedger, type HostVmLedger, type HostLedgerSnapshot } from './host/host-memory';
