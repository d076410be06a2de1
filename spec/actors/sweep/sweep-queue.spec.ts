/**
 * Sweeps through a BullMQ queue on a real redis-server: two `hv-balloon-sim worker` processes give
 * the same results file as the local pool; a worker killed in the middle of a run has that run
 * taken again by another worker; a Redis that does not answer is one clear error line.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../actors/cli/main';
import { loadSweepFile } from '../../../actors/sweep/sweep-file';
import { runSweep } from '../../../actors/sweep/sweep-runner';
import { INSTALL_HINT, redisAvailable, startTestRedis, type TestRedis } from './redis-server';

jest.setTimeout(300_000);

const root = join(__dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'hvb-sweep-queue-'));
let queueCount = 0;
const queueName = (): string => `spec-${process.pid}-${++queueCount}`;

function writeSweep(name: string, sweep: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(sweep));
  return file;
}

interface WorkerProcess {
  child: ChildProcessWithoutNullStreams;
  log: () => string;
  exited: Promise<number | null>;
}

/** Starts `hv-balloon-sim worker` as its own process and waits until it is connected. */
async function startWorker(url: string, queue: string, idleExit = '30s'): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    [join(root, 'bin', 'hv-balloon-sim.js'), 'worker', '--queue', url, '--queue-name', queue, '--workers', '1', '--stall-timeout', '3s', '--idle-exit', idleExit],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await until(() => /worker: worker on /.test(log) || child.exitCode !== null, 120_000);
  if (child.exitCode !== null) throw new Error(`the worker exited early: ${log}`);
  workers.push(child);
  return { child, log: () => log, exited };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const workers: ChildProcessWithoutNullStreams[] = [];
let redis: TestRedis | undefined;

if (!redisAvailable() && process.env.CI !== 'true') {
  // A developer's machine without the Debian package: say so loudly (under CI this is an error, below).
  console.warn(`SKIPPED: sweep-queue.spec.ts: ${INSTALL_HINT}`);
}
const describeQueue = redisAvailable() || process.env.CI === 'true' ? describe : describe.skip;

describeQueue('a sweep through a Redis queue', () => {
  beforeAll(async () => {
    if (!redisAvailable()) throw new Error(INSTALL_HINT);
    redis = await startTestRedis();
  });
  afterAll(async () => {
    for (const child of workers) if (child.exitCode === null) child.kill('SIGKILL');
    await redis?.stop();
  });

  it('gives the same results file with two worker processes as the local pool', async () => {
    const file = writeSweep('seeds.json', {
      base: {
        machine: { memory: '4G' },
        device: { statusReport: true },
        workload: { kind: 'steady', usedBytes: '1G', churnBytes: '64M', periodMs: '1s' },
        steps: [{ at: '55s', hmp: 'balloon 3072' }],
        until: '60s',
      },
      axes: { 'guest.profile': ['linux', 'windows'], 'channel.ringBytes': ['8K', '16K'], seed: '1..3' },
    });
    const local = join(dir, 'local.jsonl');
    await runSweep(loadSweepFile(file), { out: local, workers: 2 });

    const queue = queueName();
    const [a, b] = await Promise.all([startWorker(redis!.url, queue), startWorker(redis!.url, queue)]);
    const out = join(dir, 'queued.jsonl');
    const notes: string[] = [];
    const report = await runSweep(loadSweepFile(file), { out, queue: { url: redis!.url, name: queue }, note: (m) => notes.push(m) });
    expect(report).toMatchObject({ engine: 'queue', ran: 12, interrupted: false });
    expect(notes.join('\n')).toMatch(/12 runs queued on redis:\/\/127\.0\.0\.1:\d+ \(queue "spec-\d+-1"\), 2 workers connected/);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(local, 'utf8'));
    // Both processes took part.
    expect(a.log()).toMatch(/ started/);
    expect(b.log()).toMatch(/ started/);
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
  });

  it('gives the run of a worker killed in the middle of it to another worker', async () => {
    const file = writeSweep('long.json', {
      base: { machine: { memory: '4G' }, device: { statusReport: true }, workload: { kind: 'steady', usedBytes: '1G', churnBytes: '64M', periodMs: '1s' }, until: '2h' },
      axes: { seed: '1..3' },
    });
    const queue = queueName();
    const a = await startWorker(redis!.url, queue);
    const out = join(dir, 'killed.jsonl');
    const sweep = runSweep(loadSweepFile(file), { out, queue: { url: redis!.url, name: queue } });
    await until(() => /#0 started/.test(a.log()), 120_000);
    a.child.kill('SIGKILL');
    await a.exited;
    expect(a.log()).not.toMatch(/#0 ok/);
    // It stops by itself once the queue has been empty for 3 s (checked at the end).
    const b = await startWorker(redis!.url, queue, '3s');
    const report = await sweep;
    expect(report.summary.all).toMatchObject({ runs: 3, ok: 3 });
    expect(b.log()).toMatch(/#0 started \(attempt 2\)/);

    const local = join(dir, 'long-local.jsonl');
    await runSweep(loadSweepFile(file), { out: local, workers: 2 });
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(local, 'utf8'));
    // With nothing left in the queue, the worker stops by itself (--idle-exit).
    expect(await b.exited).toBe(0);
  });
});

describe('queue addresses', () => {
  it('refuses a URL that is not redis:// and a Redis that does not answer, in one line each', async () => {
    const file = writeSweep('tiny.json', { base: { until: '1s' }, axes: { seed: '1..2' } });
    const run = async (...args: string[]): Promise<{ code: number; stderr: string }> => {
      let stderr = '';
      const code = await runCli(args, { stdout: () => undefined, stderr: (t) => void (stderr += t) });
      return { code, stderr };
    };
    expect(await run('sweep', file, '--queue', 'http://127.0.0.1:6379', '--out', join(dir, 'x.jsonl'))).toEqual({
      code: 2,
      stderr: 'hv-balloon-sim: --queue: expected a redis:// or rediss:// URL, got "http://127.0.0.1:6379"\n',
    });
    const refused = await run('worker', '--queue', 'redis://127.0.0.1:1');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^hv-balloon-sim: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\); is redis-server running there\?\n$/);
  });
});
