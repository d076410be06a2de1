/**
 * What one XState step costs with nothing of ours in it: the floor under vm-balloon-1t's
 * `overheadRatio` (issue #14). Three bare machines made with `setup().createMachine`, each sent the
 * same event 200,000 times after 20,000 unmeasured ones: a transition without a target that
 * assigns one context field; a state change that does the same; and that state change in one of
 * three parallel regions (our guest driver runs in regions). Prints µs per event, wall and CPU.
 *
 *   npm run build && node dist/bench/xstate-floor.js [rounds=3]
 *
 * The 1 TiB phase takes 9,338 microsteps; at ratio ≤ 3 with a 13.5-18 ms data path the whole phase
 * has 41-55 ms, 4.4-5.9 µs per microstep with the real work included (docs/benchmarks.md, #14).
 */
import { assign, createActor, setup, type AnyStateMachine } from 'xstate';

const EVENTS = 200_000;
const WARM_UP = 20_000;

/** The three machines share one setup: a context of one number, one event, one assigning action. */
const base = setup({
  types: { context: {} as { n: number }, events: {} as { type: 'go' } },
  actions: { bump: assign({ n: ({ context }) => context.n + 1 }) },
});

const targetless = base.createMachine({ context: { n: 0 }, initial: 'a', states: { a: { on: { go: { actions: 'bump' } } } } });

const stateChange = base.createMachine({
  context: { n: 0 },
  initial: 'a',
  states: { a: { on: { go: { target: 'b', actions: 'bump' } } }, b: { on: { go: { target: 'a', actions: 'bump' } } } },
});

const inRegions = base.createMachine({
  context: { n: 0 },
  type: 'parallel',
  states: {
    work: { initial: 'a', states: { a: { on: { go: { target: 'b', actions: 'bump' } } }, b: { on: { go: { target: 'a', actions: 'bump' } } } } },
    status: { initial: 'x', states: { x: {}, y: {} } },
    receive: { initial: 'x', states: { x: {}, y: {} } },
  },
});

/** µs of wall and of CPU per event sent to a fresh actor of `machine`. */
export function perEvent(machine: AnyStateMachine): { wallUs: number; cpuUs: number } {
  const actor = createActor(machine).start();
  for (let i = 0; i < WARM_UP; i++) actor.send({ type: 'go' });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i++) actor.send({ type: 'go' });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  actor.stop();
  return { wallUs: (1000 * wallMs) / EVENTS, cpuUs: (cpu.user + cpu.system) / EVENTS };
}

if (require.main === module) {
  const rounds = Number(process.argv[2] ?? 3);
  const cases: Array<[string, AnyStateMachine]> = [
    ['transition without a target, one assign', targetless],
    ['state change, one assign', stateChange],
    ['state change in one of three parallel regions', inRegions],
  ];
  for (let r = 1; r <= rounds; r++) {
    for (const [name, machine] of cases) {
      const { wallUs, cpuUs } = perEvent(machine);
      console.log(`round ${r}  ${name.padEnd(48)} ${wallUs.toFixed(2)} µs wall  ${cpuUs.toFixed(2)} µs CPU`);
    }
  }
}
