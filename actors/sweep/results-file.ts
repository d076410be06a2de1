/**
 * The results file: one JSON line per run, in combination order. It is the sweep's memory: a sweep
 * started again with the same file skips the runs it already holds (resume), so every line is
 * written whole (appendFileSync of whole lines) and a torn last line from a killed process is dropped.
 */
import { appendFileSync, existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import type { RunOutcome, SerializedRunOutcome } from './run-task';
import { SweepError, type Sweep } from './sweep-file';

/**
 * One line of the results file. `final` comes last: it is the long part. A run from the local pool
 * carries it as JSON text (`finalJson`, written as the line's `final`: the same bytes).
 */
export type RunRecord = { sweep: string; index: number; combination: Record<string, unknown> } & (
  | { status: 'ok'; figures: Record<string, number | null>; final: unknown }
  | { status: 'ok'; figures: Record<string, number | null>; finalJson: string }
  | { status: 'error' | 'timeout'; error: string }
);

/** What the summary needs of a run (the file can hold far more runs than memory holds `final`s). */
export interface RunDigest {
  index: number;
  status: RunRecord['status'];
  figures: Record<string, number | null> | null;
}

export function recordOf(sweep: Sweep, index: number, combination: Record<string, unknown>, outcome: RunOutcome | SerializedRunOutcome): RunRecord {
  return { sweep: sweep.id, index, combination, ...outcome };
}

/** The record's line (without its newline): JSON.stringify of the record, `final` spliced in as text when it came as text. */
export function lineOf(record: RunRecord): string {
  if (!('finalJson' in record)) return JSON.stringify(record);
  const { finalJson, ...head } = record;
  // `final` is the last key of a record: the same bytes as JSON.stringify({ ...head, final }).
  return `${JSON.stringify(head).slice(0, -1)},"final":${finalJson}}`;
}

export function digestOf(record: Pick<RunRecord, 'index' | 'status'> & { figures?: Record<string, number | null> }): RunDigest {
  return { index: record.index, status: record.status, figures: record.figures ?? null };
}

/**
 * The runs a results file already holds for this sweep. A file of another sweep is refused (its
 * runs would be mixed with these); a torn last line is cut off, with a note through `warn`.
 */
export function readResults(path: string, sweep: Sweep, warn: (message: string) => void): Map<number, RunDigest> {
  const done = new Map<number, RunDigest>();
  if (!existsSync(path)) return done;
  let text = readFileSync(path, 'utf8');
  if (text !== '' && !text.endsWith('\n')) {
    // Lines are written whole with their newline: text after the last one is a torn write.
    const kept = text.lastIndexOf('\n') + 1;
    warn(`${path}: dropping an unfinished last line (the sweep was stopped while writing it)`);
    truncateSync(path, Buffer.byteLength(text.slice(0, kept)));
    text = text.slice(0, kept);
  }
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let record: RunRecord;
    try {
      record = JSON.parse(line) as RunRecord;
    } catch {
      throw new SweepError(`${path}: line ${i + 1} is not a results line (not JSON): use another --out file, or --restart to replace it`);
    }
    if (record.sweep !== sweep.id) {
      throw new SweepError(
        `${path} holds results of another sweep (id ${String(record.sweep)}; ${sweep.source} is ${sweep.id}: its base, axes or figures differ): use another --out file, or --restart to replace them`,
      );
    }
    if (!Number.isInteger(record.index) || record.index < 0 || record.index >= sweep.runs) {
      throw new SweepError(`${path}: line ${i + 1}: run index ${String(record.index)} is outside this sweep's ${sweep.runs} runs`);
    }
    done.set(record.index, digestOf(record));
  });
  return done;
}

/** Empties (or creates) the file. */
export function startResults(path: string): void {
  writeFileSync(path, '');
}

/**
 * Takes runs in any order and appends them to the file in combination order: a run waits in memory
 * until every run before it (that was still to do) is written. Runs already in the file are skipped.
 */
export class OrderedResultsWriter {
  private readonly pending = new Map<number, RunRecord>();
  private cursor = 0;

  constructor(
    private readonly path: string,
    /** The runs to write, ascending. */
    private readonly todo: readonly number[],
    private readonly onWritten: (record: RunRecord) => void = () => undefined,
  ) {}

  /** Takes runs (a batch from one worker, say); the lines now in order go to the file in one write, each line whole. */
  add(...records: RunRecord[]): void {
    for (const record of records) if (!this.pending.has(record.index)) this.pending.set(record.index, record);
    const ready: RunRecord[] = [];
    while (this.cursor < this.todo.length && this.pending.has(this.todo[this.cursor])) {
      const next = this.pending.get(this.todo[this.cursor])!;
      this.pending.delete(next.index);
      ready.push(next);
      this.cursor++;
    }
    if (ready.length === 0) return;
    appendFileSync(this.path, ready.map((record) => lineOf(record) + '\n').join(''));
    for (const record of ready) this.onWritten(record);
  }

  get written(): number {
    return this.cursor;
  }

  /** Runs received but held back behind an unfinished earlier run. */
  get waiting(): number {
    return this.pending.size;
  }
}
