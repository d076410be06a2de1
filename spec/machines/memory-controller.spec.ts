import { createActor } from 'xstate';
import { VirtualClock } from '../../actors/virtual-clock';
import { MachineMemory } from '../../machines/machine-memory';
import { memoryControllerMachine, type MemoryControllerInput } from '../../machines/memory-controller.machine';
import type { Outbox, PostedEvent } from '../../machines/outbox';
import type { PartId } from '../../machines/part-events';

const GiB = 1024 ** 3;
const BLOCK = 32768; // 128 MiB
const WINDOW = (32 * GiB) / 4096;
const block = (i: number) => ({ startPage: WINDOW + i * BLOCK, pageCount: BLOCK });


function harness(input: Omit<MemoryControllerInput, 'outbox' | 'memory'>) {
  const clock = new VirtualClock();
  const posted: { to: PartId; event: PostedEvent; at: number }[] = [];
  const outbox: Outbox = { post: (to, event) => posted.push({ to, event, at: clock.now() }), now: () => clock.now() };
  const memory = new MachineMemory({ ramBytes: 4 * GiB, maxmemBytes: 40 * GiB });
  const actor = createActor(memoryControllerMachine, { clock, input: { ...input, outbox, memory } }).start();
  /** What the guest driver does: add the block (offline), then tell the controller. */
  const add = (i: number): void => {
    expect(memory.addMemoryBlock(block(i))).toBe('ok');
    actor.send({ type: 'memctl.block-added', range: block(i) });
  };
  return { clock, actor, posted, memory, add };
}

describe('memory controller', () => {
  test('an added block is onlined after onlineDelayMs and the guest is told', () => {
    const h = harness({ onlineDelayMs: 100, chargeVcpu: false });
    const managed = h.memory.managedPages();
    h.add(0);
    h.clock.advance(99);
    expect(h.memory.offlinePageCount()).toBe(BLOCK);
    expect(h.posted).toEqual([]);
    h.clock.advance(1);
    expect(h.memory.offlinePageCount()).toBe(0);
    expect(h.memory.managedPages()).toBe(managed + BLOCK);
    expect(h.posted).toEqual([{ to: 'guest', event: { type: 'guest.block-onlined', range: block(0) }, at: 100 }]);
    expect(h.actor.getSnapshot().value).toBe('ready');
  });

  test('by default the onlining runs as a vCPU job and completes on its job.done', () => {
    const h = harness({});
    h.add(0);
    h.clock.advance(100);
    expect(h.posted).toEqual([
      {
        to: 'vcpu',
        event: { type: 'vcpu.run', job: { owner: 'memctl', tag: `online-0-${WINDOW}`, work: [{ kind: 'pageOnlined', count: BLOCK }] } },
        at: 100,
      },
    ]);
    expect(h.actor.getSnapshot().value).toBe('onlining');
    h.actor.send({ type: 'job.done', tag: 'someone-else', costMs: 1 });
    expect(h.memory.offlinePageCount()).toBe(BLOCK);
    h.clock.advance(1.3);
    h.actor.send({ type: 'job.done', tag: `online-0-${WINDOW}`, costMs: 1.311 });
    expect(h.memory.offlinePageCount()).toBe(0);
    expect(h.posted[1]).toEqual({ to: 'guest', event: { type: 'guest.block-onlined', range: block(0) }, at: 101.3 });
  });

  test('several pending blocks are onlined in order, each onlineDelayMs after it was added', () => {
    const h = harness({ onlineDelayMs: 100, chargeVcpu: false });
    h.add(0);
    h.clock.advance(30);
    h.add(1);
    h.clock.advance(30);
    h.add(2);
    h.clock.advance(200);
    expect(h.posted.map((p) => [p.event, p.at])).toEqual([
      [{ type: 'guest.block-onlined', range: block(0) }, 100],
      [{ type: 'guest.block-onlined', range: block(1) }, 130],
      [{ type: 'guest.block-onlined', range: block(2) }, 160],
    ]);
  });

  test('onlineDelayMs null: blocks stay offline and nobody is told', () => {
    const h = harness({ onlineDelayMs: null });
    h.add(0);
    h.clock.advance(60_000);
    expect(h.memory.offlinePageCount()).toBe(BLOCK);
    expect(h.posted).toEqual([]);
    expect(h.actor.getSnapshot().context.blocksLeftOffline).toBe(1);
  });

  test("onlineMode 'notify-only' leaves the pages to the driver", () => {
    const h = harness({ onlineDelayMs: 10, chargeVcpu: false, onlineMode: 'notify-only' });
    h.add(0);
    h.clock.advance(10);
    expect(h.posted).toHaveLength(1);
    expect(h.memory.offlinePageCount()).toBe(BLOCK);
  });

  test('system.reset drops pending blocks, restores the boot memory and ignores a late job.done', () => {
    const h = harness({ onlineDelayMs: 100 });
    const bootFree = h.memory.rangesIn('free');
    h.add(0);
    h.add(1);
    h.clock.advance(100);
    expect(h.actor.getSnapshot().value).toBe('onlining');
    h.memory.allocateUsed(1000);
    h.actor.send({ type: 'system.reset' });
    expect(h.actor.getSnapshot().value).toBe('ready');
    expect(h.memory.offlinePageCount()).toBe(0);
    expect(h.memory.rangesIn('free')).toEqual(bootFree);
    h.actor.send({ type: 'job.done', tag: `online-0-${WINDOW}`, costMs: 1 });
    h.clock.advance(1000);
    expect(h.posted.filter((p) => p.to === 'guest')).toEqual([]);
    // After the reset the generation changed, so a new block gets a new job tag.
    h.add(0);
    h.clock.advance(100);
    expect(h.posted[h.posted.length - 1].event).toMatchObject({ job: { tag: `online-1-${WINDOW}` } });
  });

  test('bad config names the field', () => {
    const outbox: Outbox = { post: () => undefined, now: () => 0 };
    const memory = new MachineMemory({ ramBytes: GiB });
    const actor = createActor(memoryControllerMachine, { input: { outbox, memory, onlineDelayMs: -5 } });
    const errors: unknown[] = [];
    actor.subscribe({ error: (e) => errors.push(e) });
    actor.start();
    expect(String(errors[0])).toContain('onlineDelayMs must be a number >= 0 or null, got -5');
  });
});
