/** The test kit's assertions: runner-neutral errors that say what was expected and what was there. */
import { expectMessage, expectMessageCount, expectState, TestKitAssertionError } from '../../testing';
import type { DmMessage } from '../../protocol';

const response: DmMessage = { type: 'DM_VERSION_RESPONSE', transId: 3, isAccepted: false };

describe('test kit assertions', () => {
  it('expectMessage returns the message, typed, when type and fields match', () => {
    expect(expectMessage(response, 'DM_VERSION_RESPONSE', { isAccepted: false }).transId).toBe(3);
  });

  it('expectMessage names the field, the expected and the actual value', () => {
    expect(() => expectMessage(response, 'DM_VERSION_RESPONSE', { isAccepted: true })).toThrow(
      new TestKitAssertionError('DM_VERSION_RESPONSE.isAccepted: expected true, got false (in {"type":"DM_VERSION_RESPONSE","transId":3,"isAccepted":false})'),
    );
  });

  it('expectMessage names both types on a type mismatch, and says when there was nothing', () => {
    expect(() => expectMessage(response, 'DM_BALLOON_REQUEST')).toThrow(/expected a DM_BALLOON_REQUEST, got DM_VERSION_RESPONSE/);
    expect(() => expectMessage(undefined, 'DM_BALLOON_REQUEST')).toThrow('expected a DM_BALLOON_REQUEST, got nothing');
  });

  it('expectMessage on a packet that did not decode gives the decode error', () => {
    const packet = { timeMs: 0, bytes: new Uint8Array([1]), message: undefined, error: 'too short' };
    expect(() => expectMessage(packet, 'DM_ERROR')).toThrow('expected a DM_ERROR, got undecodable bytes (too short)');
  });

  it('expectMessageCount and expectState', () => {
    expect(expectMessageCount([response, response], 'DM_VERSION_RESPONSE', 2)).toHaveLength(2);
    expect(() => expectMessageCount([response], 'DM_ERROR', 1)).toThrow('expected 1 DM_ERROR, got 0 (types seen: DM_VERSION_RESPONSE)');
    expect(() => expectState('S_IDLE', 'S_POST_INIT_WAIT')).toThrow('expected state S_POST_INIT_WAIT, got S_IDLE');
  });
});
