/**
 * vm-balloon-1t's balloon phase under valgrind's callgrind, counted in instructions: a figure that
 * does not depend on the machine's load, to compare builds on a shared machine. Instrumentation is
 * off until the last phase starts and off again when it ends (callgrind_control -i on|off), after
 * `warmUp` unmeasured phases so the code is compiled. Run it under callgrind:
 *
 *   npm run build
 *   valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/b1t.cg \
 *     node --single-threaded dist/bench/perf-callgrind.js 4      # valgrind prints "Collected : N"
 *
 * `--single-threaded` keeps the compiler and GC on the main thread, where callgrind sees them. One
 * run under callgrind takes minutes.
 */
import { spawn } from 'node:child_process';
import { existsSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVm } from '../actors/vm/create-vm';
import { TERABYTE_BALLOON_AT_MS, TERABYTE_TARGET_BYTES, TERABYTE_VM } from '../actors/golden-trace/terabyte-run';
import { runUntilDone, watchDeviceIdle } from './perf-measure';

/**
 * Runs `callgrind_control <arg>` on this process and waits until it is done. The wait sleeps
 * (Atomics.wait) between looks at a flag file: a busy wait would itself be counted once
 * instrumentation is on, by an amount that depends on how long the tool takes.
 */
function callgrindControl(arg: string): void {
  const flag = join(tmpdir(), `hvb-callgrind-${process.pid}-${arg.replace(/\W/g, '')}`);
  if (existsSync(flag)) unlinkSync(flag);
  spawn('sh', ['-c', `callgrind_control ${arg} ${process.pid} >/dev/null 2>&1; touch ${flag}`], { detached: true, stdio: 'ignore' }).unref();
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const started = Date.now();
  while (!existsSync(flag)) {
    Atomics.wait(cell, 0, 0, 2);
    if (Date.now() - started > 600_000) throw new Error(`callgrind_control ${arg}: no answer after 10 minutes (is this running under callgrind?)`);
  }
  unlinkSync(flag);
}

if (require.main === module) {
  const warmUp = Number(process.argv[2] ?? 4);
  for (let i = 0; i <= warmUp; i++) {
    const vm = createVm(TERABYTE_VM);
    vm.runUntil(TERABYTE_BALLOON_AT_MS);
    const idle = watchDeviceIdle(vm);
    if (i === warmUp) callgrindControl('-i on');
    vm.balloon(TERABYTE_TARGET_BYTES);
    runUntilDone(vm, () => idle.idle, 100, 600_000, 'callgrind balloon phase');
    if (i === warmUp) callgrindControl('-i off');
    vm.dispose();
  }
}
