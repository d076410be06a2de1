/**
 * The device runs a ring-wait handler in the step that moved it into the ring-wait state when the
 * loop's next step is that handler anyway (event-loop.ts, "Two steps in one"): after the last
 * balloon or hot-add response of a request, and between the requests of an unballoon stream when
 * nothing waits to be read. It must make no difference anyone can see: the same device as one
 * taking every step on its own (stepByStep) emits the same trace points and warnings, writes the
 * same bytes at the same times, posts the same messages on the bus in the same order, and ends
 * every command with the same context, loop counters and ring state, whatever the guest does.
 */
import fc from 'fast-check';
import type { BusDelivery } from '../../../actors/message-bus';
import type { DmCaps } from '../../../protocol/messages';
import { BOOT_RAM_PAGES } from './fake-host-memory';
import { DeviceHarness } from './harness';
import { applyCommand, arbCaps, arbCommand, installResponder, type Command } from './random-guest';

/** Everything of a harness that the two modes must agree on, as JSON (bigints as strings). */
function observed(h: DeviceHarness, deliveries: BusDelivery[]): string {
  const { model, ...context } = h.context;
  const ring = (r: typeof h.link.hostToGuest) => ({ free: r.freeBytes(), reserved: r.reserved, pending: r.pendingSendSize, waiting: r.length, written: r.written });
  return JSON.stringify(
    {
      state: h.state,
      context,
      loop: { iterations: model.loop.iterations, packets: model.loop.packets, running: model.loop.running },
      trees: [model.trees.globalGuest, model.trees.globalBoth, model.trees.ourGuest, model.trees.ourBoth].map((t) => [...t.ranges()]),
      emitted: h.emitted,
      received: h.bed.guest.received.map((r) => ({ t: r.timeMs, bytes: Array.from(r.bytes) })),
      deliveries,
      rings: { toGuest: ring(h.link.hostToGuest), toHost: ring(h.link.guestToHost) },
    },
    (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v),
  );
}

interface Run {
  h: DeviceHarness;
  deliveries: BusDelivery[];
  /** Snapshots the device published (one per XState macrostep). */
  snapshots: number;
}

function start(stepByStep: boolean, ringBytes: number, statusReport: boolean, caps: DmCaps, respond: boolean, seed: number): Run {
  const h = new DeviceHarness({ ringBytes, statusReport, stepByStep });
  const run: Run = { h, deliveries: [], snapshots: 0 };
  h.bus.trace$.subscribe((d) => run.deliveries.push(d));
  h.device.subscribe(() => run.snapshots++);
  h.bootToIdle(caps);
  if (respond) installResponder(h, seed);
  return run;
}

/** Commands that make long balloon, unballoon and hot-add flows likely. */
const arbFlowCommand: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: arbCommand },
  {
    weight: 3,
    arbitrary: fc
      .oneof(fc.integer({ min: BOOT_RAM_PAGES - 600_000, max: BOOT_RAM_PAGES - 1 }), fc.integer({ min: BOOT_RAM_PAGES + 1, max: BOOT_RAM_PAGES + 1_000_000 }))
      .map((pages) => ({ kind: 'target' as const, pages })),
  },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 3_000 }).map((ms) => ({ kind: 'run' as const, ms })) },
);

