/** `run --json` works unchanged for a virtio-balloon scenario: same shape, the virtio counters beside. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../actors/cli/main';

const GiB = 2 ** 30;

it('run --json on a virtio-balloon scenario prints the usual object: steps, final actual, events', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'virtio-run-'));
  const file = join(dir, 'virtio.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'virtio',
      machine: { memory: '4G' },
      device: { model: 'virtio-balloon' },
      steps: [
        { at: 0, qmp: { execute: 'qom-get', arguments: { path: 'balloon0', property: 'guest-stats' } } },
        { at: '5s', hmp: 'balloon 3072' },
        { at: '20s', qmp: { execute: 'query-balloon' } },
      ],
      until: '25s',
    }),
  );
  let out = '';
  const code = await runCli(['run', file, '--json'], { stdout: (t) => void (out += t), stderr: () => undefined });
  expect(code).toBe(0);
  const r = JSON.parse(out);
  expect(r.scenario).toBe('virtio');
  expect(r.steps[2].reply).toEqual({ return: { actual: 3 * GiB } });
  // Unset statistics are 2^64 - 1; plain JSON carries their exact digits as a string.
  expect(r.steps[0].reply.return.stats['stat-free-memory']).toBe('18446744073709551615');
  expect(r.final.actualBytes).toBe(3 * GiB);
  expect(r.final.counters.virtio.actual).toBe(GiB / 4096);
  expect(r.events.some((e: { event: string }) => e.event === 'BALLOON_CHANGE')).toBe(true);
  expect(r.messages).toEqual({});
});

it('a virtio-balloon scenario gives the same result twice (apart from wall time)', () => {
  const { parseScenario, runScenario } = require('../../../index') as typeof import('../../../index');
  const scenario = parseScenario({
    machine: { memory: '2G' },
    device: { model: 'virtio-balloon', deflateOnOom: true, guestStatsPollingInterval: 1 },
    workload: { kind: 'steady', usedBytes: '1G', churnBytes: '256M', periodMs: '500ms' },
    steps: [
      { at: '3s', hmp: 'balloon 1024' },
      { at: '15s', qmp: { execute: 'qom-get', arguments: { path: 'balloon0', property: 'guest-stats' } } },
      { at: '16s', hmp: 'balloon 2048' },
    ],
    until: '25s',
  });
  const once = () => {
    const { vm, wallTimeMs: _wall, ...plain } = runScenario(scenario);
    vm.dispose();
    return plain;
  };
  expect(once()).toEqual(once());
});
