/** Command-line values the `sweep` and `worker` commands share, checked with messages naming the flag. */
import { CliError } from '../cli/cli-error';
import { parseDuration } from '../units';
import { defaultWorkers } from './run-pool';
import { DEFAULT_QUEUE_NAME, parseQueueUrl, QueueError } from './redis-queue';

export function workersFlag(text: string | undefined): number {
  if (text === undefined) return defaultWorkers();
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 1024) throw new CliError(`--workers: expected a number of worker processes from 1 to 1024, got "${text}"`);
  return Number(text);
}

export function queueFlag(url: string, name: string | undefined): { url: string; name: string } {
  try {
    parseQueueUrl(url);
  } catch (err) {
    if (err instanceof QueueError) throw new CliError(err.message);
    throw err;
  }
  const queueName = name ?? DEFAULT_QUEUE_NAME;
  if (!/^[\w.-]+$/.test(queueName)) throw new CliError(`--queue-name: expected letters, digits, ".", "_" or "-", got "${queueName}"`);
  return { url, name: queueName };
}

export function timeFlag(flag: string, text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text, flag);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  if (ms <= 0) throw new CliError(`${flag}: must be more than 0, got "${text}"`);
  return ms;
}
