/**
 * The Windows-like profile (what QEMU hv-balloon.c and its qemu-devel threads say of Windows; see
 * docs/guest-profiles.md): large contiguous balloon ranges, a free reserve it keeps, requests above
 * 585,728 pages not honoured (no response), all six status fields filled.
 */
import { FakeGuestMemory } from './fake-guest-memory';
import { bootInitialized, pagesOf } from './guest-harness';

const GiB = 262_144;
const MiB = 256;

function windows(profile: Record<string, unknown> = {}, seed = 1) {
  const memory = new FakeGuestMemory({ ramPages: 16 * GiB, usedPages: 2 * GiB });
  const h = bootInitialized({ memory, seed, profile: { profile: 'windows', ...profile } });
  return { h, memory };
}

describe('Windows-like guest', () => {
  it('gives the largest contiguous run it finds: 1 GiB in one range', () => {
    const { h, memory } = windows();
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: GiB });
    h.run(100);
    expect(h.host.messages('DM_BALLOON_RESPONSE')).toEqual([
      { type: 'DM_BALLOON_RESPONSE', transId: 3, morePages: false, ranges: [{ startPage: 15 * GiB, pageCount: GiB }] },
    ]);
    expect(memory.calls).toContain(`contiguous ${GiB} x510`);
  });

  it('keeps 512 MiB of available memory for itself by default', () => {
    const { h, memory } = windows();
    memory.available = GiB + 100 * MiB;
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: GiB });
    h.run(100);
    expect(pagesOf(h.host.messages('DM_BALLOON_RESPONSE').flatMap((m) => m.ranges))).toBe(GiB + 100 * MiB - 512 * MiB);
    expect(h.logTexts()).toContain('Balloon request will be partially fulfilled. Free-memory reserve reached.');
  });

  it('takes a configured reserve', () => {
    const { h, memory } = windows({ reserveMiB: 1024 });
    memory.available = 2 * GiB;
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 2 * GiB });
    h.run(100);
    expect(pagesOf(h.host.messages('DM_BALLOON_RESPONSE').flatMap((m) => m.ranges))).toBe(GiB);
  });

  it('does not honour a request above 585,728 pages: no response at all', () => {
    const { h, memory } = windows();
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 585_729 });
    h.run(5_000);
    expect(h.host.messages('DM_BALLOON_RESPONSE')).toHaveLength(0);
    expect(memory.balloonedPages()).toBe(0);
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 2, numPages: 585_728 });
    h.run(100);
    expect(pagesOf(h.host.messages('DM_BALLOON_RESPONSE').flatMap((m) => m.ranges))).toBe(585_728);
  });

  it('reports all six status fields, starting about a second after the handshake', () => {
    const { h, memory } = windows();
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: GiB });
    h.run(1_500);
    const reports = h.host.timed('DM_STATUS_REPORT');
    expect(reports.length).toBeGreaterThanOrEqual(1);
    const r = reports.at(-1)!.message;
    expect(r.numAvail).toBe(BigInt(memory.availablePages()));
    // Commit charge includes the balloon driver's locked pages; no Linux floor.
    expect(r.numCommitted).toBe(BigInt(2 * GiB + GiB));
    expect(r.pageFileSize).toBe(BigInt(2048 * MiB));
    expect(r.zeroFree).toBe(BigInt(memory.freePages()));
    expect(r.ioDiff).toBeGreaterThanOrEqual(0);
    expect(r.ioDiff).toBeLessThanOrEqual(255);
  });

  it('draws page-file writes and io_diff from the seed: same seed, same reports', () => {
    const run = (seed: number) => {
      const { h } = windows({ pageFileMiB: 4096 }, seed);
      h.run(10_000);
      return h.host.messages('DM_STATUS_REPORT').map((r) => [r.pageFileWrites, r.ioDiff, r.pageFileSize]);
    };
    const a = run(7);
    expect(run(7)).toEqual(a);
    expect(run(8)).not.toEqual(a);
    expect(a[0]![2]).toBe(BigInt(4096 * MiB));
  });

  it('writes to its page file when commit exceeds its memory', () => {
    const memory = new FakeGuestMemory({ ramPages: 4 * GiB, usedPages: GiB, committedPages: 6 * GiB });
    const h = bootInitialized({ memory, profile: { profile: 'windows' } });
    h.run(3_000);
    for (const r of h.host.messages('DM_STATUS_REPORT')) expect(r.pageFileWrites).toBeGreaterThan(1000);
  });
});
