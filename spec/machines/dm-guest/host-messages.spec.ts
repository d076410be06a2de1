/**
 * What the guest does with other host messages (Linux hv_balloon.c balloon_onchannelcallback):
 * DM_INFO max page count recorded without reply, unknown types and hot-remove logged and dropped,
 * malformed messages dropped, messages in the wrong state dropped; the guest never echoes host
 * trans_ids.
 */
import { encode } from '../../../protocol/codec';
import { bootInitialized, createGuestHarness } from './guest-harness';

describe('other host messages', () => {
  it('records the DM_INFO max page count, logs it in MB and sends nothing back', () => {
    const h = bootInitialized();
    const before = h.host.received.length;
    h.host.send({ type: 'DM_INFO_MESSAGE', transId: 5, info: [{ type: 'MAX_PAGE_COUNT', maxPageCount: 524_288n }] });
    h.run(1000);
    expect(h.guest.getSnapshot().context.connection.maxDynamicPageCount).toBe(524_288);
    expect(h.logTexts()).toContain('Max. dynamic memory size: 2048 MB');
    expect(h.host.received).toHaveLength(before);
  });

  it('warns about an unknown info type', () => {
    const h = bootInitialized();
    h.host.send({ type: 'DM_INFO_MESSAGE', transId: 5, info: [{ type: 'UNKNOWN', infoType: 7, data: new Uint8Array(4) }] });
    h.run(10);
    expect(h.logTexts()).toContain('Received Unknown type: 7');
    expect(h.guest.getSnapshot().context.connection.maxDynamicPageCount).toBeNull();
  });

  it('logs and drops an unknown message type', () => {
    const h = bootInitialized();
    const bytes = new Uint8Array(16);
    bytes.set([20, 0, 16, 0, 1, 0, 0, 0]);
    h.host.sendRaw(bytes);
    h.run(10);
    expect(h.logTexts()).toContain('Unhandled message: type: 20');
    expect(h.guest.getSnapshot().context.stats.messagesDropped).toBe(1);
  });

  it('does not implement hot-remove: logs and drops it, no response', () => {
    const h = bootInitialized();
    h.host.send({ type: 'DM_MEM_HOT_REMOVE_REQUEST', transId: 9, virtualNode: 0, pageCount: 1024, qosFlags: 0 });
    h.run(1000);
    expect(h.logTexts()).toContain('Unhandled message: type: 13');
    expect(h.host.messages('DM_MEM_HOT_REMOVE_RESPONSE')).toHaveLength(0);
  });

  it('drops a truncated message and keeps working', () => {
    const h = bootInitialized();
    h.host.sendRaw(encode({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 10 }).slice(0, 8));
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 2, numPages: 512 });
    h.run(100);
    expect(h.logTexts().some((t) => t.startsWith('dropped malformed message: DM_BALLOON_REQUEST'))).toBe(true);
    expect(h.host.messages('DM_BALLOON_RESPONSE')).toHaveLength(1);
  });

  it('drops a version response after the handshake and host requests before it', () => {
    const h = createGuestHarness({ autoHandshake: false });
    h.run(101);
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 512 });
    h.run(1);
    expect(h.logTexts()).toContain('DM_BALLOON_REQUEST before the driver is initialized, ignored');
    expect(h.host.messages('DM_BALLOON_RESPONSE')).toHaveLength(0);

    const g = bootInitialized();
    g.host.send({ type: 'DM_VERSION_RESPONSE', transId: 1, isAccepted: false });
    g.run(10);
    expect(g.logTexts()).toContain('unexpected DM_VERSION_RESPONSE outside the handshake, ignored');
    expect(g.host.messages('DM_VERSION_REQUEST')).toHaveLength(1);
  });

  it('never echoes the host trans_id: every guest message takes the next value of its own counter', () => {
    const h = bootInitialized({ profile: { profile: 'linux', pressureReportDelay: 0 } });
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1000, numPages: 2000 });
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 2000, range: { startPage: 4 * 262_144, pageCount: 32_768 } });
    h.run(3000);
    const ids = h.host.received.map((r) => r.message!.transId);
    expect(ids).toEqual(ids.map((_, i) => i + 1));
  });
});
