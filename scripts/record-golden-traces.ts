/**
 * npm run golden:record [-- <name>...]: (re-)record the golden traces in spec/fixtures/golden-traces/.
 * Only for a deliberate behaviour change, named in the commit (docs/benchmarks.md, "Golden traces").
 * Without names: every run; `--list` lists them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { GOLDEN_DIR, goldenPath, goldenRuns } from '../actors/golden-trace/golden-runs';
import { recordGoldenTrace } from '../actors/golden-trace/record-golden';

const args = process.argv.slice(2);
const runs = goldenRuns();
if (args.includes('--list')) {
  for (const run of runs) process.stdout.write(`${run.name}\t${run.source}\n`);
  process.exit(0);
}
const unknown = args.filter((name) => !runs.some((r) => r.name === name));
if (unknown.length > 0) {
  process.stderr.write(`record-golden-traces: unknown run ${unknown.join(', ')} (known: ${runs.map((r) => r.name).join(', ')})\n`);
  process.exit(2);
}
mkdirSync(GOLDEN_DIR, { recursive: true });
for (const run of runs.filter((r) => args.length === 0 || args.includes(r.name))) {
  const t0 = performance.now();
  const text = recordGoldenTrace(run);
  writeFileSync(goldenPath(run.name), text);
  const lines = text.split('\n').length - 1;
  process.stdout.write(`${run.name}: ${lines} lines, ${text.length} bytes (${Math.round(performance.now() - t0)} ms)\n`);
}
