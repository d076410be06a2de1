/**
 * The hyperv policy statechart: it waits for the first status report, balances to demand + buffer
 * while the host has room (satisfied), divides by weight when it has not (constrained), and every
 * decision comes out as an event with its reason.
 */
import { createActor } from 'xstate';
import { hypervPolicyMachine } from '../../../machines/policy/hyperv-policy.machine';
import type { PolicyDecisionEvent, PolicyTickEvent, PolicyVmView } from '../../../machines/policy/policy-types';

const G = 2 ** 30;

function vm(name: string, demandBytes: number | null, weight = 5000): PolicyVmView {
  return {
    name,
    settings: { startupBytes: 4 * G, minimumBytes: G, maximumBytes: 16 * G, bufferPercent: 20, weight },
    actualBytes: 4 * G,
    demandBytes,
    reportedAt: demandBytes === null ? null : 1000,
    targetBytes: 4 * G,
    settled: true,
  };
}

function tick(memoryBytes: number, vms: PolicyVmView[]): PolicyTickEvent {
  return { type: 'policy.tick', now: 1000, host: { memoryBytes, reserveBytes: 0 }, vms };
}

function start() {
  const actor = createActor(hypervPolicyMachine, { input: {} });
  const decisions: PolicyDecisionEvent[] = [];
  actor.on('policy.decision', (e) => decisions.push(e));
  actor.start();
  return { actor, decisions };
}

describe('hyperv policy statechart', () => {
  it('waits in awaitingReports until a VM reports, deciding nothing', () => {
    const { actor, decisions } = start();
    actor.send(tick(64 * G, [vm('a', null), vm('b', null)]));
    expect(actor.getSnapshot().value).toBe('awaitingReports');
    expect(decisions).toEqual([]);
  });

  it('with room: satisfied, each VM aimed at demand + 20% with the reason', () => {
    const { actor, decisions } = start();
    actor.send(tick(64 * G, [vm('a', 5 * G), vm('b', 2 * G)]));
    expect(actor.getSnapshot().value).toEqual({ balancing: 'satisfied' });
    expect(decisions).toEqual([
      { type: 'policy.decision', vm: 'b', targetBytes: 2.4 * G + 2 * 2 ** 20 - ((2.4 * G) % (2 * 2 ** 20) || 2 * 2 ** 20), reason: 'demand 2G + 20% buffer' },
      { type: 'policy.decision', vm: 'a', targetBytes: 6 * G, reason: 'demand 5G + 20% buffer' },
    ]);
  });

  it('without room: constrained, buffers dropped and the host divided by weight', () => {
    const { actor, decisions } = start();
    actor.send(tick(12 * G, [vm('heavy', 8 * G, 9000), vm('light', 8 * G, 1000)]));
    expect(actor.getSnapshot().value).toEqual({ balancing: 'constrained' });
    const heavy = decisions.find((d) => d.vm === 'heavy')!;
    const light = decisions.find((d) => d.vm === 'light')!;
    // Minimums (1G each) first; the other 10G by weight 9:1: heavy's 9G share covers its 9.6G wish
    // (8G + 20%), light gets the rest: 12G - 9.6G = 2.4G.
    expect(light.targetBytes).toBe(2.4 * G - ((2.4 * G) % (2 * 2 ** 20)));
    expect(light.reason).toBe("demand 8G + 20% buffer; host short: weight 1000 of 10000 gets 2.4G");
    // heavy grows only into what is free now (12G - 4G held by light, which still holds it).
    expect(heavy.targetBytes).toBe(8 * G);
    expect(heavy.reason).toMatch(/host short, but within weight 9000's share; growth limited to free host memory \(wants 9.6G\)/);
  });
});
