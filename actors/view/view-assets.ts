/**
 * Where the browser app's files are. They ship in the npm package (package.json "files") as plain
 * files beside this module, in app/. From the TypeScript sources (ts-node, ts-jest) that is
 * actors/view/app; from compiled JavaScript in another folder (dist/...) the copy beside the
 * compiled module is used when the build put one there, else the package root's actors/view/app.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder of the package that holds this file (the nearest package.json named hv-balloon-sim). */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === 'hv-balloon-sim') return dir;
      } catch {
        /* not ours: keep looking */
      }
    }
    if (dirname(dir) === dir) throw new Error(`hv-balloon-sim: cannot find the package root above ${from}`);
  }
}

export function appDir(): string {
  const beside = join(__dirname, 'app');
  if (existsSync(join(beside, 'index.html'))) return beside;
  return join(packageRoot(), 'actors', 'view', 'app');
}

/** The app's files the server hands out, by URL path, with their content types. */
export const APP_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/memory-chart.js': { file: 'memory-chart.js', type: 'text/javascript; charset=utf-8' },
  '/lanes.js': { file: 'lanes.js', type: 'text/javascript; charset=utf-8' },
};
