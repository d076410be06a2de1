/**
 * A user's memory policy for `"policy": {"kind": "module", "module": "host-policy-example.ts"}`
 * (examples/host-user-policy.json): fixed headroom instead of Hyper-V's percentage buffer — every
 * VM gets its demand plus 512 MiB, and when the host cannot give that to all, everyone gets the
 * same share of what is left above their minimums. A policy is a function from the host's view
 * (one tick) to decisions; the host applies them with `balloon` and keeps each VM within its
 * limits. See docs/host.md.
 */
import type { PolicyDecision, PolicyTickEvent } from 'hv-balloon-sim';

const HEADROOM = 512 * 2 ** 20;
const ALIGN = 2 * 2 ** 20;

export function policy(tick: PolicyTickEvent): PolicyDecision[] {
  const usable = tick.host.memoryBytes - tick.host.reserveBytes;
  const want = tick.vms.map((vm) =>
    vm.demandBytes === null || !vm.settled ? vm.targetBytes : Math.min(vm.settings.maximumBytes, Math.max(vm.settings.minimumBytes, vm.demandBytes + HEADROOM)),
  );
  const total = want.reduce((a, b) => a + b, 0);
  let grant = want;
  if (total > usable) {
    const floors = tick.vms.map((vm) => vm.settings.minimumBytes);
    const share = (usable - floors.reduce((a, b) => a + b, 0)) / tick.vms.length;
    grant = want.map((w, i) => Math.min(w, floors[i]! + Math.max(0, share)));
  }
  const decisions: PolicyDecision[] = [];
  tick.vms.forEach((vm, i) => {
    const target = Math.floor(grant[i]! / ALIGN) * ALIGN;
    if (Math.abs(target - vm.targetBytes) >= 64 * 2 ** 20) {
      decisions.push({ vm: vm.name, targetBytes: target, reason: total > usable ? 'host short: equal shares above minimum' : 'demand + 512M headroom' });
    }
  });
  return decisions;
}
