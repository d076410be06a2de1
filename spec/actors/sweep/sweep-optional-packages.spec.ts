/**
 * The packages only sweeps use (workerpool for the local pool, bullmq and ioredis for the queue)
 * are optional dependencies: without them the CLI still runs scenarios, a local sweep still runs
 * without the queue's packages, and a command that needs a missing one says which, in one line.
 * The compiled CLI runs with a preload that makes the named packages unresolvable, as an
 * `npm install --omit=optional` leaves them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

jest.setTimeout(120_000);

const root = join(__dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'hvb-sweep-optional-'));
const hide = join(dir, 'hide-packages.js');
writeFileSync(
  hide,
  `const Module = require('node:module');
const hidden = (process.env.HIDE_PACKAGES || '').split(',').filter(Boolean);
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (hidden.some((name) => request === name || request.startsWith(name + '/'))) {
    const err = new Error("Cannot find module '" + request + "'");
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }
  return resolve.call(this, request, ...rest);
};
`,
);
const sweepFile = join(dir, 'tiny.json');
writeFileSync(sweepFile, JSON.stringify({ base: { machine: { memory: '1G' }, until: '1s' }, axes: { seed: '1..2' } }));
const version = (name: string): string => (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { optionalDependencies: Record<string, string> }).optionalDependencies[name];

function cli(hidden: string[], ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const child = spawnSync(process.execPath, ['--require', hide, join(root, 'bin', 'hv-balloon-sim.js'), ...args], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, HIDE_PACKAGES: hidden.join(',') },
  });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe('without the optional packages', () => {
  it('runs scenarios', () => {
    writeFileSync(join(dir, 'one.json'), JSON.stringify({ machine: { memory: '1G' }, until: '1s' }));
    const run = cli(['workerpool', 'bullmq', 'ioredis'], 'run', 'one.json', '--json');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ virtualTimeMs: 1000 });
  });

  it('runs a sweep on this machine without the queue packages, and refuses --queue naming bullmq', () => {
    const local = cli(['bullmq', 'ioredis'], 'sweep', sweepFile, '--json', '--out', join(dir, 'local.jsonl'));
    expect(local.status).toBe(0);
    expect(JSON.parse(local.stdout)).toMatchObject({ ok: 2, engine: 'processes' });

    const queued = cli(['bullmq', 'ioredis'], 'sweep', sweepFile, '--queue', 'redis://127.0.0.1:1', '--out', join(dir, 'queued.jsonl'));
    expect(queued.status).toBe(2);
    expect(queued.stderr).toBe(
      `hv-balloon-sim: a sweep through a Redis queue needs the package "bullmq", which is not installed (an optional dependency of hv-balloon-sim): npm install bullmq@${version('bullmq')}\n`,
    );
    const worker = cli(['bullmq', 'ioredis'], 'worker', '--queue', 'redis://127.0.0.1:1');
    expect(worker.status).toBe(2);
    expect(worker.stderr).toMatch(/^hv-balloon-sim: a queue worker needs the package "bullmq", which is not installed .*: npm install bullmq@\S+\n$/);
  });

  it('refuses a local sweep without the pool, naming workerpool', () => {
    const local = cli(['workerpool'], 'sweep', sweepFile, '--out', join(dir, 'nopool.jsonl'));
    expect(local.status).toBe(2);
    expect(local.stderr).toBe(
      `hv-balloon-sim: a sweep on this machine (its pool of worker processes) needs the package "workerpool", which is not installed (an optional dependency of hv-balloon-sim): npm install workerpool@${version('workerpool')}\n`,
    );
  });
});
