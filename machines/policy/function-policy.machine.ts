/**
 * A user's policy written as a plain function (policy-types.ts PolicyFunction), run as a
 * statechart so the host drives every policy the same way. A decision naming an unknown VM or
 * without a finite target is dropped with a `policy.rejected` event saying why; a function that
 * throws moves the chart to `failed` (reported once; later ticks are ignored).
 */
import { enqueueActions, setup } from 'xstate';
import type { PolicyDecisionEvent, PolicyFunction, PolicyTickEvent } from './policy-types';

export type FunctionPolicyEmitted = PolicyDecisionEvent | { type: 'policy.rejected'; reason: string };

export interface FunctionPolicyInput {
  decide: PolicyFunction;
  /** For messages: where the function came from. */
  name: string;
}

type FunctionPolicyEvent = PolicyTickEvent | { type: 'policy.failed'; message: string };

export const functionPolicyMachine = setup({
  types: {
    input: {} as FunctionPolicyInput,
    context: {} as FunctionPolicyInput & { failure: string | null },
    events: {} as FunctionPolicyEvent,
    emitted: {} as FunctionPolicyEmitted,
  },
  actions: {
    /** Call the function once; its decisions go out, or a throw becomes `policy.failed`. */
    decide: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'policy.tick') return;
      const names = new Set(event.vms.map((v) => v.name));
      let out: unknown;
      try {
        // A copy: the function cannot change what the host knows.
        out = context.decide(structuredClone(event));
      } catch (err) {
        enqueue.raise({ type: 'policy.failed', message: err instanceof Error ? err.message : String(err) });
        return;
      }
      if (!Array.isArray(out)) {
        enqueue.emit({ type: 'policy.rejected', reason: `${context.name}: expected an array of decisions, got ${typeof out}` });
        return;
      }
      for (const d of out as Partial<PolicyDecisionEvent>[]) {
        if (typeof d !== 'object' || d === null || typeof d.vm !== 'string' || !names.has(d.vm)) {
          enqueue.emit({ type: 'policy.rejected', reason: `${context.name}: decision for unknown VM ${JSON.stringify(d?.vm)}` });
        } else if (typeof d.targetBytes !== 'number' || !Number.isFinite(d.targetBytes) || d.targetBytes <= 0) {
          enqueue.emit({ type: 'policy.rejected', reason: `${context.name}: ${d.vm}: targetBytes must be a number > 0, got ${JSON.stringify(d.targetBytes)}` });
        } else {
          enqueue.emit({ type: 'policy.decision', vm: d.vm, targetBytes: d.targetBytes, reason: typeof d.reason === 'string' ? d.reason : context.name });
        }
      }
    }),
    fail: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'policy.failed') return;
      enqueue.assign({ failure: event.message });
      enqueue.emit({ type: 'policy.rejected', reason: `${context.name} threw: ${event.message}; the policy is stopped, targets stay as they are` });
    }),
  },
}).createMachine({
  id: 'function-policy',
  context: ({ input }) => ({ ...input, failure: null }),
  initial: 'running',
  states: {
    running: {
      on: {
        'policy.tick': { actions: 'decide' },
        'policy.failed': { target: 'failed', actions: 'fail' },
      },
    },
    failed: {},
  },
});
