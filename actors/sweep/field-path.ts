/**
 * Scenario fields by path: `channel.ringBytes`, `guest.plan.duplicates`, `steps[0].hmp`, `vms[2].dynamicMemory.buffer`.
 * A sweep axis names the field it varies this way; a figure names the part of a run's result it reads.
 */

export type PathSegment = string | number;

/** A path that cannot be read or written; the message names the path and what is wrong. */
export class FieldPathError extends Error {
  override readonly name = 'FieldPathError';
}

const SEGMENT = /^([A-Za-z_$][\w$-]*)((?:\[\d+\])*)$/;

/** Splits `a.b[0].c` into `['a', 'b', 0, 'c']`. */
export function parseFieldPath(path: string): PathSegment[] {
  if (path.trim() === '') throw new FieldPathError('an empty field path (expected e.g. "channel.ringBytes" or "steps[0].hmp")');
  const segments: PathSegment[] = [];
  for (const part of path.split('.')) {
    const match = SEGMENT.exec(part);
    if (!match) throw new FieldPathError(`"${path}" is not a field path (expected names joined by dots, with [n] for list items, e.g. "steps[0].hmp")`);
    segments.push(match[1]);
    for (const index of match[2].matchAll(/\[(\d+)\]/g)) segments.push(Number(index[1]));
  }
  return segments;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The value at `path`, or undefined where the path leads nowhere. */
export function readFieldPath(root: unknown, path: readonly PathSegment[]): unknown {
  let node: unknown = root;
  for (const segment of path) {
    if (typeof segment === 'number' ? !Array.isArray(node) : !isObject(node)) return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

/**
 * Sets the value at `path` in `root` (mutated), creating missing objects on the way. Refuses to
 * step through a value that is not an object (say `guest: "linux"` under `guest.reserveMiB`) or
 * past the end of a list: the scenario must have that shape already.
 */
export function writeFieldPath(root: Record<string, unknown>, path: readonly PathSegment[], value: unknown): void {
  let node: Record<string | number, unknown> | unknown[] = root;
  path.forEach((segment, i) => {
    const here = formatFieldPath(path.slice(0, i + 1));
    if (i === path.length - 1) {
      (node as Record<string | number, unknown>)[segment] = value;
      return;
    }
    const next = path[i + 1];
    let child = (node as Record<string | number, unknown>)[segment];
    if (child === undefined && typeof segment === 'string') {
      if (typeof next === 'number') throw new FieldPathError(`${here} is not in the base scenario, so ${formatFieldPath(path)} has no list to index`);
      child = {};
      (node as Record<string, unknown>)[segment] = child;
    }
    if (typeof next === 'number') {
      if (!Array.isArray(child)) throw new FieldPathError(`${here} is ${JSON.stringify(child)}, not a list, in the base scenario`);
      if (next >= child.length) throw new FieldPathError(`${formatFieldPath(path.slice(0, i + 2))}: the base scenario's ${here} has only ${child.length} item(s)`);
    } else if (!isObject(child)) {
      throw new FieldPathError(`${here} is ${JSON.stringify(child)} in the base scenario, not an object, so it has no field "${next}" (write ${here} as an object there)`);
    }
    node = child as Record<string | number, unknown> | unknown[];
  });
}

/** `['a', 'b', 0, 'c']` back to `a.b[0].c`. */
export function formatFieldPath(path: readonly PathSegment[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}
