/**
 * The `manual` policy: today's behaviour. It decides nothing; targets come only from the
 * scenario's `balloon` steps (or a QMP client), as with QEMU's hv-balloon on its own.
 */
import { assign, setup } from 'xstate';
import type { PolicyDecisionEvent, PolicyTickEvent } from './policy-types';

export const manualPolicyMachine = setup({
  types: {
    context: {} as { ticks: number },
    events: {} as PolicyTickEvent,
    emitted: {} as PolicyDecisionEvent,
  },
  actions: {
    countTick: assign({ ticks: ({ context }) => context.ticks + 1 }),
  },
}).createMachine({
  id: 'manual-policy',
  context: { ticks: 0 },
  initial: 'manual',
  states: {
    manual: { on: { 'policy.tick': { actions: 'countTick' } } },
  },
});
