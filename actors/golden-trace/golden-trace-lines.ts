/**
 * A golden trace as text: one line per thing a run did that a user could observe, in virtual-time
 * order, each opening with its virtual time in µs. DM messages (direction, type, size, transaction
 * id and a hash of the bytes), the device's QEMU trace points (as QEMU prints them), QEMU's
 * warnings, status reports, QMP events, the guest's log lines, each command with its reply, and the
 * final query-balloon and counters. Bus deliveries between parts are left out: they are the
 * machinery an optimisation may change; what crosses the DM channel and what QEMU prints may not.
 */
import { formatTracePoint, TRACE_FORMATS } from '../trace-diff/qemu-trace-format';
import { msToMicros } from '../virtual-time';
import { bigintReplacer } from '../qmp/qmp-json';
import type { VmTraceRecord } from '../vm/create-vm';
import type { ScenarioStepResult } from '../scenario/scenario';

/** FNV-1a, 32 bits: a short fingerprint of a DM message's bytes (not a security hash). */
export function fnv1a32(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i] as number;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

function us(ms: number): string {
  return String(msToMicros(ms));
}

function json(value: unknown): string {
  return JSON.stringify(value, bigintReplacer);
}

/** Arguments as `k=v`, keys sorted, so that the order an object was built in does not matter. */
function sortedArgs(args: Readonly<Record<string, unknown>>, skip: ReadonlySet<string> = new Set()): string {
  return Object.keys(args)
    .filter((k) => !skip.has(k))
    .sort()
    .map((k) => `${k}=${String(args[k])}`)
    .join(' ');
}

const PLACEHOLDER = /\{(\w+):[dxs]\}/g;
const templateFields = new Map<string, ReadonlySet<string>>();
function fieldsOf(name: keyof typeof TRACE_FORMATS): ReadonlySet<string> {
  let f = templateFields.get(name);
  if (!f) {
    f = new Set([...TRACE_FORMATS[name].template.matchAll(PLACEHOLDER)].map((m) => m[1] as string));
    templateFields.set(name, f);
  }
  return f;
}

/** The golden line of a trace record, or undefined for records a golden trace leaves out (bus deliveries). */
export function goldenLine(record: VmTraceRecord): string | undefined {
  const t = us(record.time);
  switch (record.kind) {
    case 'packet':
      return `${t} dm ${record.from === 'host' ? 'host->guest' : 'guest->host'} ${record.type} size=${record.size} trans=${record.transId} fnv=${fnv1a32(record.payload)}`;
    case 'device': {
      const e = record.event;
      if (e.type === 'trace') {
        // QEMU's own wording; any argument QEMU does not print follows in braces.
        const extra = sortedArgs(e.args, fieldsOf(e.name));
        return `${t} trace ${formatTracePoint(e.name, e.args)}${extra ? ` {${extra}}` : ''}`;
      }
      if (e.type === 'warning') return `${t} warn ${e.kind} ${e.level} x${e.repeat} ${e.text}`;
      return `${t} status-report committed=${String(e.committed)} available=${String(e.available)}`;
    }
    case 'guest':
      if (record.event.type === 'misbehaviour') return `${t} guest-evil ${record.event.kind} ${record.event.text}`;
      return `${t} guest ${record.event.level} ${record.event.text}`;
    case 'qmp-event':
      return `${t} qmp-event ${record.event.event}${record.event.data ? ` ${json(record.event.data)}` : ''}`;
    case 'virtio-device': {
      const e = record.event;
      if (e.type === 'trace') return `${t} virtio-trace ${e.name} ${sortedArgs(e.args)}`;
      return `${t} virtio-balloon-change actual=${e.actual}`;
    }
    case 'virtio-guest':
      return `${t} virtio-guest ${record.event.level} ${record.event.text}`;
    case 'failure':
      return `${t} FAILURE ${record.message}`;
    case 'bus':
      return undefined;
  }
}

/** A command of the run and its reply. */
export function stepLine(step: ScenarioStepResult): string {
  const command = typeof step.command === 'string' ? `hmp ${json(step.command)}` : `qmp ${json(step.command)}`;
  return `${us(step.at)} ${command} -> ${json(step.reply)}`;
}

/**
 * Estimates of our own data structures' size, not behaviour: an optimisation of a structure may
 * change them (docs/benchmarks.md measures them instead).
 */
const NOT_BEHAVIOUR = new Set(['metadataBytes']);

/** `final <path> <value>` for every leaf of a value (counters), paths in sorted order. */
export function finalLines(prefix: string, value: unknown): string[] {
  const out: string[] = [];
  const walk = (path: string, v: unknown): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v as Record<string, unknown>).sort();
      if (keys.length === 0) out.push(`final ${path} {}`);
      for (const k of keys) if (!NOT_BEHAVIOUR.has(k)) walk(`${path}.${k}`, (v as Record<string, unknown>)[k]);
    } else {
      out.push(`final ${path} ${json(v)}`);
    }
  };
  walk(prefix, value);
  return out;
}
