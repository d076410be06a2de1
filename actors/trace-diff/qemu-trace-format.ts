/**
 * QEMU's `hv_balloon_*` trace points as text: the format of each (QEMU hw/hyperv/trace-events),
 * the emulator's trace events printed in that format, and QEMU trace-log lines parsed back into
 * named fields. Both sides of a comparison go through the same parser, so a field compares equal
 * exactly when QEMU would have printed the same text.
 */
import type { TraceArgs, TracePointName } from '../../machines/hv-balloon-device/output';

/** One field of a trace point: `d` decimal, `x` hex (printed after a literal "0x"), `s` a word. */
type FieldKind = 'd' | 'x' | 's';

interface TraceFormat {
  /** The text after the name, `{field:kind}` placeholders (QEMU trace-events wording). */
  template: string;
  /** Fields that carry the guest's transaction id (it counts the guest's status reports, so it depends on guest timing). */
  guestTransId?: string;
}

/** QEMU hw/hyperv/trace-events, the hv-balloon section (formats as QEMU 10.0 prints them). */
export const TRACE_FORMATS: Readonly<Record<TracePointName, TraceFormat>> = {
  hv_balloon_state_change: { template: '-> {to:s}' },
  hv_balloon_incoming_version: { template: 'incoming proto version {major:d}.{minor:d}' },
  hv_balloon_incoming_caps: { template: 'incoming caps 0x{caps:x}' },
  hv_balloon_outgoing_unballoon: { template: 'posting unballoon {transId:d} for {count:d} @ 0x{start:x}, remaining {remaining:d}' },
  hv_balloon_incoming_unballoon: { template: 'incoming unballoon response {transId:d}', guestTransId: 'transId' },
  hv_balloon_outgoing_balloon: { template: 'posting balloon {transId:d} for {count:d}, remaining {remaining:d}' },
  hv_balloon_incoming_balloon: {
    template: 'incoming balloon response {transId:d}, ranges {rangeCount:d}, more {morePages:d}',
    guestTransId: 'transId',
  },
  hv_balloon_remove_response: { template: 'processing remove response range {count:d} @ 0x{start:x}, both {both:d}' },
  hv_balloon_remove_response_hole: {
    template: 'response range hole {count:d} @ 0x{start:x} from range {rangeCount:d} @ 0x{rangeStart:x}, before our start 0x{ourStart:x}, both {both:d}',
  },
  hv_balloon_remove_response_common: {
    template:
      'response common range {count:d} @ 0x{start:x} from range {rangeCount:d} @ 0x{rangeStart:x} with our {ourCount:d} @ 0x{ourStart:x}, removed {ourRemoved:d}, both {both:d}',
  },
  hv_balloon_remove_response_remainder: { template: 'remove response remaining range {count:d} @ 0x{start:x}, both {both:d}' },
  hv_balloon_our_range_add: { template: 'adding our range {count:d} @ 0x{start:x}' },
  hv_balloon_map_slot: { template: 'mapping memslot {idx:d} / {total:d} @ 0x{offset:x}' },
  hv_balloon_unmap_slot: { template: 'unmapping memslot {idx:d} / {total:d} @ 0x{offset:x}' },
  hv_balloon_outgoing_hot_add: { template: 'posting hot add {transId:d} for {count:d} @ 0x{start:x}' },
  hv_balloon_incoming_hot_add: { template: 'incoming hot add response {transId:d}, result {result:d}, count {count:d}', guestTransId: 'transId' },
};

const PLACEHOLDER = /\{(\w+):([dxs])\}/g;

export function isTracePointName(name: string): name is TracePointName {
  return Object.prototype.hasOwnProperty.call(TRACE_FORMATS, name);
}

/** The field that holds the guest's transaction id for this trace point, if any. */
export function guestTransIdField(name: TracePointName): string | undefined {
  return TRACE_FORMATS[name].guestTransId;
}

function fieldText(value: number | string | boolean | undefined, kind: FieldKind): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (value === undefined) return '?';
  if (kind === 'x' && typeof value === 'number') return value.toString(16);
  return String(value);
}

