/**
 * A real redis-server for the queue specs. HVB_REDIS_URL names one that is running (.ci/run starts
 * one and sets it); without it, the specs start Debian's redis-server themselves on a free port of
 * 127.0.0.1 and stop it afterwards. Missing redis-server is an error under CI (CI=true) and a loud
 * skip on a developer's machine that lacks the package.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { checkRedis } from '../../../actors/sweep/redis-queue';

export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}

export const INSTALL_HINT =
  'the queue specs need a real redis-server: install the Debian package (apt-get install -y redis-server) or set HVB_REDIS_URL=redis://HOST:PORT to a running one (.ci/run does both)';

/** Whether the specs can get a Redis: a URL in the environment or a redis-server binary. */
export function redisAvailable(): boolean {
  if (process.env.HVB_REDIS_URL) return true;
  return spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startTestRedis(): Promise<TestRedis> {
  const fromEnv = process.env.HVB_REDIS_URL;
  if (fromEnv) {
    await checkRedis(fromEnv).catch((err: Error) => {
      throw new Error(`HVB_REDIS_URL=${fromEnv}: ${err.message}`);
    });
    return { url: fromEnv, stop: async () => undefined };
  }
  const port = await freePort();
  const server: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await checkRedis(url, 1000);
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        server.kill();
        throw err;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (server.exitCode !== null) return resolve();
        server.once('exit', () => resolve());
        server.kill();
      }),
  };
}
