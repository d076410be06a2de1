/**
 * The Hyper-V-like automatic policy as a statechart. Each `policy.tick` (the host's view of its
 * VMs) is one balancing pass (hyperv-balance.ts planBalance); every new target goes out as a
 * `policy.decision` with its reason. States say what the last pass found:
 *   awaitingReports  no VM has sent a status report yet: nothing to balance on
 *   balancing.satisfied    the host can give every VM its demand plus buffer
 *   balancing.constrained  it cannot: buffers dropped, memory divided by weight
 * Machine free of I/O: the host applies the decisions.
 */
import { assign, enqueueActions, setup } from 'xstate';
import { desiredBytes, planBalance } from './hyperv-balance';
import type { PolicyDecisionEvent, PolicyTickEvent } from './policy-types';

export interface HypervPolicyInput {
  /** Changes smaller than this are skipped (default 32 MiB). */
  hysteresisBytes?: number;
}

export interface HypervPolicyContext {
  hysteresisBytes: number;
  stats: { ticks: number; decisions: number; constrainedTicks: number };
}

export const DEFAULT_HYSTERESIS_BYTES = 32 * 1024 * 1024;

export type HypervPolicyEvent = PolicyTickEvent;

const anyReported = (tick: PolicyTickEvent): boolean => tick.vms.some((v) => v.demandBytes !== null);
const hostShort = (tick: PolicyTickEvent): boolean =>
  tick.vms.reduce((sum, v) => sum + desiredBytes(v), 0) > Math.max(0, tick.host.memoryBytes - tick.host.reserveBytes);

export const hypervPolicyMachine = setup({
  types: {
    input: {} as HypervPolicyInput,
    context: {} as HypervPolicyContext,
    events: {} as HypervPolicyEvent,
    emitted: {} as PolicyDecisionEvent,
  },
  guards: {
    noReports: ({ event }) => !anyReported(event),
    hostShort: ({ event }) => hostShort(event),
  },
  actions: {
    countTick: assign({ stats: ({ context }) => ({ ...context.stats, ticks: context.stats.ticks + 1 }) }),
    /** One balancing pass: emit every decision with its reason. */
    balance: enqueueActions(({ context, event, enqueue }) => {
      const plan = planBalance(event, { hysteresisBytes: context.hysteresisBytes });
      for (const d of plan.decisions) enqueue.emit({ type: 'policy.decision', ...d });
      enqueue.assign({
        stats: {
          ticks: context.stats.ticks + 1,
          decisions: context.stats.decisions + plan.decisions.length,
          constrainedTicks: context.stats.constrainedTicks + (plan.constrained ? 1 : 0),
        },
      });
    }),
  },
}).createMachine({
  id: 'hyperv-policy',
  context: ({ input }) => ({
    hysteresisBytes: input.hysteresisBytes ?? DEFAULT_HYSTERESIS_BYTES,
    stats: { ticks: 0, decisions: 0, constrainedTicks: 0 },
  }),
  initial: 'awaitingReports',
  states: {
    awaitingReports: {
      on: {
        'policy.tick': [
          { guard: 'noReports', actions: 'countTick' },
          { guard: 'hostShort', target: 'balancing.constrained', actions: 'balance' },
          { target: 'balancing.satisfied', actions: 'balance' },
        ],
      },
    },
    balancing: {
      initial: 'satisfied',
      on: {
        'policy.tick': [
          { guard: 'hostShort', target: '.constrained', actions: 'balance' },
          { target: '.satisfied', actions: 'balance' },
        ],
      },
      states: {
        satisfied: {},
        constrained: {},
      },
    },
  },
});
