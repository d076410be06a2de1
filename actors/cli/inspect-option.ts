/**
 * `--inspect` for run, qmp and monitor: start the Stately inspector relay and tell the user where
 * to look. The inspector module loads its ESM-only package lazily, so nothing here costs anything
 * unless the flag is given.
 */
import { CliError } from './cli-error';
import type { CliIo } from './cli-io';
import type { CreateVmOptions } from '../vm/create-vm';
import { INSPECTOR_NOTE, InspectorStartError, startInspector, type LiveInspector } from '../inspector/inspector';
import { SenderNotes } from '../inspector/sender-notes';

/** A started inspector and the VM options that connect a VM to it. */
export interface CliInspector {
  vmOptions: Pick<CreateVmOptions, 'inspect' | 'onDelivery'>;
  /** Resolves true once a browser has the page open, false after `ms`. */
  waitForViewer(ms: number): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startInspectorForCli(io: CliIo, port?: number): Promise<CliInspector> {
  try {
    // The bus delivers from outside any actor; the notes tell the inspector which part sent what.
    const senders = new SenderNotes();
    const inspector: LiveInspector = await startInspector({ senders, ...(port === undefined ? {} : { port }) });
    io.stderr(`Stately inspector: open ${inspector.url} in a browser\n${INSPECTOR_NOTE}\n`);
    return {
      vmOptions: { inspect: inspector.inspect, onDelivery: (d) => senders.note(d.from, d.to, d.type) },
      waitForViewer: (ms) => inspector.waitForViewer(ms),
      stop: () => inspector.stop(),
    };
  } catch (err) {
    if (err instanceof InspectorStartError) throw new CliError(err.message);
    throw err;
  }
}
