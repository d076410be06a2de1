import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../actors/cli/main';
import { formatTracePoint, parseTraceLine, parseTraceLog, TraceLogError, type ParsedTracePoint } from '../../../actors/trace-diff/qemu-trace-format';
import { diffTracePoints, formatTraceDiff } from '../../../actors/trace-diff/trace-diff';

const RIG = join(__dirname, '..', '..', 'fixtures', 'qemu-10-rig');
const A_LOG = join(RIG, 'A-shrink', 'qemu.log');
const A_SCENARIO = join(__dirname, '..', '..', '..', 'examples', 'qemu-10-rig', 'A-shrink.json');

function point(line: string): ParsedTracePoint {
  const r = parseTraceLine(line);
  if (r.kind !== 'trace') throw new Error(`not a trace point: ${line}`);
  return r.point;
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

describe('reading QEMU trace logs', () => {
  it('reads every hv_balloon line of a recording and skips the rest (warnings, vmbus trace points)', () => {
    const points = parseTraceLog(readFileSync(A_LOG, 'utf8'));
    expect(points).toHaveLength(23);
    expect(points[0]).toMatchObject({ name: 'hv_balloon_state_change', fields: { to: 'S_POST_RESET_CLOSED' }, timeS: 0.035, line: 3 });
    expect(points.find((p) => p.name === 'hv_balloon_incoming_balloon')!.fields).toEqual({ transId: '9', rangeCount: '510', morePages: '1' });
    expect(points.find((p) => p.name === 'hv_balloon_remove_response')!.fields).toEqual({ count: '261120', start: '101800', both: '1' });
  });

  it("reads QEMU's own timestamp prefix (pid@sec.usec:) and lines without a prefix", () => {
    expect(point('12345@1700000000.123456:hv_balloon_outgoing_hot_add posting hot add 2 for 524288 @ 0x800000')).toMatchObject({
      fields: { transId: '2', count: '524288', start: '800000' },
      timeS: 1700000000.123456,
    });
    expect(point('hv_balloon_incoming_caps incoming caps 0x1f')).toMatchObject({ fields: { caps: '1f' }, timeS: null });
  });

  it('prints the emulator trace events exactly as QEMU does', () => {
    expect(formatTracePoint('hv_balloon_outgoing_unballoon', { transId: 1, count: 131584, start: 0x158c00, remaining: 392704 })).toBe(
      'hv_balloon_outgoing_unballoon posting unballoon 1 for 131584 @ 0x158c00, remaining 392704',
    );
    expect(formatTracePoint('hv_balloon_incoming_balloon', { transId: 9, rangeCount: 510, morePages: true })).toBe(
      'hv_balloon_incoming_balloon incoming balloon response 9, ranges 510, more 1',
    );
    expect(formatTracePoint('hv_balloon_map_slot', { idx: 1, total: 32, offset: 0x10000000 })).toBe('hv_balloon_map_slot mapping memslot 1 / 32 @ 0x10000000');
  });

  it('a hv_balloon line it cannot read is an error naming the line', () => {
    expect(() => parseTraceLog('x\nhv_balloon_incoming_caps caps are 31\n')).toThrow(TraceLogError);
    expect(() => parseTraceLog('x\nhv_balloon_incoming_caps caps are 31\n')).toThrow(/line 2: hv_balloon_incoming_caps: cannot read "caps are 31"/);
  });
});

describe('comparing traces', () => {
  const qemu = [
    point('[ 53.245] hv_balloon_outgoing_balloon posting balloon 0 for 524288, remaining 524288'),
    point('[ 55.992] hv_balloon_incoming_balloon incoming balloon response 9, ranges 510, more 1'),
  ];

  it("ignores the guest's transaction ids unless asked (they count its status reports), never the host's", () => {
    const ours = [qemu[0]!, point('hv_balloon_incoming_balloon incoming balloon response 8, ranges 510, more 1')];
    expect(diffTracePoints(qemu, ours).divergence).toBeNull();
    expect(diffTracePoints(qemu, ours, { strictTransIds: true }).divergence).toMatchObject({ kind: 'field', field: 'transId', expectedValue: '9', actualValue: '8' });
    const host = [point('hv_balloon_outgoing_balloon posting balloon 1 for 524288, remaining 524288'), qemu[1]!];
    expect(diffTracePoints(qemu, host).divergence).toMatchObject({ kind: 'field', index: 0, field: 'transId' });
  });

  it('reports the first divergence: a different kind, a field, a trace that ends early or runs on', () => {
    const other = point('hv_balloon_state_change -> S_IDLE');
    expect(diffTracePoints(qemu, [qemu[0]!, other]).divergence).toMatchObject({ kind: 'name', index: 1 });
    const fewer = point('hv_balloon_incoming_balloon incoming balloon response 9, ranges 4, more 0');
    const r = diffTracePoints(qemu, [qemu[0]!, fewer]);
    expect(r.divergence).toMatchObject({ kind: 'field', field: 'rangeCount', expectedValue: '510', actualValue: '4' });
    expect(formatTraceDiff(r)).toContain('first divergence at trace point #2 (after 1 matching): hv_balloon_incoming_balloon field rangeCount: QEMU 510, emulator 4');
    expect(formatTraceDiff(r)).toContain('QEMU (line 0 t=55.992s)');
    expect(diffTracePoints(qemu, [qemu[0]!]).divergence).toMatchObject({ kind: 'missing', index: 1, remaining: 1 });
    expect(diffTracePoints([qemu[0]!], qemu).divergence).toMatchObject({ kind: 'extra', index: 1, remaining: 1 });
  });
});

describe('hv-balloon-sim trace-diff', () => {
  it('exits 0 with one line when the replay matches the recording', async () => {
    const r = await cli('trace-diff', A_LOG, A_SCENARIO);
    expect(r).toEqual({ code: 0, out: 'no divergence: 23 hv_balloon trace points match in order, kind and fields\n', err: '' });
  });

  it('exits 1 and names the first divergence when it does not (here: a pc machine instead of q35)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hvb-trace-diff-'));
    const scenario = JSON.parse(readFileSync(A_SCENARIO, 'utf8')) as { machine: Record<string, unknown> };
    scenario.machine.type = 'pc';
    const file = join(dir, 'pc.json');
    writeFileSync(file, JSON.stringify(scenario));
    const r = await cli('trace-diff', A_LOG, file, '--json');
    expect(r.code).toBe(1);
    const result = JSON.parse(r.out) as { matched: number; divergence: { kind: string; field: string } };
    expect(result.divergence).toMatchObject({ kind: 'field', field: 'count' });
    expect(result.matched).toBe(12);
    expect(r.err).toBe('hv-balloon-sim: the traces diverge (see above)\n');
  });

  it('bad input exits 2 with one line naming it', async () => {
    const missing = await cli('trace-diff', '/nonexistent/qemu.log', A_SCENARIO);
    expect(missing).toMatchObject({ code: 2, err: 'hv-balloon-sim: <qemu-trace-log>: cannot read /nonexistent/qemu.log: ENOENT\n' });
    const dir = mkdtempSync(join(tmpdir(), 'hvb-trace-diff-'));
    const bad = join(dir, 'bad.log');
    writeFileSync(bad, 'hv_balloon_state_change\n');
    const r = await cli('trace-diff', bad, A_SCENARIO);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^hv-balloon-sim: .*bad\.log: line 1: hv_balloon_state_change: cannot read "" as this trace point\n$/);
  });
});
