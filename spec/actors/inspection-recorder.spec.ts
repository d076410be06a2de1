/** The offline inspector: a record of the events between actors, as a Mermaid sequence diagram. */
import { SimulatedClock, createActor, sendTo, setup } from 'xstate';
import { createInspectionRecorder, toMermaidSequence, type RecordedMessage } from '../../actors/inspector/inspection-recorder';
import { SenderNotes } from '../../actors/inspector/sender-notes';

/** ping asks pong (its invoked child, systemId 'pong'); pong answers 10 ms later. */
const pong = setup({ types: { events: {} as { type: 'PING' } } }).createMachine({
  id: 'pongMachine',
  on: { PING: { actions: sendTo(({ system }) => system.get('ping'), { type: 'PONG' }, { delay: 10 }) } },
});
const ping = setup({ types: { events: {} as { type: 'START' } | { type: 'PONG' } }, actors: { pong } }).createMachine({
  id: 'pingMachine',
  invoke: { src: 'pong', systemId: 'pong' },
  initial: 'idle',
  states: {
    idle: { on: { START: { target: 'asking', actions: sendTo(({ system }) => system.get('pong'), { type: 'PING' }) } } },
    asking: { on: { PONG: 'done' } },
    done: {},
  },
});

function runPingPong(options: { maxMessages?: number; includeXStateEvents?: boolean } = {}) {
  const clock = new SimulatedClock();
  const recorder = createInspectionRecorder({ now: () => clock.now(), ...options });
  const actor = createActor(ping, { systemId: 'ping', clock, inspect: recorder.inspect }).start();
  clock.set(5);
  actor.send({ type: 'START' });
  clock.increment(10);
  expect(actor.getSnapshot().value).toBe('done');
  actor.stop();
  return recorder;
}

describe('the inspection recorder', () => {
  it('records who sent what to whom and when, by systemId', () => {
    const recorder = runPingPong();
    expect(recorder.messages).toEqual([
      { at: 5, from: 'external', to: 'ping', type: 'START' },
      { at: 5, from: 'ping', to: 'pong', type: 'PING' },
      { at: 15, from: 'pong', to: 'ping', type: 'PONG' },
    ]);
    expect(recorder.dropped).toBe(0);
  });

  it("renders a Mermaid sequence diagram, one arrow per message, with virtual times", () => {
    expect(runPingPong().toMermaidSequence()).toBe(
      [
        'sequenceDiagram',
        '  autonumber',
        '  participant external',
        '  participant ping',
        '  participant pong',
        '  external->>ping: [5 ms] START',
        '  ping->>pong: [5 ms] PING',
        '  pong->>ping: [15 ms] PONG',
        '',
      ].join('\n'),
    );
  });

  it('keeps the first N messages and says how many more there were', () => {
    const recorder = runPingPong({ maxMessages: 2 });
    expect(recorder.messages.map((m) => m.type)).toEqual(['START', 'PING']);
    expect(recorder.dropped).toBe(1);
    expect(recorder.toMermaidSequence()).toContain('  Note over external,pong: … 1 more message not shown\n');
  });

  it("leaves XState's own events out unless asked", () => {
    const withInternal = runPingPong({ includeXStateEvents: true }).messages.map((m) => `${m.from}->${m.to}:${m.type}`);
    expect(withInternal).toEqual(expect.arrayContaining(['external->ping:xstate.init', 'ping->pong:xstate.init']));
    expect(runPingPong().messages.some((m) => m.type.startsWith('xstate.'))).toBe(false);
  });

  it('names the sender of events a bus delivers from outside XState, from its notes', () => {
    // The VM's bus posts with actor.send (no source for XState) and notes the sender just before.
    const notes = new SenderNotes();
    const clock = new SimulatedClock();
    const recorder = createInspectionRecorder({ now: () => clock.now(), senders: notes });
    const actor = createActor(ping, { systemId: 'ping', clock, inspect: recorder.inspect }).start();
    const pongRef = actor.system.get('pong');
    notes.note('ping', 'pong', 'PING');
    pongRef.send({ type: 'PING' });
    notes.note('guest', 'pong', 'OTHER'); // a note for another delivery is not used for this one
    pongRef.send({ type: 'PING' });
    actor.stop();
    expect(recorder.messages.map((m) => `${m.from}->${m.to}:${m.type}`)).toEqual(['ping->pong:PING', 'external->pong:PING']);
  });

  it('filter keeps only the messages it accepts', () => {
    const clock = new SimulatedClock();
    const recorder = createInspectionRecorder({ now: () => clock.now(), filter: (m) => m.from !== 'external' });
    const actor = createActor(ping, { systemId: 'ping', clock, inspect: recorder.inspect }).start();
    actor.send({ type: 'START' });
    clock.increment(10);
    actor.stop();
    expect(recorder.messages.map((m) => m.type)).toEqual(['PING', 'PONG']);
  });

  it('clear() starts a new record', () => {
    const recorder = runPingPong({ maxMessages: 1 });
    recorder.clear();
    expect(recorder.messages).toEqual([]);
    expect(recorder.dropped).toBe(0);
  });

  it('rejects a bad limit, naming it', () => {
    expect(() => createInspectionRecorder({ now: () => 0, maxMessages: -1 })).toThrow('maxMessages must be an integer >= 0, got -1');
  });
});

describe('toMermaidSequence', () => {
  const messages: RecordedMessage[] = [
    { at: 0.01, from: 'vm.device', to: 'end', type: 'a;b#c' },
    { at: 1000.123456, from: 'end', to: 'p1', type: 'x' },
  ];

  it('gives participants Mermaid cannot parse an alias, and escapes message text', () => {
    expect(toMermaidSequence(messages)).toBe(
      [
        'sequenceDiagram',
        '  autonumber',
        '  participant p1 as vm.device',
        '  participant p2 as end',
        '  participant p3 as p1',
        '  p1->>p2: [0.01 ms] a#59;b#35;c',
        '  p2->>p3: [1000.123 ms] x',
        '',
      ].join('\n'),
    );
  });

  it('limit draws only the first messages', () => {
    const text = toMermaidSequence(messages, { limit: 1, showTime: false });
    expect(text).toContain('p1->>p2: a#59;b#35;c\n');
    expect(text).not.toContain('->>p3');
    expect(text).toContain('Note over p1,p2: … 1 more message not shown');
  });
});