/** The emulator's trace event as QEMU prints it (without a time prefix): `name args`. */
export function formatTracePoint(name: TracePointName, args: TraceArgs): string {
  const text = TRACE_FORMATS[name].template.replace(PLACEHOLDER, (_m, field: string, kind: FieldKind) => fieldText(args[field], kind));
  return `${name} ${text}`;
}

/** A trace point read from a log: its name, its fields as printed, its time if the log has one. */
export interface ParsedTracePoint {
  name: TracePointName;
  /** Field name -> value as printed (hex without 0x, lower case). */
  fields: Record<string, string>;
  /** The text after the name. */
  text: string;
  /** Seconds, from a `[  12.345]` or `pid@sec.usec:` prefix; null without one. */
  timeS: number | null;
  /** 1-based line number in the log it came from (0 for emulator output). */
  line: number;
}

const compiled = new Map<TracePointName, { re: RegExp; fields: string[]; kinds: FieldKind[] }>();

function matcher(name: TracePointName): { re: RegExp; fields: string[]; kinds: FieldKind[] } {
  let m = compiled.get(name);
  if (m) return m;
  const fields: string[] = [];
  const kinds: FieldKind[] = [];
  let source = '';
  let last = 0;
  const template = TRACE_FORMATS[name].template;
  for (const hit of template.matchAll(PLACEHOLDER)) {
    source += escapeRe(template.slice(last, hit.index));
    fields.push(hit[1] as string);
    kinds.push(hit[2] as FieldKind);
    source += hit[2] === 'd' ? '(-?\\d+)' : hit[2] === 'x' ? '([0-9a-fA-F]+)' : '(\\S+)';
    last = (hit.index ?? 0) + hit[0].length;
  }
  source += escapeRe(template.slice(last));
  m = { re: new RegExp(`^${source}$`), fields, kinds };
  compiled.set(name, m);
  return m;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * One line of a QEMU trace log: `[   3.244] name args` (the recordings' time prefix),
 * `pid@sec.usec:name args` (QEMU's log backend with timestamps) or plain `name args`.
 */
const LINE = /^(?:\[\s*(\d+(?:\.\d+)?)\]\s*)?(?:\d+@(\d+(?:\.\d+)?):)?(hv_balloon_\w+)(?: (.*))?$/;

export type ParseResult = { kind: 'trace'; point: ParsedTracePoint } | { kind: 'other' } | { kind: 'malformed'; name: string; text: string };

/** Parse one log line. Lines that are not hv_balloon trace points are 'other'. */
export function parseTraceLine(raw: string, lineNo = 0): ParseResult {
  const line = raw.replace(/\r$/, '').trim();
  const m = LINE.exec(line);
  if (!m) return { kind: 'other' };
  const name = m[3] as string;
  const text = (m[4] ?? '').trim();
  if (!isTracePointName(name)) return { kind: 'malformed', name, text };
  const { re, fields, kinds } = matcher(name);
  const hit = re.exec(text);
  if (!hit) return { kind: 'malformed', name, text };
  const values: Record<string, string> = {};
  fields.forEach((f, i) => {
    const v = hit[i + 1] as string;
    values[f] = kinds[i] === 'x' ? v.toLowerCase() : v;
  });
  const time = m[1] ?? m[2];
  return { kind: 'trace', point: { name, fields: values, text, timeS: time === undefined ? null : Number(time), line: lineNo } };
}

/** Every hv_balloon trace point of a log, in order; throws on a hv_balloon line it cannot read. */
export function parseTraceLog(text: string): ParsedTracePoint[] {
  const out: ParsedTracePoint[] = [];
  text.split('\n').forEach((raw, i) => {
    const r = parseTraceLine(raw, i + 1);
    if (r.kind === 'trace') out.push(r.point);
    else if (r.kind === 'malformed') throw new TraceLogError(i + 1, `line ${i + 1}: ${r.name}: cannot read "${r.text}" as this trace point`);
  });
  return out;
}

export class TraceLogError extends Error {
  override readonly name = 'TraceLogError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}
