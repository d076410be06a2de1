/** A golden-trace mismatch names the first differing line, with the lines around it on both sides. */
import { compareGoldenTrace } from '../../actors/golden-trace/golden-compare';
import { goldenLine } from '../../actors/golden-trace/golden-trace-lines';

const golden = ['# header', '1000 dm host->guest DM_VERSION_RESPONSE size=16 trans=1 fnv=00000001', '2000 trace hv_balloon_state_change -> S_CAPS', '3000 guest info hello', ''].join('\n');

describe('compareGoldenTrace', () => {
  it('finds nothing when the texts are equal', () => {
    expect(compareGoldenTrace(golden, golden)).toBeNull();
  });

  it('reports the first differing line, both versions, and context from both traces', () => {
    const changed = golden.replace('-> S_CAPS', '-> S_IDLE');
    const d = compareGoldenTrace(golden, changed, 1)!;
    expect(d.line).toBe(3);
    expect(d.expected).toBe('2000 trace hv_balloon_state_change -> S_CAPS');
    expect(d.actual).toBe('2000 trace hv_balloon_state_change -> S_IDLE');
    expect(d.report).toContain('first difference at line 3');
    expect(d.report).toContain('-      3  2000 trace hv_balloon_state_change -> S_CAPS');
    expect(d.report).toContain('+      3  2000 trace hv_balloon_state_change -> S_IDLE');
    // One line of context each side.
    expect(d.report).toContain('       2  1000 dm host->guest');
    expect(d.report).toContain('       4  3000 guest info hello');
  });

  it('reports a run that stops early or goes on as the end of one trace', () => {
    const shorter = golden.split('\n').slice(0, 3).join('\n');
    const d = compareGoldenTrace(golden, shorter)!;
    expect(d.line).toBe(4);
    expect(d.actual).toBeUndefined();
    expect(d.report).toContain('(end of trace)');
  });
});

describe('golden lines', () => {
  it('give a DM message its direction, type, size, transaction id and a fingerprint of its bytes, at its virtual µs', () => {
    const line = goldenLine({ kind: 'packet', time: 1.5, from: 'guest', type: 'DM_STATUS_REPORT', size: 4, transId: 7, payload: new Uint8Array([1, 2, 3, 4]) });
    expect(line).toMatch(/^1500 dm guest->host DM_STATUS_REPORT size=4 trans=7 fnv=[0-9a-f]{8}$/);
    const other = goldenLine({ kind: 'packet', time: 1.5, from: 'guest', type: 'DM_STATUS_REPORT', size: 4, transId: 7, payload: new Uint8Array([1, 2, 3, 5]) });
    expect(other).not.toBe(line);
  });

  it('print device trace points as QEMU does, arguments QEMU does not print after them', () => {
    expect(goldenLine({ kind: 'device', time: 2, event: { type: 'trace', name: 'hv_balloon_incoming_version', args: { major: 2, minor: 0 } } })).toBe(
      '2000 trace hv_balloon_incoming_version incoming proto version 2.0',
    );
    expect(goldenLine({ kind: 'device', time: 2, event: { type: 'trace', name: 'hv_balloon_incoming_version', args: { minor: 0, major: 2, z: 1, a: 'x' } } })).toBe(
      '2000 trace hv_balloon_incoming_version incoming proto version 2.0 {a=x z=1}',
    );
  });

  it('leave out bus deliveries between parts (machinery, not behaviour)', () => {
    expect(goldenLine({ kind: 'bus', time: 0 } as never)).toBeUndefined();
  });
});
