/**
 * The readable form of a run: a timeline of what a user would watch (commands and replies, QMP
 * events, QEMU's warnings, the guest's kernel log, and with `verbose` every device state change
 * and DM packet), then a summary table.
 */
import { decode } from '../../protocol/codec';
import { messageToJson } from '../../protocol/json';
import { formatDuration } from '../units';
import { bigintReplacer } from '../qmp/qmp-json';
import type { VmTraceRecord } from '../vm/create-vm';
import type { ScenarioResult, ScenarioStepResult } from './scenario';

const MiB = 2 ** 20;

export function timeLabel(ms: number): string {
  return `${(ms / 1000).toFixed(3).padStart(9)}s`;
}

/** One timeline line for a trace record, or undefined when it is not shown at this verbosity. */
export function traceLine(record: VmTraceRecord, verbose: boolean): string | undefined {
  switch (record.kind) {
    case 'device': {
      const e = record.event;
      if (e.type === 'warning') return `${timeLabel(record.time)}  qemu-warning  ${e.text}${e.repeat > 1 ? ` (x${e.repeat})` : ''}`;
      if (verbose && e.type === 'trace') return `${timeLabel(record.time)}  trace         ${e.name} ${formatArgs(e.args)}`;
      return undefined;
    }
    case 'guest': {
      const e = record.event;
      if (e.type === 'misbehaviour') return `${timeLabel(record.time)}  guest-evil    ${e.text}`;
      if (e.level === 'debug' && !verbose) return undefined;
      return `${timeLabel(record.time)}  guest-log     hv_balloon: ${e.text}`;
    }
    case 'qmp-event':
      if (record.event.event === 'HV_BALLOON_STATUS_REPORT' && !verbose) return undefined;
      return `${timeLabel(record.time)}  qmp-event     ${record.event.event}${record.event.data ? ' ' + JSON.stringify(record.event.data) : ''}`;
    case 'packet':
      if (!verbose) return undefined;
      return `${timeLabel(record.time)}  ${record.from === 'host' ? 'host->guest' : 'guest->host'}   ${record.type} (${record.size} bytes) ${packetFields(record.payload)}`;
    case 'virtio-device': {
      const e = record.event;
      if (verbose && e.type === 'trace') return `${timeLabel(record.time)}  trace         ${e.name} ${formatArgs(e.args)}`;
      return undefined;
    }
    case 'virtio-guest':
      if (record.event.level === 'debug' && !verbose) return undefined;
      return `${timeLabel(record.time)}  guest-log     virtio_balloon virtio0: ${record.event.text}`;
    case 'bus':
      return undefined;
    case 'failure':
      return `${timeLabel(record.time)}  FAILURE       the simulation stopped: ${record.message}`;
  }
}

export function stepLine(step: ScenarioStepResult): string {
  if (typeof step.command === 'string') {
    const reply = typeof step.reply === 'string' ? step.reply.trimEnd() : JSON.stringify(step.reply);
    const out = reply === '' ? '' : `\n${reply.split('\n').map((l) => `${' '.repeat(26)}${l}`).join('\n')}`;
    return `${timeLabel(step.at)}  (qemu)        ${step.command}${out}`;
  }
  return `${timeLabel(step.at)}  qmp           ${JSON.stringify(step.command)}\n${' '.repeat(26)}${JSON.stringify(step.reply, bigintReplacer)}`;
}

export function summaryTable(result: ScenarioResult): string {
  const counters = result.final.counters as {
    memory?: Record<string, number>;
    device?: { warnings?: Record<string, number> } | null;
  };
  const mem = counters.memory ?? {};
  const statusEvents = result.events.filter((e) => e.event === 'HV_BALLOON_STATUS_REPORT').length;
  const rows: Array<[string, string]> = [
    ['scenario', result.scenario],
    ['virtual time', formatDuration(result.virtualTimeMs)],
    ['wall time', `${result.wallTimeMs} ms`],
    ['balloon actual', result.final.actualBytes === null ? '(no balloon device)' : `${result.final.actualBytes / MiB} MiB`],
    ['device state', result.final.deviceState ?? '(none)'],
    ['guest driver', result.final.guestState ?? '(none)'],
    ['guest free / available', `${pagesMiB(mem.freePages)} / ${pagesMiB(mem.availablePages)} MiB`],
    ['guest ballooned', `${pagesMiB(mem.balloonedPages)} MiB`],
    ['host resident', `${pagesMiB(mem.residentPages)} MiB`],
    ['status-report events', String(statusEvents)],
  ];
  const msgRows = Object.entries(result.messages).map(([k, v]) => [`  ${k}`, String(v)] as [string, string]);
  const all = [...rows, ['DM messages', ''] as [string, string], ...msgRows];
  const width = Math.max(...all.map(([k]) => k.length));
  return all.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

function pagesMiB(pages: number | undefined): string {
  return pages === undefined ? '?' : String(Math.round((pages * 4096) / MiB));
}

function formatArgs(args: Readonly<Record<string, unknown>>): string {
  return Object.entries(args)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

/** The decoded fields of a DM packet, ranges shortened to the first few. */
function packetFields(payload: Uint8Array): string {
  let json: Record<string, unknown>;
  try {
    json = messageToJson(decode(payload)) as Record<string, unknown>;
  } catch (err) {
    return `(malformed: ${(err as Error).message})`;
  }
  const { type: _type, ...fields } = json;
  void _type;
  const ranges = fields.ranges;
  if (Array.isArray(ranges) && ranges.length > 3) fields.ranges = [...ranges.slice(0, 3), `... ${ranges.length - 3} more`];
  return JSON.stringify(fields);
}
