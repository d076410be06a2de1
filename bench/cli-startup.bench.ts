/**
 * How long a short CLI call takes from the shell's point of view: `decode <hex>` and `--version`
 * of the compiled CLI (bin/ runs dist/), each in a fresh Node process, beside bare `node -e 0` on
 * the same machine. CPU time (user + system of the child) comes from a preload that reports
 * process.cpuUsage() on exit; wall time is read here (bench/ only).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from '../actors/package-root';
import type { Benchmark } from './benchmark';

/** A DM_ERROR header: the smallest message `decode` accepts. */
const DECODE_HEX = '0000080000000000';

/** Written once per process: reports the child's own CPU time on fd 3 as it exits. */
let preloadPath: string | undefined;
function cpuPreload(): string {
  if (preloadPath === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'hv-balloon-sim-bench-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    preloadPath = join(dir, 'cpu-usage.js');
    writeFileSync(
      preloadPath,
      "process.on('exit', () => { const u = process.cpuUsage(); require('fs').writeSync(3, String((u.user + u.system) / 1000)); });\n",
    );
  }
  return preloadPath;
}

/** Runs `node <args>` once; wall and CPU milliseconds. */
function timeNode(args: readonly string[]): { wallMs: number; cpuMs: number } {
  const t0 = performance.now();
  const child = spawnSync(process.execPath, ['--require', cpuPreload(), ...args], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], encoding: 'utf8' });
  const wallMs = performance.now() - t0;
  if (child.status !== 0) throw new Error(`node ${args.join(' ')} exited ${String(child.status)}: ${child.stderr}`);
  return { wallMs, cpuMs: Number(child.output[3]) };
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

export const cliStartupBench: Benchmark = {
  name: 'cli-startup',
  description: 'the compiled CLI from the shell: `decode <hex>` and `--version`, each a fresh Node process (slowerMs: the slower of the two)',
  target: { figure: 'slowerMs', op: '<=', value: 300, unit: 'ms' },
  run() {
    const bin = packagePath('bin', 'hv-balloon-sim.js');
    const decode = timeNode([bin, 'decode', DECODE_HEX]);
    const version = timeNode([bin, '--version']);
    const bare = timeNode(['-e', '0']);
    return {
      slowerMs: round(Math.max(decode.wallMs, version.wallMs)),
      decodeMs: round(decode.wallMs),
      decodeCpuMs: round(decode.cpuMs),
      versionMs: round(version.wallMs),
      versionCpuMs: round(version.cpuMs),
      bareNodeMs: round(bare.wallMs),
      bareNodeCpuMs: round(bare.cpuMs),
      // Load on the shared machine slows everything; against bare Node the figure holds steadier.
      slowerPerBareNode: Math.round((Math.max(decode.wallMs, version.wallMs) / bare.wallMs) * 100) / 100,
    };
  },
};
