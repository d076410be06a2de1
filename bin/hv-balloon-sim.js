#!/usr/bin/env node
// Runs the TypeScript CLI straight from the sources: no build step. Type-checking is `npm test`'s job,
// so ts-node only transpiles here (fast start-up).
'use strict';
const path = require('node:path');
require('ts-node').register({
  project: path.join(__dirname, '..', 'tsconfig.json'),
  transpileOnly: true,
});
require('../actors/cli/main.ts').main(process.argv.slice(2));
