/**
 * Short CLI calls stay short: `--version` and `decode` must not load the VM runtime or heavy
 * packages at start-up (the cli-startup benchmark measures the time; timings are never asserted
 * here). A command that needs them loads them when it runs: `require` inside its action, as `run`,
 * `qmp`, `monitor` and `bench` do (docs/library.md, "The CLI").
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', '..', 'dist', 'actors', 'cli', 'main.js');
/** Packages the CLI may load before a command runs: the parser, and xstate for `diagram`'s machine list. */
const ALLOWED_PACKAGES = ['commander', 'sorted-btree', 'xstate'];

/** The packages and our own modules loaded by `main(argv)`, from a fresh process running dist/. */
function loadedBy(argv: string[]): { packages: string[]; ours: string[] } {
  const script = `
    const main = require(${JSON.stringify(MAIN)});
    main.main(${JSON.stringify(argv)});
    process.on('exit', () => {
      const files = Object.keys(require.cache);
      const packages = new Set(files.filter((f) => f.includes('/node_modules/')).map((f) => {
        const parts = f.split('/node_modules/').pop().split('/');
        return parts[0].startsWith('@') ? parts[0] + '/' + parts[1] : parts[0];
      }));
      process.stderr.write(JSON.stringify({ packages: [...packages].sort(), ours: files.filter((f) => !f.includes('/node_modules/')) }));
    });`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  return JSON.parse(child.stderr) as { packages: string[]; ours: string[] };
}

describe.each([[['--version']], [['decode', '0000080000000000']]])('hv-balloon-sim %j at start-up', (argv) => {
  const loaded = loadedBy(argv);

  it('loads no package beyond the parser and xstate (require heavy ones inside the command that needs them)', () => {
    expect(loaded.packages.filter((p) => !ALLOWED_PACKAGES.includes(p))).toEqual([]);
  });

  it('does not load the VM, the scenario runner or the report', () => {
    const heavy = loaded.ours.filter((f) => /[/\\](vm[/\\]create-vm|scenario[/\\]scenario|report[/\\][^/\\]+|bench[/\\]registry)\.js$/.test(f));
    expect(heavy).toEqual([]);
  });
});
