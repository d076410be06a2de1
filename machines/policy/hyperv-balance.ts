/**
 * The Hyper-V-like balancer's arithmetic, pure. Hyper-V documents what it aims at, not its exact
 * algorithm, so this is our model of it (docs/host.md, docs/divergences.md):
 * 1. Each VM wants demand x (1 + buffer/100), rounded up to 2 MiB, clamped to [minimum, maximum]
 *    ("the memory buffer ... Hyper-V will attempt to allocate an additional 20%").
 * 2. If the host can give everyone that, it does. If not, the buffer is not kept ("the buffer is
 *    not maintained when there is not enough physical memory") and memory is divided by memory
 *    weight: everyone keeps its minimum, and what is left goes to the VMs in proportion to their
 *    weights, none above what it wants (weighted water-filling).
 * 3. Never more than the host has: a VM's growth is granted only from memory that is free now,
 *    counting for every VM the largest of what it holds, what it is told to hold now and, while it
 *    is still growing, the target it is growing toward (a shrinking VM still holds its memory until
 *    the guest gives it back; a growing one may reach its old target before a cut takes effect:
 *    QEMU posts a planned hot-add chunk by chunk without re-reading the target). The rest waits
 *    for the next tick.
 * 4. Small moves are not worth a balloon operation: changes below `hysteresisBytes` are skipped,
 *    unless they bring a VM back within its limits.
 * 5. One operation at a time per VM: until a VM has reached its target and reported since (or a
 *    settle timeout passed), its demand is not read and its target is kept, also when the host is
 *    short (a cut then waits until the VM settles), unless it is out of its limits.
 */
import { DM_ALIGN_BYTES } from './dynamic-memory';
import type { PolicyDecision, PolicyTickEvent, PolicyVmView } from './policy-types';
import { formatSizeShort } from './policy-units';

export interface BalanceOptions {
  /** Changes smaller than this are skipped. */
  hysteresisBytes: number;
}

export interface BalancePlan {
  /** Whether the host can give every VM its demand plus buffer. */
  constrained: boolean;
  usableBytes: number;
  /** What each VM should get (before the growth limit), by VM name order of the tick. */
  wanted: number[];
  decisions: PolicyDecision[];
}

const alignUp = (bytes: number): number => Math.ceil(bytes / DM_ALIGN_BYTES) * DM_ALIGN_BYTES;
const alignDown = (bytes: number): number => Math.floor(bytes / DM_ALIGN_BYTES) * DM_ALIGN_BYTES;
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/**
 * What a VM asks for: demand x (1 + buffer), clamped. A VM that has not reported, or whose
 * balloon operation is still running (not settled), keeps its target.
 */
export function desiredBytes(vm: PolicyVmView): number {
  const s = vm.settings;
  if (vm.demandBytes === null || !vm.settled) return clamp(vm.targetBytes, s.minimumBytes, s.maximumBytes);
  return clamp(alignUp(vm.demandBytes * (1 + s.bufferPercent / 100)), s.minimumBytes, s.maximumBytes);
}

/**
 * Weighted water-filling: every VM gets its floor; `pool` is shared in proportion to weight, no VM
 * above its cap. Returns the grants (2 MiB aligned, never above the cap).
 */
export function divideByWeight(floors: number[], caps: number[], weights: number[], pool: number): number[] {
  const grant = floors.slice();
  let left = Math.max(0, pool);
  let open = floors.map((_, i) => i).filter((i) => caps[i]! > floors[i]!);
  while (open.length > 0 && left >= DM_ALIGN_BYTES) {
    const totalWeight = open.reduce((sum, i) => sum + weights[i]!, 0);
    const stillOpen: number[] = [];
    let given = 0;
    for (const i of open) {
      const share = alignDown((left * weights[i]!) / totalWeight);
      const room = caps[i]! - grant[i]!;
      const take = Math.min(share, room);
      grant[i] = grant[i]! + take;
      given += take;
      if (grant[i]! < caps[i]!) stillOpen.push(i);
    }
    left -= given;
    // Shares rounded down to 2 MiB can all be 0: hand out single units by weight, highest first.
    if (given === 0) {
      const byWeight = stillOpen.slice().sort((a, b) => weights[b]! - weights[a]! || a - b);
      for (const i of byWeight) {
        if (left < DM_ALIGN_BYTES) break;
        grant[i] = grant[i]! + DM_ALIGN_BYTES;
        left -= DM_ALIGN_BYTES;
      }
      break;
    }
    open = stillOpen;
  }
  return grant;
}

