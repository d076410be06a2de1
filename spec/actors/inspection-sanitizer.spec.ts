/** What the live inspector is sent: small plain data, taken when the event happens, actors by name. */
import { assign, createActor, setup, type ActorRefLike, type InspectionEvent } from 'xstate';
import { actorName, prepareForInspector, sanitizeValue } from '../../actors/inspector/inspection-sanitizer';

class RangeModel {
  readonly ranges = [{ startPage: 0, pageCount: 1 << 20 }];
}

describe('sanitizeValue', () => {
  it('names model objects instead of dumping them, and keeps plain data', () => {
    expect(sanitizeValue({ model: new RangeModel(), n: 3, tags: ['a'], nested: { ok: true } })).toEqual({
      model: '[RangeModel]',
      n: 3,
      tags: ['a'],
      nested: { ok: true },
    });
  });

  it('shows bytes as a short hex preview', () => {
    expect(sanitizeValue(new Uint8Array([1, 0, 0x10, 0xff]))).toBe('[Uint8Array 4 bytes: 01 00 10 ff]');
    const long = sanitizeValue(new Uint8Array(100), { depth: 4, items: 50, chars: 200, bytes: 2 });
    expect(long).toBe('[Uint8Array 100 bytes: 00 00 …]');
  });

  it('cuts deep, long and odd values', () => {
    const limits = { depth: 2, items: 3, chars: 5, bytes: 8 };
    expect(sanitizeValue({ a: { b: { c: 1 } } }, limits)).toEqual({ a: { b: '[object with 1 keys]' } });
    expect(sanitizeValue([1, 2, 3, 4, 5], limits)).toEqual([1, 2, 3, '… 2 more']);
    expect(sanitizeValue('abcdefgh', limits)).toBe('abcde…');
    expect(sanitizeValue(10n)).toBe('10n');
    expect(sanitizeValue(() => 1)).toBe('[function]');
  });
});

describe('prepareForInspector', () => {
  // `stats` is mutated in place, as the parts' models are: only a copy taken at the event shows
  // the value of that moment.
  const counter = setup({
    types: {
      context: {} as { n: number; model: RangeModel; stats: { seen: number } },
      events: {} as { type: 'INC'; bytes?: Uint8Array },
    },
    actions: { countInPlace: ({ context }) => void context.stats.seen++ },
  }).createMachine({
    id: 'counterMachine',
    context: () => ({ n: 0, model: new RangeModel(), stats: { seen: 0 } }),
    on: { INC: { actions: ['countInPlace', assign({ n: ({ context }) => context.n + 1 })] } },
  });

  /** Every inspection event, prepared at the moment it is reported (as the live inspector does). */
  function inspected(): { raw: InspectionEvent; prepared: InspectionEvent | undefined }[] {
    const events: { raw: InspectionEvent; prepared: InspectionEvent | undefined }[] = [];
    const actor = createActor(counter, { systemId: 'vcpu', inspect: (e) => events.push({ raw: e, prepared: prepareForInspector(e) }) });
    actor.start();
    actor.send({ type: 'INC', bytes: new Uint8Array([7]) });
    actor.send({ type: 'INC' });
    actor.stop();
    return events;
  }

  it('copies each snapshot when it happens, with the context reduced', () => {
    const snapshots = inspected()
      .map((e) => e.prepared)
      .filter((e): e is Extract<InspectionEvent, { type: '@xstate.snapshot' }> => e?.type === '@xstate.snapshot')
      .map((e) => e.snapshot as unknown as { status: string; context: unknown });
    expect(snapshots.map((s) => [s.status, s.context])).toEqual([
      ['active', { n: 0, model: '[RangeModel]', stats: { seen: 0 } }],
      ['active', { n: 1, model: '[RangeModel]', stats: { seen: 1 } }],
      ['active', { n: 2, model: '[RangeModel]', stats: { seen: 2 } }],
      ['stopped', { n: 2, model: '[RangeModel]', stats: { seen: 2 } }],
    ]);
  });

  it('reduces event payloads and names actors by systemId', () => {
    const events = inspected().map((e) => e.prepared);
    const delivered = events.filter((e) => e?.type === '@xstate.event') as Extract<InspectionEvent, { type: '@xstate.event' }>[];
    expect(delivered.map((e) => e.event)).toEqual([
      { type: 'xstate.init', input: undefined },
      { type: 'INC', bytes: '[Uint8Array 1 bytes: 07]' },
      { type: 'INC' },
    ]);
    const registered = events.find((e) => e?.type === '@xstate.actor') as Extract<InspectionEvent, { type: '@xstate.actor' }>;
    // XState reports the actor before it sets its systemId: the name is read when it is converted.
    expect((registered.actorRef as unknown as { id: string }).id).toBe('vcpu');
    expect((registered.actorRef.getSnapshot() as { context: unknown }).context).toEqual({ n: 2, model: '[RangeModel]', stats: { seen: 2 } });
  });

  it('drops the kinds the inspector does not show (microsteps, actions)', () => {
    const kinds = new Set(inspected().filter((e) => e.prepared === undefined).map((e) => e.raw.type));
    expect([...kinds].sort()).toEqual(['@xstate.action', '@xstate.microstep']);
  });
});

describe('actorName', () => {
  const ref = (fields: Record<string, unknown>): ActorRefLike => ({ sessionId: 'x:7', send: () => undefined, getSnapshot: () => undefined, ...fields }) as ActorRefLike;

  it('prefers the systemId, then an explicit id, then the machine id, then the session id', () => {
    expect(actorName(ref({ systemId: 'device', id: 'dev', logic: { config: { id: 'hvBalloon' } } }))).toBe('device');
    expect(actorName(ref({ id: 'dev', logic: { config: { id: 'hvBalloon' } } }))).toBe('dev');
    expect(actorName(ref({ id: 'x:7', logic: { config: { id: 'hvBalloon' } } }))).toBe('hvBalloon');
    expect(actorName(ref({ id: 'x:7' }))).toBe('x:7');
  });
});
