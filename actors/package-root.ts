/**
 * Where the package is on disk and its version, the same from the sources (ts-node, ts-jest) and
 * from the compiled dist/ (one level deeper). Code never imports package.json: tsc would copy it
 * into dist/, where it would shadow the real one (scripts/build.js refuses such a build).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PACKAGE_NAME = 'hv-balloon-sim';

function findPackageRoot(from: string): { root: string; version: string } {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === PACKAGE_NAME) return { root: dir, version: String(manifest.version) };
    } catch {
      // No (readable) package.json here: keep walking up.
    }
    if (dirname(dir) === dir) throw new Error(`${PACKAGE_NAME}: cannot find its package.json above ${from}`);
  }
}

const found = findPackageRoot(__dirname);

/** The folder holding the package's package.json (the repository root in a clone). */
export const PACKAGE_ROOT = found.root;
/** The package's version, as package.json says. */
export const PACKAGE_VERSION = found.version;

/** A path inside the package, e.g. packagePath('bin', 'hv-balloon-sim.js'). */
export function packagePath(...segments: string[]): string {
  return join(PACKAGE_ROOT, ...segments);
}