/** One balancing pass over a tick: the targets to set, each with its reason. */
export function planBalance(tick: PolicyTickEvent, options: BalanceOptions): BalancePlan {
  const vms = tick.vms;
  const usable = Math.max(0, tick.host.memoryBytes - tick.host.reserveBytes);
  const desired = vms.map(desiredBytes);
  const sumDesired = desired.reduce((a, b) => a + b, 0);
  const constrained = sumDesired > usable;
  const wanted = constrained
    ? divideByWeight(
        vms.map((v) => v.settings.minimumBytes),
        desired,
        vms.map((v) => v.settings.weight),
        usable - vms.reduce((sum, v) => sum + v.settings.minimumBytes, 0),
      )
    : desired;
  const totalWeight = vms.reduce((sum, v) => sum + v.settings.weight, 0);
  const reasonFor = (i: number): string => {
    const v = vms[i]!;
    const s = v.settings;
    const demand = v.demandBytes === null ? 'no status report yet' : `demand ${formatSizeShort(v.demandBytes)} + ${s.bufferPercent}% buffer`;
    if (constrained) {
      if (wanted[i]! === desired[i]!) return `${demand}; host short, but within weight ${s.weight}'s share`;
      if (wanted[i]! === s.minimumBytes) return `${demand}; host short: held at minimum ${formatSizeShort(s.minimumBytes)}`;
      return `${demand}; host short: weight ${s.weight} of ${totalWeight} gets ${formatSizeShort(wanted[i]!)}`;
    }
    if (!v.settled) return `${demand}; balloon operation still running, target kept`;
    const raw = v.demandBytes === null ? null : alignUp(v.demandBytes * (1 + s.bufferPercent / 100));
    if (raw !== null && raw < s.minimumBytes) return `${demand}; clamped to minimum ${formatSizeShort(s.minimumBytes)}`;
    if (raw !== null && raw > s.maximumBytes) return `${demand}; clamped to maximum ${formatSizeShort(s.maximumBytes)}`;
    return demand;
  };

  // Decreases first (they free memory later, but never cost any); then growth from what is free.
  const next = vms.map((v) => v.targetBytes);
  // What a VM may come to hold: a growing VM's operation runs on toward the target it was given.
  const holds = (i: number): number => {
    const v = vms[i]!;
    const actual = v.actualBytes ?? v.targetBytes;
    return Math.max(actual, next[i]!, actual < v.targetBytes ? v.targetBytes : 0);
  };
  const decisions: PolicyDecision[] = [];
  const outOfLimits = (i: number): boolean => next[i]! < vms[i]!.settings.minimumBytes || next[i]! > vms[i]!.settings.maximumBytes;
  const worthIt = (i: number, to: number): boolean => Math.abs(to - next[i]!) >= options.hysteresisBytes || outOfLimits(i) || (constrained && to < next[i]!);
  vms.forEach((v, i) => {
    // Rule 5: an unsettled VM keeps its target (its operation may still be on the way up).
    if (wanted[i]! < next[i]! && (v.settled || outOfLimits(i)) && worthIt(i, wanted[i]!)) {
      next[i] = wanted[i]!;
      decisions.push({ vm: v.name, targetBytes: wanted[i]!, reason: reasonFor(i) });
    }
  });
  let free = usable - vms.reduce((sum, _, i) => sum + holds(i), 0);
  // Growth in order of weight (then name order), so the heavier VM is served first when memory is short.
  const growers = vms.map((_, i) => i).filter((i) => wanted[i]! > next[i]!);
  growers.sort((a, b) => vms[b]!.settings.weight - vms[a]!.settings.weight || a - b);
  for (const i of growers) {
    const v = vms[i]!;
    if (!worthIt(i, wanted[i]!)) continue;
    const heldNow = holds(i);
    const grantable = Math.min(wanted[i]!, alignDown(heldNow + Math.max(0, free)));
    if (grantable <= next[i]!) continue;
    const limited = grantable < wanted[i]!;
    free -= Math.max(0, grantable - heldNow);
    next[i] = grantable;
    decisions.push({
      vm: v.name,
      targetBytes: grantable,
      reason: limited ? `${reasonFor(i)}; growth limited to free host memory (wants ${formatSizeShort(wanted[i]!)})` : reasonFor(i),
    });
  }
  return { constrained, usableBytes: usable, wanted, decisions };
}
