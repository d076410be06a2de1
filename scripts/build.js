#!/usr/bin/env node
/**
 * Builds the package's dist/: tsc with tsconfig.build.json (JS, .d.ts, source maps), then copies
 * every folder named `assets` under the source folders to the same place under dist/ (web pages,
 * CSS, JSON data: files that code reads at run time with `join(__dirname, 'assets', ...)`).
 *
 *   node scripts/build.js             clean build (npm run build, prepare on npm install / npm ci / npm pack)
 *   node scripts/build.js --if-stale  incremental build, only if a source is newer than the last build
 *                                     (jest's global set-up and npm start: spawned CLIs run current code)
 *
 * The source folders are the ones tsconfig.build.json includes, so a new folder under actors/ or
 * machines/ needs no change here.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const CONFIG = path.join(ROOT, 'tsconfig.build.json');
/** tsc's incremental state; its mtime marks the last successful build. */
const BUILD_INFO = path.join(DIST, '.tsbuildinfo');
const ASSETS_FOLDER = 'assets';

/** The top-level files and folders the build compiles, from tsconfig.build.json's "include". */
function sourceRoots() {
  const { include } = JSON.parse(fs.readFileSync(CONFIG, 'utf8'));
  return [...new Set(include.map((glob) => glob.split('/')[0]))].map((name) => path.join(ROOT, name)).filter((p) => fs.existsSync(p));
}

function* walk(entry) {
  const stat = fs.statSync(entry);
  if (!stat.isDirectory()) {
    yield { file: entry, stat };
    return;
  }
  for (const name of fs.readdirSync(entry)) yield* walk(path.join(entry, name));
}

function isStale() {
  if (!fs.existsSync(BUILD_INFO)) return true;
  const built = fs.statSync(BUILD_INFO).mtimeMs;
  const inputs = [...sourceRoots(), CONFIG, path.join(ROOT, 'tsconfig.json'), path.join(ROOT, 'package.json')];
  for (const root of inputs) for (const { stat } of walk(root)) if (stat.mtimeMs > built) return true;
  return false;
}

function runTsc() {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  const result = spawnSync(process.execPath, [tsc, '-p', CONFIG], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** Copies every `assets` folder under the source folders into dist/, at the same relative path. */
function copyAssets() {
  const copy = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === 'node_modules') continue;
      const full = path.join(dir, entry.name);
      if (entry.name === ASSETS_FOLDER) fs.cpSync(full, path.join(DIST, path.relative(ROOT, full)), { recursive: true });
      else copy(full);
    }
  };
  for (const root of sourceRoots()) if (fs.statSync(root).isDirectory()) copy(root);
}

/** After an incremental build: drop outputs whose source was deleted or renamed. */
function pruneOrphans() {
  for (const { file } of walk(DIST)) {
    const rel = path.relative(DIST, file);
    if (rel.split(path.sep).includes(ASSETS_FOLDER)) continue;
    const match = /^(.*)\.(js|js\.map|d\.ts)$/.exec(rel);
    if (match && !fs.existsSync(path.join(ROOT, `${match[1]}.ts`))) fs.rmSync(file);
  }
}

function main() {
  const ifStale = process.argv.includes('--if-stale');
  if (ifStale && !isStale()) return;
  if (!ifStale) fs.rmSync(DIST, { recursive: true, force: true });
  runTsc();
  if (fs.existsSync(path.join(DIST, 'package.json'))) {
    // A `import ... from '.../package.json'` made tsc copy it: inside dist/ it would shadow the real one.
    console.error('build: dist/package.json was emitted; read the version with actors/package-root.ts instead of importing package.json');
    process.exit(1);
  }
  if (ifStale) pruneOrphans();
  copyAssets();
  const now = new Date();
  fs.utimesSync(BUILD_INFO, now, now);
}

main();
