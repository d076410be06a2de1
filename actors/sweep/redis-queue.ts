/**
 * What the sweep producer and its queue workers share: the queue's address (a redis:// URL), its
 * name, the job shape, and a quick check that Redis answers (BullMQ's own connections retry
 * forever, which would leave a user with a typo waiting in silence).
 */
import { loadOptional } from './optional-package';
import type { RunTask } from './run-task';

export const DEFAULT_QUEUE_NAME = 'hv-balloon-sim';

/** A queue address or connection that cannot be used; the message says which and why. */
export class QueueError extends Error {
  override readonly name = 'QueueError';
}

/** One job: one run of one sweep. Its id is `<sweep id>-<index>`, so a sweep enqueued twice adds nothing new. */
export interface RunJobData {
  sweep: string;
  index: number;
  task: RunTask;
}

export const jobIdOf = (sweepId: string, index: number): string => `${sweepId}-${index}`;

/** Checks `redis://[user:password@]HOST:PORT[/db]` (or rediss:// for TLS) and returns it. */
export function parseQueueUrl(text: string, flag = '--queue'): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new QueueError(`${flag}: expected a Redis URL like redis://127.0.0.1:6379, got "${text}"`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new QueueError(`${flag}: expected a redis:// or rediss:// URL, got "${text}"`);
  }
  if (url.hostname === '') throw new QueueError(`${flag}: "${text}" has no host (expected redis://HOST:PORT)`);
  if (url.pathname !== '' && url.pathname !== '/' && !/^\/\d+$/.test(url.pathname)) {
    throw new QueueError(`${flag}: "${text}": the path must be a database number, like redis://HOST:PORT/2`);
  }
  return text;
}

/** The URL without its password, for messages. */
export function safeUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString().replace(/\/$/, '');
}

/** Connects once, PINGs, and disconnects; throws a QueueError naming the address when Redis does not answer. */
export async function checkRedis(url: string, timeoutMs = 5000): Promise<void> {
  const { Redis } = loadOptional<typeof import('ioredis')>('ioredis', 'a sweep through a Redis queue');
  // disconnectTimeout: ioredis waits this long for a socket to close before destroying it, on a
  // timer it clears only on a later 'close' — which a refused connection has already had, so the
  // default 2 s would keep the process (a CLI that failed, a test runner) alive for nothing.
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, disconnectTimeout: 50 });
  let lastError: Error | undefined;
  client.on('error', (err: Error) => {
    lastError = err;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    const reason = (lastError ?? (err as Error)).message;
    throw new QueueError(`cannot reach Redis at ${safeUrl(url)} (${reason}); is redis-server running there?`);
  } finally {
    client.disconnect();
  }
}

/** BullMQ connection options for a URL. Workers need maxRetriesPerRequest null (BullMQ's rule for blocking connections). */
export function connectionOf(url: string): { url: string; maxRetriesPerRequest: null } {
  return { url, maxRetriesPerRequest: null };
}
