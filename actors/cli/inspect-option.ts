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
  vmOptions: Pick<CreateVmOptions, 'inspect' | 'onDelivery' | 'stepByStep'>;
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
      // stepByStep: the inspector shows every state QEMU's loop passes through, each its own snapshot.
      vmOptions: { inspect: inspector.inspect, onDelivery: (d) => senders.note(d.from, d.to, d.type), stepByStep: true },
      waitForViewer: (ms) => inspector.waitForViewer(ms),
      stop: () => inspector.stop(),
    };
  } catch (err) {
    if (err instanceof InspectorStartError) throw new CliError(err.message);
    throw err;
  }
}

/** Default of --inspect-wait: how long virtual time waits for an inspector page (seconds). */
export const DEFAULT_INSPECT_WAIT_S = 60;

/**
 * Holds the start of virtual time until an inspector page is connected (the relay replays only its
 * last 200 messages to a late page), at most `waitText` seconds; says what happens either way.
 */
export async function waitForInspector(inspector: CliInspector, waitText: string | undefined, io: CliIo): Promise<boolean> {
  const seconds = Number(waitText ?? String(DEFAULT_INSPECT_WAIT_S));
  if (waitText !== undefined && (waitText.trim() === '' || !Number.isFinite(seconds) || seconds < 0)) {
    throw new CliError(`--inspect-wait ${JSON.stringify(waitText)}: expected seconds >= 0`);
  }
  if (seconds === 0) return false;
  io.stderr(`virtual time waits up to ${seconds} s for an inspector page to connect (--inspect-wait)...\n`);
  const connected = await inspector.waitForViewer(seconds * 1000);
  io.stderr(
    connected
      ? 'inspector page connected: virtual time starts\n'
      : `no inspector page connected within ${seconds} s: running without it (offline, the hosted inspector cannot load; use --view for the local live view)\n`,
  );
  return connected;
}
