/** `handshake` shows the real Linux-guest/QEMU handshake: the golden vectors' bytes, in order. */

import { runCli } from '../../actors/cli/main';
import { vectors } from '../protocol/vectors';

async function handshake(...flags: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['handshake', ...flags], {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

const hexOf = (name: string): string => {
  const vector = vectors.valid.find((v) => v.name === name);
  if (!vector) throw new Error(`no vector ${name}`);
  return vector.hex;
};

const HANDSHAKE = [
  { direction: 'guest -> host', type: 'DM_VERSION_REQUEST', hex: hexOf('version request 2.0 (WIN10)') },
  { direction: 'host -> guest', type: 'DM_VERSION_RESPONSE', hex: hexOf('version response accepted') },
  { direction: 'guest -> host', type: 'DM_CAPABILITIES_REPORT', hex: hexOf('capabilities report, Linux x86 (128 MiB alignment)') },
  { direction: 'host -> guest', type: 'DM_CAPABILITIES_RESPONSE', hex: hexOf('capabilities response, status reports wanted') },
];

test('--json lists the four handshake messages with direction and wire bytes', async () => {
  const run = await handshake('--json');
  expect(run.code).toBe(0);
  const steps = JSON.parse(run.stdout) as { direction: string; hex: string; message: { type: string } }[];
  expect(steps.map((s) => ({ direction: s.direction, type: s.message.type, hex: s.hex }))).toEqual(HANDSHAKE);
});

test('the text shows each message with its bytes and decoded fields, in handshake order', async () => {
  const run = await handshake();
  expect(run.code).toBe(0);
  expect(run.stderr).toBe('');
  const text = run.stdout.replace(/ /g, '');
  let from = 0;
  for (const step of HANDSHAKE) {
    const at = text.indexOf(`${step.direction.replace(/ /g, '')}${step.type}`, from);
    expect(at).toBeGreaterThanOrEqual(from);
    expect(text.indexOf(step.hex, at)).toBeGreaterThan(at);
    from = at + 1;
  }
  expect(run.stdout).toMatch(/caps\.hotAddAlignment\s+7/);
  expect(run.stdout).toMatch(/suppressPressureReports\s+false/);
});