describe('hv-balloon device: a ring-wait handler in the step before it (property)', () => {
  it('is indistinguishable from taking every loop step on its own', () => {
    let snapshotsStepByStep = 0;
    let snapshotsFolded = 0;
    fc.assert(
      fc.property(
        fc.record({
          ringBytes: fc.constantFrom(64, 128, 256, 16_384),
          statusReport: fc.boolean(),
          respond: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
          seed: fc.integer(),
          caps: fc.oneof(fc.constant<DmCaps>({ balloon: true, hotAdd: true, hotAddAlignment: 7, hotRemove: false }), arbCaps),
          commands: fc.array(arbFlowCommand, { minLength: 1, maxLength: 30 }),
        }),
        ({ ringBytes, statusReport, respond, seed, caps, commands }) => {
          const slow = start(true, ringBytes, statusReport, caps, respond, seed);
          const fast = start(false, ringBytes, statusReport, caps, respond, seed);
          expect(observed(fast.h, fast.deliveries)).toBe(observed(slow.h, slow.deliveries));
          for (const cmd of commands) {
            for (const run of [slow, fast]) {
              applyCommand(run.h, cmd);
              run.h.run();
            }
            expect(observed(fast.h, fast.deliveries)).toBe(observed(slow.h, slow.deliveries));
          }
          expect(fast.h.device.getSnapshot().status).toBe('active');
          snapshotsStepByStep += slow.snapshots;
          snapshotsFolded += fast.snapshots;
        },
      ),
      { numRuns: 120 },
    );
    // The runs did fold steps (else this compared a device with itself).
    expect(snapshotsFolded).toBeLessThan(snapshotsStepByStep);
  });

  /** A device with `ranges` ballooned pages ranges of 50,000 pages (gaps between), then given it all back. */
  function giveBack(stepByStep: boolean, options: { ringBytes: number; ranges: number; guestReads: boolean }): { run: Run; giveBackSnapshots: number } {
    const run = start(stepByStep, options.ringBytes, false, { balloon: true, hotAdd: true, hotAddAlignment: 7, hotRemove: false }, true, 1);
    run.h.guest.onMessage = (m) => {
      if (m.type === 'DM_BALLOON_REQUEST') {
        // Ranges with gaps between them: the give-back returns them one request each.
        const size = m.numPages / options.ranges;
        const ranges = Array.from({ length: options.ranges }, (_, i) => ({ startPage: 0x10_0000 + i * 2 * size, pageCount: size }));
        run.h.guest.write({ type: 'DM_BALLOON_RESPONSE', transId: m.transId, morePages: false, ranges });
      } else if (m.type === 'DM_UNBALLOON_REQUEST' && !m.morePages) {
        run.h.guest.write({ type: 'DM_UNBALLOON_RESPONSE', transId: m.transId });
      }
    };
    run.h.setTarget(BOOT_RAM_PAGES - options.ranges * 50_000);
    run.h.run(1_000);
    const before = run.snapshots;
    run.h.guest.autoDrain = options.guestReads;
    run.h.setTarget(BOOT_RAM_PAGES);
    run.h.run(1_000);
    return { run, giveBackSnapshots: run.snapshots - before };
  }

  it('answers a give-back stream with one step per request when nothing is in the way', () => {
    const slow = giveBack(true, { ringBytes: 16_384, ranges: 4, guestReads: true });
    const fast = giveBack(false, { ringBytes: 16_384, ranges: 4, guestReads: true });
    expect(observed(fast.run.h, fast.run.deliveries)).toBe(observed(slow.run.h, slow.run.deliveries));
    expect(fast.run.h.guest.messages('DM_UNBALLOON_REQUEST')).toHaveLength(4);
    // Step by step: an RB_WAIT and a POSTING handler step per request; together: one per request.
    expect(slow.giveBackSnapshots - fast.giveBackSnapshots).toBe(3);
  });

  it('stops a give-back stream where the ring fills, as step by step does, and goes on when the guest reads', () => {
    // 128 bytes of ring: two 24-byte requests (48 bytes of ring each) fit, a third does not.
    const slow = giveBack(true, { ringBytes: 128, ranges: 6, guestReads: false });
    const fast = giveBack(false, { ringBytes: 128, ranges: 6, guestReads: false });
    expect(observed(fast.run.h, fast.run.deliveries)).toBe(observed(slow.run.h, slow.run.deliveries));
    expect(fast.run.h.state).toBe('S_UNBALLOON_RB_WAIT');
    expect(fast.run.h.link.hostToGuest.length).toBe(2);
    for (const { run } of [slow, fast]) {
      run.h.guest.autoDrain = true;
      run.h.guest.drain();
      run.h.run(1_000);
    }
    expect(observed(fast.run.h, fast.run.deliveries)).toBe(observed(slow.run.h, slow.run.deliveries));
    expect(fast.run.h.guest.messages('DM_UNBALLOON_REQUEST')).toHaveLength(6);
    expect(fast.run.h.state).toBe('S_IDLE');
  });
});
