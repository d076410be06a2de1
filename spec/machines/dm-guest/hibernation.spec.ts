/**
 * Hibernation-enabled VMs (Linux hv_balloon.c, hv_is_hibernation_supported()): balloon and
 * unballoon ignored without reply, hot-add refused.
 */
import { bytesToHex } from '../../../protocol/hex';
import { FakeGuestMemory } from './fake-guest-memory';
import { bootInitialized } from './guest-harness';

const GiB = 262_144;

describe('hibernation mode', () => {
  function hibernating() {
    const memory = new FakeGuestMemory({ ramPages: 4 * GiB, usedPages: GiB });
    return { memory, h: bootInitialized({ memory, profile: { profile: 'linux', hibernation: true } }) };
  }

  it('still advertises balloon and hot-add (the host requires the bits)', () => {
    const { h } = hibernating();
    expect(bytesToHex(h.host.received[1]!.bytes).slice(16, 18)).toBe('1f');
  });

  it('ignores a balloon request: no response at all, memory untouched', () => {
    const { h, memory } = hibernating();
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 1000 });
    h.run(10_000);
    expect(h.host.messages('DM_BALLOON_RESPONSE')).toHaveLength(0);
    expect(memory.balloonedPages()).toBe(0);
    expect(h.logTexts()).toContain('Ignore balloon-up request!');
  });

  it('ignores an unballoon request without reply', () => {
    const { h } = hibernating();
    h.host.send({ type: 'DM_UNBALLOON_REQUEST', transId: 1, morePages: false, ranges: [{ startPage: 0x1000, pageCount: 1 }] });
    h.run(1000);
    expect(h.host.messages('DM_UNBALLOON_RESPONSE')).toHaveLength(0);
    expect(h.logTexts()).toContain('Ignore balloon-down request!');
  });

  it('answers hot-add with 0 pages and result 1 (do not retry), adding nothing', () => {
    const { h, memory } = hibernating();
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 1, range: { startPage: 4 * GiB, pageCount: 32_768 } });
    h.run(1000);
    expect(h.host.messages('DM_MEM_HOT_ADD_RESPONSE').map((r) => [r.pageCount, r.result])).toEqual([[0, 1]]);
    expect(memory.blocks).toHaveLength(0);
    expect(h.logTexts()).toContain('Ignore hot-add request!');
    expect(h.logTexts()).not.toContain('Memory hot add failed');
  });
});
