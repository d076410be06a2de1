/**
 * The contract between a host and a memory policy. Every `intervalMs` the host sends the policy
 * one `policy.tick` with what a host knows of each VM: its Dynamic Memory settings, the balloon's
 * actual size (query-balloon), the guest's last status report and the target the host last set.
 * The policy answers by emitting `policy.decision` events, each a new balloon target with its
 * reason; the host applies them with `balloon` (which shrinks by ballooning, grows by unballoon
 * and then hot-add). A policy is any XState actor logic with that contract — ours are statecharts
 * (hyperv-policy.machine.ts, manual-policy.machine.ts) and a user's may be a plain function
 * (function-policy.machine.ts wraps it). docs/host.md describes it for users.
 */
import type { DynamicMemorySettings } from './dynamic-memory';

/** What the host knows about one VM at a tick. */
export interface PolicyVmView {
  name: string;
  settings: DynamicMemorySettings;
  /** query-balloon actual (bytes); null while the VM has no device answering. */
  actualBytes: number | null;
  /**
   * Memory demand from the last status report (bytes): the guest's committed memory less the
   * pages the host holds in the balloon; null before the first report.
   */
  demandBytes: number | null;
  /** Virtual ms of that report (null before the first). */
  reportedAt: number | null;
  /** The target the host last set (startup RAM until a policy sets one). */
  targetBytes: number;
  /**
   * The VM has reached its target (or stopped trying) and reported since: its demand reflects the
   * memory it has. While a balloon operation runs, the guest's report mixes before and after.
   */
  settled: boolean;
}

export interface PolicyHostView {
  /** Physical memory of the host. */
  memoryBytes: number;
  /** Memory the host keeps for itself (never assigned to VMs). */
  reserveBytes: number;
}

export interface PolicyTickEvent {
  type: 'policy.tick';
  now: number;
  host: PolicyHostView;
  vms: PolicyVmView[];
}

/** One decision: set `vm`'s balloon target to `targetBytes`, because `reason`. */
export interface PolicyDecision {
  vm: string;
  targetBytes: number;
  reason: string;
}

export type PolicyDecisionEvent = { type: 'policy.decision' } & PolicyDecision;

/** A user's policy as a function: the tick in, decisions out (pure and deterministic, please). */
export type PolicyFunction = (tick: PolicyTickEvent) => PolicyDecision[];
