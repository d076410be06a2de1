#!/usr/bin/env node
// Runs the compiled CLI from dist/ (built by `npm run build`; `npm install` in a clone does it).
'use strict';
const path = require('node:path');
const main = path.join(__dirname, '..', 'dist', 'actors', 'cli', 'main.js');
let cli;
try {
  cli = require(main);
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND' && error.message.includes(main)) {
    process.stderr.write('hv-balloon-sim: dist/ is not built; run `npm run build` (npm install in a clone does it)\n');
    process.exit(1);
  }
  throw error;
}
cli.main(process.argv.slice(2));
