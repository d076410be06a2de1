/**
 * Issue #9, item 4 for scenarios: `run` goes in slices that yield to the event loop, so SIGINT and
 * SIGTERM end it; the result is byte for byte what one unsliced run gives; a scenario that asks for
 * a time past the clock's range is refused with the limit instead of never finishing.
 */
import { join } from 'node:path';
import { loadScenarioFile, parseScenario, runScenario, runScenarioSliced, ScenarioError, ScenarioInterrupted } from '../../actors/scenario/scenario';
import { runCli } from '../../actors/cli/main';

const plain = (r: { vm: { dispose(): void }; wallTimeMs: number }): string => {
  r.vm.dispose();
  const { vm: _vm, wallTimeMs: _wall, ...rest } = r as unknown as Record<string, unknown>;
  return JSON.stringify(rest);
};

describe('scenarios in slices', () => {
  it.each(['shrink-and-grow.json', 'reboot.json', 'windows-guest.json'])('%s: sliced and unsliced runs give the same bytes', async (file) => {
    const scenario = loadScenarioFile(join(__dirname, '../../examples', file));
    const whole = plain(runScenario(scenario));
    const sliced = plain(await runScenarioSliced(scenario));
    expect(sliced).toBe(whole);
  });

  it('an aborted run stops between slices with how far it got', async () => {
    const scenario = parseScenario({ machine: { memory: '1G' }, until: '100000h' });
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    await expect(runScenarioSliced(scenario, { signal: stop.signal })).rejects.toBeInstanceOf(ScenarioInterrupted);
  });

  it('`run` ends on SIGTERM with exit code 130 and says where it stopped', async () => {
    const err: string[] = [];
    const running = runCli(['run', join(__dirname, 'fixtures', 'endless.json')], { stdout: () => undefined, stderr: (t) => err.push(t) });
    await new Promise((r) => setTimeout(r, 300));
    process.emit('SIGTERM');
    expect(await running).toBe(130);
    expect(err.join('')).toMatch(/^hv-balloon-sim: interrupted at virtual time \d+ ms of 360000000000 ms\n$/);
  });

  it.each([
    ['until', { until: 1e300 }],
    ['steps[0].at', { steps: [{ at: 1e300, hmp: 'info balloon' }] }],
  ])('refuses %s past the end of virtual time', (field, extra) => {
    let error: unknown;
    try {
      parseScenario({ machine: { memory: '1G' }, ...extra });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScenarioError);
    expect((error as ScenarioError).field).toBe(field);
    expect((error as Error).message).toMatch(/past the end of virtual time \(at most 9007199254740 ms, about 285 years\)/);
  });
});
