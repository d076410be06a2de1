/**
 * The package as its users get it: `npm pack`, install the tarball into a fresh project outside
 * the repository, and there run a CommonJS script, an ES module script, a strict `tsc --noEmit`
 * (with `tsc --init`'s settings, untouched) of a TypeScript consumer of every entry point, a jest
 * test and a vitest test of the test kit with the runners' defaults, and the installed CLI. No
 * ts-node, no transform, no runner configuration.
 *
 * The consumer's own tools (typescript, jest, vitest, xstate) come from the npm registry through the
 * local npm cache (--prefer-offline). dist/ is current: jest's global set-up builds it.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(__dirname, '..', 'fixtures', 'consumer');
const ENTRIES = ['hv-balloon-sim', 'hv-balloon-sim/protocol', 'hv-balloon-sim/machines', 'hv-balloon-sim/testing'];
/** The consumer's tools, at the versions this repository uses (so the npm cache has them). */
const CONSUMER_TOOLS = ['typescript@5.9.3', 'jest@30.5.2', 'vitest@3.2.7', 'xstate@5.33.3'];
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let project: string;
let tarball: string;

function run(command: string, args: readonly string[]): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd: project, encoding: 'utf8', timeout: 240_000, env: { ...process.env, NODE_OPTIONS: '' } });
}

/** Runs and asserts success, showing the output when it fails. */
function ok(command: string, args: readonly string[]): string {
  const result = run(command, args);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${String(result.status)}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'hv-balloon-sim-consumer-'));
  // dist/ is built by jest's global set-up; packing must not rebuild it (prepare) a second time.
  const packed = JSON.parse(execFileSync(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', project], { cwd: ROOT, encoding: 'utf8' })) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  tarball = join(project, packed[0].filename);
  cpSync(FIXTURES, project, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2));
  ok(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, ...CONSUMER_TOOLS]);
  ok(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '--init']);
}, 300_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('the packed package in a fresh project', () => {
  it('ships the compiled code and no TypeScript sources, specs or build state', () => {
    const listed = JSON.parse(execFileSync(NPM, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' })) as Array<{
      files: Array<{ path: string }>;
    }>;
    const paths = listed[0].files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/index.js.map', 'dist/testing/index.js', 'bin/hv-balloon-sim.js']));
    expect(paths.filter((p) => /\.ts$/.test(p) && !p.endsWith('.d.ts') && !p.startsWith('examples/'))).toEqual([]);
    expect(paths.filter((p) => p.startsWith('spec/') || p.endsWith('.tsbuildinfo'))).toEqual([]);
  });

  it('installs no TypeScript or ts-node for the consumer at run time', () => {
    const tree = ok(NPM, ['ls', '--all', '--omit=dev', '--json', 'hv-balloon-sim']);
    const deps = JSON.parse(tree) as { dependencies: { 'hv-balloon-sim': { dependencies?: Record<string, unknown> } } };
    const names = Object.keys(deps.dependencies['hv-balloon-sim'].dependencies ?? {});
    expect(names).not.toContain('typescript');
    expect(names).not.toContain('ts-node');
  });

  it('a CommonJS script and an ES module script use every entry point, and see the same exports', () => {
    const cjs = JSON.parse(ok(process.execPath, ['cjs-consumer.cjs'])) as Record<string, string[]>;
    const esm = JSON.parse(ok(process.execPath, ['esm-consumer.mjs'])) as Record<string, string[]>;
    expect(Object.keys(cjs)).toEqual(ENTRIES);
    for (const entry of ENTRIES) {
      expect(cjs[entry].length).toBeGreaterThan(3);
      expect(esm[entry]).toEqual(cjs[entry]);
    }
  });

  it('a TypeScript consumer of every entry point type-checks with tsc --init settings (strict), our declarations included', () => {
    // One tsc run with the library declarations checked too (--skipLibCheck false): an error in the
    // consumer or in our .d.ts fails; xstate's own declarations do not pass exactOptionalPropertyTypes
    // (tsc --init's default) and are not ours to judge.
    const result = run(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--skipLibCheck', 'false']);
    const errorFiles = new Set(
      `${result.stdout}${result.stderr}`
        .split('\n')
        .filter((line) => /error TS\d+/.test(line))
        .map((line) => line.split('(')[0]),
    );
    expect([...errorFiles].filter((file) => !file.startsWith('node_modules/xstate/'))).toEqual([]);
  }, 180_000);

  it('a jest test of the test kit passes with jest defaults', () => {
    const out = run(process.execPath, [join('node_modules', 'jest', 'bin', 'jest.js'), '--ci', '--color=false', 'jest-kit']);
    expect({ status: out.status, summary: /Tests:.*/.exec(out.stderr)?.[0] }).toEqual({ status: 0, summary: 'Tests:       1 passed, 1 total' });
  }, 180_000);

  it('a vitest test of the test kit passes with vitest defaults', () => {
    const out = run(process.execPath, [join('node_modules', 'vitest', 'vitest.mjs'), 'run', '--color=false', 'vitest-kit']);
    // Under CI=true vitest colours its summary even with --color=false: read it without the escapes.
    const stdout = out.stdout.replace(/\x1b\[[0-9;]*m/g, '');
    expect({ status: out.status, tests: /Tests\s+\d+ passed \(\d+\)/.exec(stdout)?.[0] }).toEqual({ status: 0, tests: 'Tests  1 passed (1)' });
  }, 180_000);

  it('the installed CLI runs the compiled code', () => {
    expect(ok(process.execPath, [join('node_modules', '.bin', 'hv-balloon-sim'), 'decode', '0000080000000000'])).toContain('DM_ERROR');
    const version = (JSON.parse(execFileSync(NPM, ['pkg', 'get', 'version'], { cwd: ROOT, encoding: 'utf8' })) as string).trim();
    expect(ok(process.execPath, [join('node_modules', '.bin', 'hv-balloon-sim'), '--version']).trim()).toBe(version);
    expect(readdirSync(join(project, 'node_modules', 'hv-balloon-sim', 'dist'))).toContain('index.js');
  });
});
