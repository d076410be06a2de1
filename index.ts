/**
 * hv-balloon-sim's public API: build a VM and drive it like QEMU, run scenarios, serve QMP, and
 * the Dynamic Memory wire codec. Examples use only what this file exports.
 */
export { createVm, type Vm, type VmCounters, type VmTraceRecord, type CreateVmOptions } from './actors/vm/create-vm';
export type { DeviceCounters } from './machines/hv-balloon-device/queries';
export type { DmGuestDriverSummary } from './machines/dm-guest-driver.machine';
export { normalizeVmConfig, VmConfigError, DEVICE_MODELS, type DeviceModel, type VmConfig, type VmConfigInput } from './actors/vm/vm-config';
export { VirtioBalloonVm, type VirtioBalloonCounters } from './actors/vm/virtio-balloon-vm';
export { compareScenario, runSide, type CompareResult, type CompareSide, type ComparePhase, type CompareOptions } from './actors/compare/compare-run';
export { compareTable, compareHtml, compareJson } from './actors/compare/compare-report';
export {
  parseScenario,
  loadScenarioFile,
  runScenario,
  ScenarioError,
  type Scenario,
  type ScenarioResult,
  type ScenarioStep,
} from './actors/scenario/scenario';
export { ReportCollector } from './actors/report/report-collector';
export { renderHtmlReport } from './actors/report/html-report';
export { startQmpServer, type QmpServerOptions, type QmpServerHandle } from './actors/qmp/qmp-server';
export { QmpError, type QmpEvent, type QmpReply, type QmpCommand, type VmControl, type RunState } from './actors/qmp/qmp-types';
export { VirtualClock, followWallClock } from './actors/virtual-clock';
export { MessageBus, type BusDelivery } from './actors/message-bus';
export { parseSize, parseDuration, formatSize, formatDuration } from './actors/units';
export * from './protocol';
export { PageRangeTree } from './machines/page-range-tree';
export type { GuestProfileConfig } from './machines/dm-guest/profiles';
export type { WorkloadConfig } from './machines/vcpu.machine';
export { createHost, Host, HostError, type HostVm, type HostDecisionRecord, type HostVmState, type HostState, type CreateHostOptions } from './actors/host/create-host';
export { parseHostScenario, HostScenarioError, type HostScenario, type HostPolicyConfig } from './actors/host/host-config';
export { runHostScenario, loadHostScenarioFile, type HostScenarioResult, type HostSample } from './actors/host/host-scenario';
export type { PolicyTickEvent, PolicyVmView, PolicyDecision, PolicyDecisionEvent, PolicyFunction, PolicyHostView } from './machines/policy/policy-types';
export { validateDynamicMemory, DynamicMemoryError, type DynamicMemorySettings } from './machines/policy/dynamic-memory';
export { demandAt, type DemandCurve } from './machines/workload/demand-curve';
export { traceDiff, diffTracePoints, emulatorTracePoints, formatTraceDiff, type TraceDiffResult, type TraceDivergence, type TraceDiffOptions } from './actors/trace-diff/trace-diff';
export { parseTraceLog, parseTraceLine, formatTracePoint, TraceLogError, type ParsedTracePoint } from './actors/trace-diff/qemu-trace-format';
export { DEFAULT_LINUX_MEMORY, type LinuxMemoryOptions } from './machines/linux-memory/linux-memory-params';
export type { MachineType } from './machines/pc-memory-map';
