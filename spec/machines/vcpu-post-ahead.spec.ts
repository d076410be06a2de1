/**
 * A job started on an idle vCPU has its job.done posted ahead (Outbox.postWhenDue), so the vCPU
 * is not woken when the job's time is up. Each script here runs twice on a real message bus, with
 * and without postWhenDue, and the deliveries must be the same: the same times, the same order
 * among messages due at the same instant.
 */
import { createActor } from 'xstate';
import { MessageBus } from '../../actors/message-bus';
import { VirtualClock } from '../../actors/virtual-clock';
import type { Outbox } from '../../machines/outbox';
import type { PartId, VcpuJob } from '../../machines/part-events';
import { vcpuMachine } from '../../machines/vcpu.machine';

const MS = 1_000_000;
const costModel = { messageHandled: MS };
const job = (owner: PartId, tag: string, ms: number): VcpuJob => ({ owner, tag, work: [{ kind: 'messageHandled', count: ms }] });

interface Delivery {
  at: number;
  to: PartId;
  what: string;
}

function bed(postAhead: boolean) {
  const clock = new VirtualClock();
  const bus = new MessageBus(clock);
  const full = bus.outboxFor('vcpu');
  const outbox: Outbox = postAhead ? full : { post: full.post, now: full.now };
  let events = 0;
  // Every event the vCPU takes: bus deliveries and its own timers.
  const actor = createActor(vcpuMachine, { clock, input: { outbox, costModel }, inspect: (e) => void (e.type === '@xstate.event' && events++) });
  actor.start();
  events = 0;
  bus.attach('vcpu', actor);
  const log: Delivery[] = [];
  for (const part of ['guest', 'memctl', 'device'] as const) {
    bus.attach(part, { send: (e) => log.push({ at: clock.now(), to: part, what: 'tag' in e ? `${e.type} ${String(e.tag)}` : e.type }) });
  }
  const user = (to: PartId, event: Parameters<MessageBus['post']>[2], delayMs = 0): void => bus.post('user', to, event as never, delayMs);
  return { clock, bus, actor, log, user, vcpuEvents: () => events };
}

/** Runs `script` with and without posting ahead; returns both delivery logs. */
function both(script: (b: ReturnType<typeof bed>) => void): { ahead: Delivery[]; classic: Delivery[] } {
  const a = bed(true);
  script(a);
  const c = bed(false);
  script(c);
  return { ahead: a.log, classic: c.log };
}

describe('vCPU: job.done posted ahead from idle', () => {
  test('job.done arrives when the cost has elapsed, in the same place among that instant\'s messages', () => {
    const { ahead, classic } = both((b) => {
      b.user('memctl', { type: 'memctl.block-added', range: { startPage: 0, pageCount: 1 } }, 5); // due at 5, posted before
      b.user('vcpu', { type: 'vcpu.run', job: job('guest', 'a', 5) });
      b.clock.advance(1);
      b.user('device', { type: 'device.notify' }, 4); // due at 5, posted while the job runs
      b.clock.advance(10);
    });
    expect(ahead).toEqual(classic);
    expect(ahead).toEqual([
      { at: 5, to: 'memctl', what: 'memctl.block-added' },
      { at: 5, to: 'device', what: 'device.notify' },
      { at: 5, to: 'guest', what: 'job.done a' },
    ]);
  });

  test('the vCPU takes one event per job instead of two', () => {
    const counts = [true, false].map((ahead) => {
      const b = bed(ahead);
      for (let i = 0; i < 3; i++) {
        b.user('vcpu', { type: 'vcpu.run', job: job('guest', `j${i}`, 2) });
        b.clock.advance(5);
      }
      return b.vcpuEvents();
    });
    // vcpu.run each; without posting ahead also the timer that ends each job.
    expect(counts).toEqual([3, 6]);
  });

  test('a job queued behind one posted ahead runs after it', () => {
    const { ahead, classic } = both((b) => {
      b.user('vcpu', { type: 'vcpu.run', job: job('guest', 'a', 5) });
      b.clock.advance(2);
      b.user('vcpu', { type: 'vcpu.run', job: job('device', 'b', 3) });
      b.clock.advance(1);
      b.user('vcpu', { type: 'vcpu.run', job: job('guest', 'c', 1) });
      b.clock.advance(20);
      b.user('vcpu', { type: 'vcpu.run', job: job('guest', 'd', 1) });
      b.clock.advance(5);
    });
    expect(ahead).toEqual(classic);
    expect(ahead.map((d) => [d.at, d.what])).toEqual([
      [5, 'job.done a'],
      [8, 'job.done b'],
      [9, 'job.done c'],
      [24, 'job.done d'],
    ]);
  });

  test('a halt holds a job posted ahead back by the time halted', () => {
    const { ahead, classic } = both((b) => {
      b.user('vcpu', { type: 'vcpu.run', job: job('guest', 'a', 10) });
      b.clock.advance(4);
      b.user('vcpu', { type: 'vcpu.halt' });
      b.clock.advance(100);
      b.user('vcpu', { type: 'vcpu.resume' });
      b.clock.advance(20);
    });
    expect(ahead).toEqual(classic);
    expect(ahead).toEqual([{ at: 110, to: 'guest', what: 'job.done a' }]);
  });

  test('a halt at the instant the job ends does not post its job.done twice', () => {
    for (const first of ['halt', 'end'] as const) {
      const { ahead, classic } = both((b) => {
        if (first === 'halt') b.user('vcpu', { type: 'vcpu.halt' }, 5); // due at 5 before the job's end
        b.user('vcpu', { type: 'vcpu.run', job: job('guest', 'a', 5) });
        if (first === 'end') {
          b.clock.advance(1);
          b.user('vcpu', { type: 'vcpu.halt' }, 4); // due at 5 after the job's end
        }
        b.clock.advance(10);
        b.user('vcpu', { type: 'vcpu.resume' });
        b.clock.advance(10);
      });
      expect(ahead).toEqual(classic);
      expect(ahead.filter((d) => d.what === 'job.done a')).toHaveLength(1);
    }
  });

  test('a reset drops a job posted ahead: no job.done', () => {
    const { ahead, classic } = both((b) => {
      b.user('vcpu', { type: 'vcpu.run', job: job('guest', 'a', 5) });
      b.clock.advance(2);
      b.user('vcpu', { type: 'system.reset' });
      b.clock.advance(50);
      b.user('vcpu', { type: 'vcpu.run', job: job('guest', 'b', 1) });
      b.clock.advance(5);
    });
    expect(ahead).toEqual(classic);
    expect(ahead.map((d) => d.what)).toEqual(['job.done b']);
  });
});
