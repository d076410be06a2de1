/** The decode and encode commands: hex <-> JSON for every golden vector, and one clean line for bad input. */

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runCli } from '../../actors/cli/main';
import { vectors } from '../protocol/vectors';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

/** A usage or input error: exit 2, nothing on stdout, exactly one `hv-balloon-sim: ...` line on stderr. */
function expectOneLineError(run: CliRun, mentions: string): void {
  expect(run.code).toBe(2);
  expect(run.stdout).toBe('');
  expect(run.stderr).toMatch(/^hv-balloon-sim: [^\n]+\n$/);
  expect(run.stderr).toContain(mentions);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

describe('round trip through the CLI', () => {
  test.each(vectors.valid)('$name: encode "$(decode HEX)" gives back HEX', async ({ hex }) => {
    const decoded = await cli('decode', hex);
    expect(decoded.code).toBe(0);
    expect(decoded.stderr).toBe('');
    const encoded = await cli('encode', decoded.stdout);
    expect(encoded).toEqual({ code: 0, stdout: `${hex}\n`, stderr: '' });
  });

  test('decode prints the message as pretty JSON with u64 values as strings', async () => {
    const run = await cli('decode', '03002000020000001f000000000000000000000000000000ffffffffffffffff');
    expect(JSON.parse(run.stdout)).toMatchObject({ type: 'DM_CAPABILITIES_REPORT', maxPageNumber: '18446744073709551615' });
    expect(run.stdout.split('\n').length).toBeGreaterThan(5);
  });

  test('decode takes hex with spaces, a 0x prefix and capitals, quoted or not', async () => {
    const plain = await cli('decode', '0600100000000000 00f0080000000000');
    expect(await cli('decode', '0x06 00 10 00 00 00 00 00 00 F0 08 00 00 00 00 00')).toEqual(plain);
    expect(await cli('decode', '06001000', '00000000', '0x00f00800', '00000000')).toEqual(plain);
  });

  test('encode accepts JSON split over several arguments (an unquoted $(decode ...))', async () => {
    const run = await cli('encode', '{"type":', '"DM_UNBALLOON_RESPONSE",', '"transId":', '9}');
    expect(run.stdout).toBe('0900080009000000\n');
  });

  test('--packet wraps and unwraps a VMBus in-band packet', async () => {
    const json = '{"type": "DM_VERSION_RESPONSE", "transId": 1, "isAccepted": true}';
    const packet = await cli('encode', '--packet', json);
    expect(packet.stdout).toBe('06000200040000000100000000000000' + '02001000010000000100000000000000\n');
    const decoded = await cli('decode', '--packet', packet.stdout.trim());
    expect(JSON.parse(decoded.stdout)).toEqual({
      packet: { type: 6, offset8: 2, len8: 4, flags: 0, transactionId: '1', payloadBytes: 16 },
      message: { type: 'DM_VERSION_RESPONSE', transId: 1, isAccepted: true },
    });
  });
});

describe('bad input: exit 2 and one line on stderr', () => {
  test('a character that is not hex', async () => {
    expectOneLineError(await cli('decode', '01zz'), 'bad hex "01zz": "z" is not a hex digit');
  });

  test('an odd number of hex digits', async () => {
    expectOneLineError(await cli('decode', '010'), 'odd number of hex digits');
  });

  test('no hex digits at all', async () => {
    expectOneLineError(await cli('decode', ' '), 'no hex digits');
  });

  test('bytes the codec refuses', async () => {
    expectOneLineError(await cli('decode', '070018000500000000000000060000000000100000000200'), 'range_count 3 needs 40 bytes');
  });

  test('text that is not JSON', async () => {
    expectOneLineError(await cli('encode', '{type: DM_ERROR}'), 'bad JSON');
  });

  test('JSON with a field out of range', async () => {
    const json = '{"type":"DM_BALLOON_RESPONSE","transId":1,"morePages":false,"ranges":[{"startPage":1,"pageCount":"x"}]}';
    expectOneLineError(await cli('encode', json), 'ranges[0].pageCount: expected an integer');
  });

  test('an unknown command', async () => {
    expectOneLineError(await cli('decodify', '00'), "unknown command 'decodify'");
  });

  test('a missing argument', async () => {
    expectOneLineError(await cli('encode'), "missing required argument 'json'");
  });
});

describe('the real executable', () => {
  const bin = join(__dirname, '..', '..', 'bin', 'hv-balloon-sim.js');

  test('prints hex and exits 0 for good input', () => {
    const run = spawnSync(process.execPath, [bin, 'encode', '{"type": "DM_ERROR", "transId": 0}'], { encoding: 'utf8' });
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({ status: 0, stdout: '0000080000000000\n', stderr: '' });
  });

  test('exits 2 with one line on stderr for bad input', () => {
    const run = spawnSync(process.execPath, [bin, 'decode', '0x1'], { encoding: 'utf8' });
    expectOneLineError({ code: run.status ?? -1, stdout: run.stdout, stderr: run.stderr }, 'bad hex "0x1"');
  });
});
