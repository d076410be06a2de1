/** Sweep files: axes of every form, the combination order, and a clear error for each mistake. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { combinationOf, loadSweepFile, parseSweep, scenarioOf, SweepError } from '../../../actors/sweep/sweep-file';

const dir = mkdtempSync(join(tmpdir(), 'hvb-sweep-file-'));
const base = { machine: { memory: '4G' }, guest: { profile: 'linux' }, steps: [{ at: '55s', hmp: 'balloon 3072' }], until: '60s' };

function errorOf(sweep: unknown): string {
  try {
    parseSweep(sweep, 's.json', dir);
  } catch (err) {
    expect(err).toBeInstanceOf(SweepError);
    return (err as Error).message;
  }
  throw new Error('expected a SweepError');
}

describe('sweep files', () => {
  it('numbers combinations with the first axis varying slowest and sets each value at its path', () => {
    const sweep = parseSweep({ base, axes: { 'guest.profile': ['linux', 'windows'], 'channel.ringBytes': ['8K', '16K'], seed: '1..3' } }, 's.json');
    expect(sweep.runs).toBe(12);
    expect(combinationOf(sweep, 0)).toEqual({ 'guest.profile': 'linux', 'channel.ringBytes': '8K', seed: 1 });
    expect(combinationOf(sweep, 1)).toEqual({ 'guest.profile': 'linux', 'channel.ringBytes': '8K', seed: 2 });
    expect(combinationOf(sweep, 11)).toEqual({ 'guest.profile': 'windows', 'channel.ringBytes': '16K', seed: 3 });
    const scenario = scenarioOf(sweep, 11);
    expect(scenario).toMatchObject({ guest: { profile: 'windows' }, channel: { ringBytes: '16K' }, seed: 3, machine: { memory: '4G' } });
    // The base is not changed by a run's values.
    expect(sweep.base).toEqual(base);
  });

  it('reads numeric ranges without drift, list items by index, and figures with units', () => {
    const sweep = parseSweep(
      {
        base,
        axes: { 'channel.signalLatency': { from: 0.5, to: 1, step: 0.1 }, 'steps[0].hmp': ['balloon 2048', 'balloon 1024'] },
        figures: { actual: { path: 'final.actualBytes', in: 'MiB' }, virtual: { path: 'virtualTimeMs', in: 's' }, retries: 'final.counters.guest.stats.ringFullRetries' },
      },
      's.json',
    );
    expect(sweep.axes[0].values).toEqual([0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect((scenarioOf(sweep, 1).steps as Array<{ hmp: string }>)[0].hmp).toBe('balloon 1024');
    expect(sweep.figures.map((f) => [f.name, f.divisor])).toEqual([
      ['actual', 2 ** 20],
      ['virtual', 1000],
      ['retries', 1],
    ]);
  });

  it('reads the base scenario from a file next to the sweep file, and the same sweep always has the same id', () => {
    writeFileSync(join(dir, 'base.json'), JSON.stringify(base));
    writeFileSync(join(dir, 'ring.json'), JSON.stringify({ base: 'base.json', axes: { seed: '1..2' } }));
    const a = loadSweepFile(join(dir, 'ring.json'));
    expect(a.name).toBe('ring');
    expect(a.base.name).toBe('base');
    expect(a.id).toBe(loadSweepFile(join(dir, 'ring.json')).id);
    writeFileSync(join(dir, 'ring2.json'), JSON.stringify({ base: 'base.json', axes: { seed: '1..3' } }));
    expect(loadSweepFile(join(dir, 'ring2.json')).id).not.toBe(a.id);
  });

  it('names the field and the value for every mistake, before anything runs', () => {
    expect(errorOf({ base, axes: { seed: '1..2' }, bogus: 1 })).toMatch(/^s\.json: bogus: unknown field/);
    expect(errorOf({ base: 'nope.json', axes: { seed: '1..2' } })).toMatch(/^s\.json: base: cannot read the base scenario "nope\.json" \(ENOENT\)/);
    expect(errorOf({ base: { ...base, machine: { memory: '4Q' } }, axes: { seed: '1..2' } })).toMatch(/s\.json: base: .*machine\.memory: invalid size "4Q"/);
    expect(errorOf({ base, axes: {} })).toMatch(/^s\.json: axes: expected an object of field path -> values/);
    expect(errorOf({ base, axes: { seed: '5..1' } })).toBe('s.json: axes["seed"]: "5..1" ends before it starts');
    expect(errorOf({ base, axes: { seed: [] } })).toMatch(/axes\["seed"\]: an empty list/);
    expect(errorOf({ base, axes: { 'channel.ringBytes': ['8K', 1000] } })).toMatch(/^s\.json: axes\["channel\.ringBytes"\] value 1000: .*channel\.ringBytes/);
    expect(errorOf({ base: { ...base, guest: 'linux' }, axes: { 'guest.profile': ['windows'] } })).toMatch(
      /cannot set guest\.profile: guest is "linux" in the base scenario, not an object/,
    );
    expect(errorOf({ base, axes: { 'steps[3].hmp': ['x'] } })).toMatch(/steps\[3\]: the base scenario's steps has only 1 item/);
    expect(errorOf({ base, axes: { 'a..b': [1] } })).toMatch(/"a\.\.b" is not a field path/);
    expect(errorOf({ base, axes: { seed: '1..2' }, figures: { x: { path: 'final.actualBytes', in: 'parsecs' } } })).toMatch(/figures\.x\.in: unknown unit "parsecs"/);
    expect(errorOf({ base, axes: { seed: '1..2' }, budget: '5m' })).toMatch(/^s\.json: budget: invalid time "5m"/);
  });
});
