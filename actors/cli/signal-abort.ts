/**
 * SIGINT and SIGTERM for a command that runs until it is stopped (a QMP server, a sliced scenario
 * run): while `body` runs, either signal aborts the AbortSignal it is given, so the command winds
 * down and cleans up instead of the process dying mid-way. The handlers are removed afterwards.
 */
export async function withSignalAbort<T>(body: (signal: AbortSignal) => Promise<T>, onSignal?: (signal: NodeJS.Signals) => void): Promise<T> {
  const stop = new AbortController();
  const handler = (signal: NodeJS.Signals): void => {
    onSignal?.(signal);
    stop.abort();
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  try {
    return await body(stop.signal);
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  }
}
