'use strict';
// The pool thread's entry when the sweep runs from TypeScript sources (ts-node, jest): a worker
// thread starts with none of its parent's module hooks, so it registers ts-node's transpile-only
// hook itself before loading run-task.ts. From compiled JavaScript the pool loads run-task.js
// directly and this file is not used (worker-pool.ts decides), so a stale dist/ never runs under
// the specs and installed packages need no ts-node.
const path = require('node:path');
require('ts-node').register({ project: path.join(__dirname, '..', '..', 'tsconfig.json'), transpileOnly: true });
module.exports = require('./run-task.ts');
