/**
 * The browser app's files: plain files in assets/ beside this module. The build copies every
 * `assets` folder into dist/ at the same place (scripts/build.js), so `join(__dirname, 'assets')`
 * finds them from the TypeScript sources (ts-node, ts-jest) and from the compiled package alike.
 * They are plain ES modules, not TypeScript: the server sends these very files, no bundler and no
 * build step between them and the browser (see docs/view.md).
 */
import { join } from 'node:path';

export function appDir(): string {
  return join(__dirname, 'assets');
}

/** The app's files the server hands out, by URL path, with their content types. */
export const APP_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/view-base.css': { file: 'view-base.css', type: 'text/css; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/memory-chart.js': { file: 'memory-chart.js', type: 'text/javascript; charset=utf-8' },
  '/lanes.js': { file: 'lanes.js', type: 'text/javascript; charset=utf-8' },
};
