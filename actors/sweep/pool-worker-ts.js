'use strict';
// The pool's worker process entry when the sweep runs from TypeScript sources (ts-node, jest): a
// forked process starts with none of its parent's module hooks, so it registers ts-node's
// transpile-only hook itself before loading pool-worker.ts. From compiled JavaScript the pool
// forks pool-worker.js directly and this file is not used (run-pool.ts decides), so a stale dist/
// never runs under the specs and installed packages need no ts-node.
const path = require('node:path');
require('ts-node').register({ project: path.join(__dirname, '..', '..', 'tsconfig.json'), transpileOnly: true });
require('./pool-worker.ts');
