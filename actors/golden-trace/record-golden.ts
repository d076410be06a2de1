/**
 * Recording a golden trace: replay a run's scenario on a fresh VM and write down, in order, every
 * line golden-trace-lines.ts describes. The same scenario gives the same text, byte for byte.
 */
import { runScenario } from '../scenario/scenario';
import { finalLines, goldenLine, stepLine } from './golden-trace-lines';
import type { GoldenRun } from './golden-runs';

export const GOLDEN_HEADER = '# golden trace: the contract for optimisation (docs/benchmarks.md). Re-record only for a deliberate behaviour change, named in the commit.';

/**
 * The golden trace of one run, as the text its fixture holds. `stepByStep`: the device takes every
 * loop step on its own (as under --inspect), which must give the same text.
 */
export function recordGoldenTrace(run: GoldenRun, options: { stepByStep?: boolean } = {}): string {
  const scenario = run.load();
  const lines: string[] = [GOLDEN_HEADER, `# ${run.name} (${run.source})`];
  const result = runScenario(scenario, {
    ...(options.stepByStep ? { stepByStep: true } : {}),
    onTrace: (record) => {
      const line = goldenLine(record);
      if (line !== undefined) lines.push(line);
    },
    onStep: (step) => lines.push(stepLine(step)),
  });
  result.vm.dispose();
  lines.push(
    ...finalLines('actualBytes', result.final.actualBytes),
    ...finalLines('deviceState', result.final.deviceState),
    ...finalLines('guestState', result.final.guestState),
    ...finalLines('counters', result.final.counters),
  );
  return `${lines.join('\n')}\n`;
}
