/**
 * vm-balloon-1t's event count: every event an actor processes counts once, whether it was sent,
 * delayed or raised; eventless transitions count as microsteps only. So moving work from
 * `self.send` to `raise` cannot lower eventsPerDmMessage; only fewer steps can.
 */
import { createActor, raise, setup } from 'xstate';
import { XStateEventCounter } from '../../bench/perf-xstate-events';

const machine = setup({ types: { events: {} as { type: 'go' } | { type: 'step' } | { type: 'again' } } }).createMachine({
  initial: 'a',
  states: {
    a: { on: { go: { target: 'b', actions: raise({ type: 'step' }) } } },
    b: { on: { step: { target: 'c', actions: raise({ type: 'again' }) } } },
    c: { on: { again: 'd' } },
    // An eventless hop: a microstep, not an event.
    d: { always: 'e' },
    e: {},
  },
});

describe('XStateEventCounter', () => {
  it('counts sent and raised events, and eventless transitions only as microsteps', () => {
    const counter = new XStateEventCounter();
    const actor = createActor(machine, { inspect: counter.inspect });
    actor.start();
    counter.counting = true;
    actor.send({ type: 'go' });
    expect(actor.getSnapshot().value).toBe('e');
    // go (sent), step and again (raised).
    expect(counter.events).toBe(3);
    expect(counter.sentEvents).toBe(1);
    // go, step, again, and the eventless d -> e.
    expect(counter.microsteps).toBe(4);
  });

  it('counts once an event whose handler sends the actor its next event (self.send)', () => {
    const chain = setup({ types: { events: {} as { type: 'go' } | { type: 'step' } } }).createMachine({
      initial: 'a',
      states: {
        a: { on: { go: { target: 'b', actions: ({ self }) => self.send({ type: 'step' }) } } },
        b: { on: { step: 'c' } },
        c: {},
      },
    });
    const counter = new XStateEventCounter();
    const actor = createActor(chain, { inspect: counter.inspect });
    actor.start();
    counter.counting = true;
    actor.send({ type: 'go' });
    expect(actor.getSnapshot().value).toBe('c');
    expect(counter.events).toBe(2);
    expect(counter.sentEvents).toBe(2);
    expect(counter.microsteps).toBe(2);
  });

  it('counts nothing while it is not counting', () => {
    const counter = new XStateEventCounter();
    const actor = createActor(machine, { inspect: counter.inspect });
    actor.start();
    actor.send({ type: 'go' });
    expect(counter.events).toBe(0);
    expect(counter.microsteps).toBe(0);
  });
});
