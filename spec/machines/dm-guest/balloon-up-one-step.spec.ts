/**
 * Balloon up sends a message and allocates and charges the next in one step when it can tell
 * beforehand that the send goes out and the next round gets 2 MiB units (the memory's optional
 * hasBalloonUnit); a request alone in the ring is read, started and its first message allocated
 * and charged in the interrupt's step, on the same condition. A guest whose memory cannot tell
 * goes step by step. Both must put the same
 * bytes on the wire at the same times, with the same allocations, logs and counters: ring-full
 * retries, the switch to 4 KiB, memory running out, a closed channel, requests queued behind one
 * in progress. (A Windows-like guest's contiguous allocation never switches units: it always
 * takes one step; windows-profile.spec.ts checks its messages.)
 */
import { FakeGuestMemory } from './fake-guest-memory';
import { bootInitialized, type GuestHarness } from './guest-harness';
import type { PageRange } from '../../../protocol/messages';

const GiB = 262_144;

interface Case {
  name: string;
  memory: () => FakeGuestMemory;
  script: (h: GuestHarness) => void;
  /** A log line the run must show (the branch it exercises). */
  shows?: string;
}

/** Free memory cut into `n` runs of `size` pages, one every 1024 pages (a run of 512 holds one 2 MiB unit). */
function patchy(n: number, size: number): PageRange[] {
  return Array.from({ length: n }, (_, i) => ({ startPage: 4 * GiB + i * 1024, pageCount: size }));
}

const cases: Case[] = [
  {
    name: 'a request over several full messages and a 4 KiB tail',
    memory: () => new FakeGuestMemory({ ramPages: 16 * GiB, usedPages: GiB }),
    script: (h) => {
      h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 3 * 510 * 512 + 700 });
      h.run(200);
    },
  },
  {
    name: '2 MiB units running out mid-way (the switch to 4 KiB for good)',
    memory: () => {
      const m = new FakeGuestMemory({ ramPages: 16 * GiB, freeRanges: [...patchy(520, 512), ...patchy(8, 300).map((r) => ({ ...r, startPage: r.startPage + GiB + 1 }))] });
      m.available = 8 * GiB;
      return m;
    },
    script: (h) => {
      h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 530 * 512 });
      h.run(300);
    },
  },
  {
    name: 'a full ring, retried every 20 ms, then drained',
    memory: () => new FakeGuestMemory({ ramPages: 16 * GiB, usedPages: GiB }),
    script: (h) => {
      h.host.reads = false;
      h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 6 * 510 * 512 });
      h.run(200);
      expect(h.guest.getSnapshot().context.stats.ringFullRetries).toBeGreaterThan(0);
      h.host.reads = true;
      h.host.drain();
      h.run(200);
    },
  },
  {
    name: 'a request that arrives while one runs, then a newer one',
    memory: () => new FakeGuestMemory({ ramPages: 16 * GiB, usedPages: GiB }),
    script: (h) => {
      h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 2 * 510 * 512 });
      h.run(0.5);
      h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 2, numPages: 1000 });
      h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 3, numPages: 3000 });
      h.run(2500);
    },
  },
  {
    name: 'two requests in the ring at once, and a request with an info message behind it',
    memory: () => new FakeGuestMemory({ ramPages: 16 * GiB, usedPages: GiB }),
    script: (h) => {
      h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 2000 });
      h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 2, numPages: 5000 });
      h.run(100);
      h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 3, numPages: 510 * 512 });
      h.host.send({ type: 'DM_INFO_MESSAGE', transId: 4, info: [{ type: 'MAX_PAGE_COUNT', maxPageCount: 4_000_000n }] });
      h.run(100);
      h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 5, numPages: 1024 });
      h.run(100);
    },
  },
  {
    name: 'the channel closing while a message is charged',
    memory: () => new FakeGuestMemory({ ramPages: 16 * GiB, usedPages: GiB }),
    script: (h) => {
      h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 4 * 510 * 512 });
      h.run(1.5);
      h.link.setOpen(false);
      h.run(100);
    },
    shows: 'Balloon response failed',
  },
];

function run(c: Case, oneStep: boolean) {
  const memory = c.memory();
  // A memory view without the optional query: the guest cannot tell beforehand and goes step by step.
  if (!oneStep) Object.defineProperty(memory, 'hasBalloonUnit', { value: undefined });
  const h = bootInitialized({ memory });
  // Steps that stay in `charging` (a message sent and the next charged) or enter it from an idle
  // work item (a request taken in the interrupt's step): so the comparison is not vacuous.
  let oneSteps = 0;
  h.guest.system.inspect((e) => {
    if (e.type !== '@xstate.microstep') return;
    const ts = (e as unknown as { _transitions: { source: { key: string }; target?: { key: string }[] }[] })._transitions;
    if (ts.some((t) => (t.source.key === 'charging' && t.target === undefined) || (t.source.key === 'idle' && t.target?.[0]?.key === 'charging'))) oneSteps++;
  });
  c.script(h);
  const { stats, transId, dmState } = h.guest.getSnapshot().context;
  return {
    wire: h.host.received.map((r) => `${r.timeMs} ${Buffer.from(r.bytes).toString('hex')}`),
    jobs: h.jobs.map((j) => `${j.timeMs} ${JSON.stringify(j.job)}`),
    calls: memory.calls,
    ballooned: memory.balloonedPages(),
    logs: h.logs,
    stats,
    transId,
    dmState,
    oneSteps,
  };
}

describe('balloon up in one step per message', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s: the same as step by step', (_name, c) => {
    const oneStep = run(c, true);
    const stepByStep = run(c, false);
    expect(oneStep.stats.balloonResponses).toBeGreaterThan(0);
    if (c.shows !== undefined) expect(oneStep.logs.map((l) => l.text)).toContain(c.shows);
    expect(oneStep.oneSteps).toBeGreaterThan(0);
    expect(stepByStep.oneSteps).toBe(0);
    expect({ ...oneStep, oneSteps: 0 }).toEqual(stepByStep);
  });
});
