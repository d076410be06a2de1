/**
 * Comparing a golden trace with a new recording: the first line that differs, with the lines
 * around it on both sides, so that whoever broke it sees what the run did instead.
 */

export interface GoldenDifference {
  /** 1-based line number of the first difference. */
  line: number;
  expected: string | undefined;
  actual: string | undefined;
  /** A readable report: where, both lines, and `context` lines before and after on each side. */
  report: string;
}

/** null when the texts are equal; otherwise the first differing line. */
export function compareGoldenTrace(expected: string, actual: string, context = 3): GoldenDifference | null {
  if (expected === actual) return null;
  const e = expected.split('\n');
  const a = actual.split('\n');
  let i = 0;
  while (i < e.length && i < a.length && e[i] === a[i]) i++;
  const show = (lines: string[], mark: string): string => {
    const from = Math.max(0, i - context);
    const to = Math.min(lines.length, i + context + 1);
    const out: string[] = [];
    for (let k = from; k < to; k++) out.push(`${k === i ? mark : ' '} ${String(k + 1).padStart(6)}  ${lines[k]}`);
    if (i >= lines.length) out.push(`${mark} ${String(i + 1).padStart(6)}  (end of trace)`);
    return out.join('\n');
  };
  const report =
    `first difference at line ${i + 1} of ${e.length} (golden) / ${a.length} (this run):\n` +
    `  golden:   ${e[i] ?? '(end of trace)'}\n  this run: ${a[i] ?? '(end of trace)'}\n` +
    `golden:\n${show(e, '-')}\nthis run:\n${show(a, '+')}\n`;
  return { line: i + 1, expected: e[i], actual: a[i], report };
}
