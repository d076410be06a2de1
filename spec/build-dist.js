/** Jest global set-up: rebuild dist/ if a source is newer (specs spawn bin/, which runs dist/). */
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = () => {
  execFileSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'build.js'), '--if-stale'], { stdio: 'inherit' });
};
