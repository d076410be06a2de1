/**
 * What must hold after every fuzz step, whatever the guest and the user did: no part failed, the
 * device's four removed-page trees are well formed and disjoint, its counters equal the trees'
 * totals, `actual` stays within [0, boot + hot-added], and the queries answer QEMU-shaped replies.
 */
import type { AnyActorRef } from 'xstate';
import { PAGE_SIZE } from '../../protocol/constants';
import type { DeviceSnapshotLike } from '../../machines/hv-balloon-device/queries';
import type { PageRangeTree } from '../../machines/page-range-tree';
import type { Vm } from '../vm/create-vm';
import type { QmpReply } from '../qmp/qmp-types';

/** A broken invariant: which, and what was seen. */
export interface InvariantBreak {
  invariant: string;
  detail: string;
}

/** Checks the VM after a step; `afterReset`: the step was system_reset (boot size, zero counters). */
export function checkInvariants(vm: Vm, bootBytes: number, afterReset: boolean): InvariantBreak[] {
  const breaks: InvariantBreak[] = [];
  const fail = (invariant: string, detail: string): void => {
    breaks.push({ invariant, detail });
  };
  const root = vm.root.getSnapshot() as { status: string };
  if (root.status === 'error') fail('no part failed', `the actor system stopped with an error`);
  let device: DeviceSnapshotLike | undefined;
  try {
    vm.counters();
    device = (vm.root.system.get('device') as AnyActorRef | undefined)?.getSnapshot() as DeviceSnapshotLike | undefined;
  } catch (error) {
    fail('no part failed', error instanceof Error ? error.message : String(error));
    return breaks;
  }
  if (!device) return breaks;
  const c = device.context;
  const t = c.model.trees;
  const trees = { globalGuest: t.globalGuest, globalBoth: t.globalBoth, ourGuest: t.ourGuest, ourBoth: t.ourBoth };
  for (const [name, tree] of Object.entries(trees)) {
    const problem = treeShapeProblem(tree);
    if (problem) fail('trees well formed', `${name}: ${problem}`);
  }
  if (intersects(t.globalGuest, t.globalBoth)) fail('trees disjoint', 'globalGuest and globalBoth share pages');
  if (intersects(t.ourGuest, t.ourBoth)) fail('trees disjoint', 'ourGuest and ourBoth share pages');
  if (c.removedGuestCtr !== t.globalGuest.totalPages + t.ourGuest.totalPages) {
    fail('counters equal tree totals', `removedGuestCtr ${c.removedGuestCtr} != ${t.globalGuest.totalPages} + ${t.ourGuest.totalPages}`);
  }
  if (c.removedBothCtr !== t.globalBoth.totalPages + t.ourBoth.totalPages) {
    fail('counters equal tree totals', `removedBothCtr ${c.removedBothCtr} != ${t.globalBoth.totalPages} + ${t.ourBoth.totalPages}`);
  }
  const added = c.ourRange?.added ?? 0;
  const reply = vm.execute({ execute: 'query-balloon' });
  if (!isQmpShaped(reply)) fail('queries answer', `query-balloon: ${JSON.stringify(reply)}`);
  else if ('error' in reply) fail('queries answer', `query-balloon: ${reply.error.desc}`);
  else {
    const actual = (reply.return as { actual: number }).actual;
    const ceiling = bootBytes + added * PAGE_SIZE;
    if (!(actual >= 0 && actual <= ceiling)) fail('actual within [0, boot + hot-added]', `actual ${actual}, ceiling ${ceiling}`);
    if (afterReset && actual !== bootBytes) fail('reset returns to boot size', `actual ${actual} after system_reset, boot ${bootBytes}`);
  }
  if (afterReset && (c.removedGuestCtr !== 0 || c.removedBothCtr !== 0 || added !== 0)) {
    fail('reset zeroes the counters', `removedGuestCtr ${c.removedGuestCtr}, removedBothCtr ${c.removedBothCtr}, hot-added ${added}`);
  }
  for (const execute of ['query-memory-devices', 'query-hv-balloon-status-report', 'query-status']) {
    const r = vm.execute({ execute });
    if (!isQmpShaped(r)) fail('queries answer', `${execute}: ${JSON.stringify(r)}`);
    else if ('error' in r && /stopped|stack|undefined|null|NaN/.test(r.error.desc)) fail('queries answer', `${execute}: ${r.error.desc}`);
  }
  return breaks;
}

/** A reply QEMU could send: {return} or {error: {class, desc}} with a known class and a plain text. */
export function isQmpShaped(reply: unknown): reply is QmpReply {
  if (typeof reply !== 'object' || reply === null) return false;
  if ('return' in reply) return true;
  const error = (reply as { error?: { class?: unknown; desc?: unknown } }).error;
  return (
    typeof error === 'object' &&
    error !== null &&
    ['GenericError', 'CommandNotFound', 'DeviceNotActive', 'DeviceNotFound', 'KVMMissingCap'].includes(String(error.class)) &&
    typeof error.desc === 'string' &&
    !/Maximum call stack|TypeError|RangeError|at .*\.ts:\d+/.test(error.desc)
  );
}

function treeShapeProblem(tree: PageRangeTree): string | undefined {
  let prevEnd = -1;
  let total = 0;
  for (const r of tree.toArray()) {
    if (!(r.pageCount > 0)) return `empty range at ${r.startPage}`;
    if (r.startPage <= prevEnd) return `range at ${r.startPage} overlaps or touches the previous one (ends ${prevEnd})`;
    prevEnd = r.startPage + r.pageCount;
    total += r.pageCount;
  }
  return total === tree.totalPages ? undefined : `ranges sum to ${total}, totalPages says ${tree.totalPages}`;
}

function intersects(a: PageRangeTree, b: PageRangeTree): boolean {
  const [small, large] = a.rangeCount <= b.rangeCount ? [a, b] : [b, a];
  return small.toArray().some((r) => large.intersectsAny(r.startPage, r.pageCount));
}
