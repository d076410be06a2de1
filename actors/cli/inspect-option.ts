/**
 * `--inspect` for run, qmp and monitor: start the Stately inspector relay and tell the user where
 * to look. The inspector module loads its ESM-only package lazily, so nothing here costs anything
 * unless the flag is given.
 */
import { CliError } from './cli-error';
import type { CliIo } from './cli-io';
import { INSPECTOR_NOTE, InspectorStartError, startInspector, type LiveInspector } from '../inspector/inspector';

export async function startInspectorForCli(io: CliIo, port?: number): Promise<LiveInspector> {
  try {
    const inspector = await startInspector(port === undefined ? {} : { port });
    io.stderr(`Stately inspector: open ${inspector.url} in a browser\n${INSPECTOR_NOTE}\n`);
    return inspector;
  } catch (err) {
    if (err instanceof InspectorStartError) throw new CliError(err.message);
    throw err;
  }
}
