/** Reading scenario files: what a user gets back for a good file and for each kind of mistake. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenarioFile, ScenarioError } from '../../../actors/scenario/scenario';

const dir = mkdtempSync(join(tmpdir(), 'hvb-scenario-'));
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}
function errorOf(path: string): string {
  try {
    loadScenarioFile(path);
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return (err as Error).message;
  }
  throw new Error('expected a ScenarioError');
}

describe('scenario files', () => {
  it('reads times and sizes with units, and a nameless scenario is named after its file', () => {
    const s = loadScenarioFile(file('grow.json', { machine: { memory: '4G' }, steps: [{ at: '1.5s', hmp: 'info balloon' }], until: '2min' }));
    expect(s.name).toBe('grow');
    expect(s.steps).toEqual([{ at: 1500, hmp: 'info balloon' }]);
    expect(s.until).toBe(120_000);
  });

  it('names the file, the field and the value for every mistake', () => {
    expect(errorOf(file('a.json', { machine: { memory: '4Q' } }))).toMatch(/a\.json: machine\.memory: invalid size "4Q"/);
    expect(errorOf(file('b.json', { device: { statusReprot: true } }))).toMatch(/b\.json: device\.statusReprot: unknown field/);
    expect(errorOf(file('c.json', { steps: [{ at: '60s', hmp: 'info balloon' }, { at: '30s', hmp: 'info balloon' }] }))).toMatch(
      /c\.json: steps\[1\]\.at: 30s is before steps\[0\]\.at 60s/,
    );
    expect(errorOf(file('d.json', { steps: [{ at: '60s', hmp: 'x' }], until: '30s' }))).toMatch(/d\.json: until: 30s is before the last step's time \(60s\)/);
    expect(errorOf(file('e.json', { steps: [{ at: '1s' }] }))).toMatch(/e\.json: steps\[0\]: needs exactly one of "hmp" .* or "qmp"/);
    expect(errorOf(file('f.json', '{"name": '))).toMatch(/f\.json: not valid JSON/);
    expect(errorOf(join(dir, 'missing.json'))).toMatch(/missing\.json: cannot read the scenario file \(ENOENT\)/);
  });

  it('gives QEMU realize errors in QEMU words, prefixed with the field and the value', () => {
    const msg = errorOf(file('g.json', { machine: { memory: '4G', maxmem: '44G' }, device: { memdev: 4097 } }));
    expect(msg).toBe('g.json: device.memdev 4097: backend memory size must be multiple of 0x200000'.replace('g.json', join(dir, 'g.json')));
  });

  it('names a guest-profile field once', () => {
    expect(errorOf(file('h.json', { guest: { profile: 'windows', reserveMiB2: 5 } }))).toBe(
      `${join(dir, 'h.json')}: guest.reserveMiB2 is not an option of the windows profile (options: profile, memoryBlockMiB, hibernation, pressureReportDelay, reserveMiB, pageFileMiB)`,
    );
  });
});
