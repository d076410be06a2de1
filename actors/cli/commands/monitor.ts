/**
 * `monitor`: QEMU's human monitor on a simulated VM, at a `(qemu) ` prompt. The REPL is
 * deterministic: virtual time moves only with `run <time>`. `quit`, `q` or end of input exits.
 * A `run` goes in slices that yield to the event loop: on a terminal a progress bar shows how far
 * it got once it takes more than a second, and Ctrl-C cancels the run (not the monitor). Lines
 * typed during a run wait for it.
 */

import type { Command } from 'commander';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { PACKAGE_VERSION } from '../../package-root';
import type { SingleBar } from 'cli-progress';
import { hmpCommandNames, runHmp } from '../../hmp/hmp';
import { asQmpError } from '../../qmp/qmp-commands';
import { runUntilInSlices } from '../../slicing/time-slicer';
import { formatDuration } from '../../units';
import type { VmControl } from '../../qmp/qmp-types';
import { waitForInspector } from '../inspect-option';
import { startLiveViewForCli } from '../view-option';
import { createCliVm } from '../cli-vm';
import type { CliIo } from '../cli-io';
import { addVmOptions, type RawVmOptions } from '../vm-options';

export const HMP_PROMPT = '(qemu) ';
export const MONITOR_BANNER = `hv-balloon-sim ${PACKAGE_VERSION} monitor - type 'help' for more information\n`;

export function registerMonitorCommand(program: Command, io: CliIo): void {
  addVmOptions(program.command('monitor').description('an HMP monitor ((qemu) prompt) on a simulated VM; time moves only with `run <time>`'))
    .addHelpText('after', '\nExample:\n  hv-balloon-sim monitor --memory 4G --maxmem 44G --memdev 8G\n  (qemu) run 60s\n  (qemu) balloon 2048\n  (qemu) run 10s\n  (qemu) info balloon')
    .action(async (raw: RawVmOptions, command: Command) => {
      const session = await createCliVm(raw, command, io);
      const { vm, inspector } = session;
      try {
        if (inspector) await waitForInspector(inspector, raw.inspectWait, io);
        // The monitor is deterministic: the view starts paused (its step and run buttons still work).
        if (session.viewPort !== undefined) {
          session.view = await startLiveViewForCli(vm, { name: session.options.scenario ?? 'HMP monitor', untilMs: 0 }, { port: session.viewPort, speed: 1, paused: true }, io);
        }
        await runMonitor(vm, { input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY === true });
      } finally {
        await session.view?.stop();
        vm.dispose();
        await inspector?.stop();
      }
    });
}

export interface MonitorStreams {
  input: Readable;
  output: Writable;
  /** Line editing and completion (a TTY). Otherwise each command is echoed after the prompt, as QEMU's monitor echoes input. */
  terminal: boolean;
}

/** Runs the REPL until quit or end of input. */
export function runMonitor(vm: VmControl, streams: MonitorStreams): Promise<void> {
  const { input, output, terminal } = streams;
  const names = hmpCommandNames();
  const rl: Interface = terminal
    ? createInterface({
        input,
        output,
        terminal: true,
        prompt: HMP_PROMPT,
        completer: (line: string) => [names.filter((name) => name.startsWith(line.trimStart())), line],
      })
    : createInterface({ input, terminal: false });
  let quit = false;
  let ended = false;
  let running: AbortController | undefined;
  const waiting: string[] = [];
  const prompt = () => (terminal ? rl.prompt() : output.write(HMP_PROMPT));
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));

  const endIfIdle = (): void => {
    if (!ended || running || waiting.length > 0) return;
    // End of input at the prompt: finish the line.
    if (!quit) output.write('\n');
    finish();
  };

  /** A `run` handed over by HMP: slices, progress, Ctrl-C; then the prompt and any waiting lines. */
  const runSliced = (targetMs: number): void => {
    const abort = new AbortController();
    running = abort;
    const startMs = vm.now();
    const wallStart = performance.now();
    let bar: SingleBar | undefined;
    const onSignal = (): void => abort.abort();
    if (!terminal) process.once('SIGINT', onSignal);
    void runUntilInSlices(vm, targetMs, {
      signal: abort.signal,
      onProgress: (now, target) => {
        if (!terminal) return;
        if (!bar && performance.now() - wallStart > 1000) {
          // Loaded on first use, not when the CLI starts (the cli-startup benchmark).
          const { SingleBar: Bar } = require('cli-progress') as typeof import('cli-progress');
          bar = new Bar({ format: 'run {bar} {percentage}% | {done} of {total_text} | Ctrl-C cancels', stream: output as NodeJS.WriteStream, clearOnComplete: true });
          bar.start(target - startMs, 0, { done: formatDuration(0), total_text: formatDuration(target - startMs) });
        }
        bar?.update(now - startMs, { done: formatDuration(now - startMs) });
      },
    })
      .then(
        (outcome) => {
          bar?.stop();
          if (outcome === 'cancelled') output.write(`run cancelled at virtual time ${vm.now()} ms (${formatDuration(vm.now())})\n`);
        },
        (error: unknown) => {
          bar?.stop();
          output.write(`Error: ${asQmpError(error).desc}\n`);
        },
      )
      .finally(() => {
        process.off('SIGINT', onSignal);
        running = undefined;
        prompt();
        next();
      });
  };

  const handle = (line: string): void => {
    if (!terminal) output.write(`${line}\n`);
    let deferred: number | undefined;
    output.write(runHmp(vm, line, { onQuit: () => (quit = true), deferAdvance: (t) => (deferred = t) }));
    if (quit) rl.close();
    else if (deferred !== undefined) runSliced(deferred);
    else prompt();
  };

  /** Handles waiting lines until one starts a run. */
  const next = (): void => {
    while (!running && !quit && waiting.length > 0) handle(waiting.shift()!);
    endIfIdle();
  };

  output.write(MONITOR_BANNER);
  prompt();
  rl.on('line', (line: string) => {
    if (quit) return;
    waiting.push(line);
    next();
  });
  rl.on('SIGINT', () => {
    // Ctrl-C cancels a run; at the prompt it leaves the monitor.
    if (running) running.abort();
    else rl.close();
  });
  rl.on('close', () => {
    ended = true;
    endIfIdle();
  });
  return done;
}
