/** Naming the sender of events the VM's bus delivers from outside XState. */
import { createActor, setup, type InspectionEvent } from 'xstate';
import { SenderNotes, withNotedSender } from '../../actors/inspector/sender-notes';

const child = setup({}).createMachine({ id: 'childMachine', on: { HELLO: {} } });
const parent = setup({ actors: { child } }).createMachine({ id: 'parentMachine', invoke: { src: 'child', systemId: 'guest' } });

/** Delivers HELLO to 'guest' from outside, noting `from` first (as the bus does); returns the event as attributed. */
function deliver(note: [string, string, string] | undefined): { hello: Extract<InspectionEvent, { type: '@xstate.event' }>; deviceSession: string } {
  const notes = new SenderNotes();
  const seen: InspectionEvent[] = [];
  const root = createActor(parent, { systemId: 'device', inspect: (e) => seen.push(withNotedSender(e, notes)) }).start();
  if (note) notes.note(...note);
  root.system.get('guest').send({ type: 'HELLO' });
  root.stop();
  const hello = seen.find((e) => e.type === '@xstate.event' && e.event.type === 'HELLO');
  if (hello?.type !== '@xstate.event') throw new Error('HELLO not inspected');
  return { hello, deviceSession: root.sessionId };
}

describe('sender notes', () => {
  it('give an outside delivery the noted part as its source', () => {
    const { hello, deviceSession } = deliver(['device', 'guest', 'HELLO']);
    expect(hello.sourceRef?.sessionId).toBe(deviceSession);
  });

  it('leave it without a source when the note is for another delivery or names no actor', () => {
    expect(deliver(['device', 'guest', 'BYE']).hello.sourceRef).toBeUndefined();
    expect(deliver(['user', 'guest', 'HELLO']).hello.sourceRef).toBeUndefined();
    expect(deliver(undefined).hello.sourceRef).toBeUndefined();
  });

  it('are used once', () => {
    const notes = new SenderNotes();
    notes.note('vm', 'device', 'device.reset');
    expect(notes.take('device', 'device.reset')).toBe('vm');
    expect(notes.take('device', 'device.reset')).toBeUndefined();
  });
});
