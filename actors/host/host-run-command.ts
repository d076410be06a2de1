/**
 * `run host.json`: the CLI side of a host scenario — a timeline of decisions and steps, a table of
 * the VMs at the end; `--json` one object with final.host and final.vms; `--report` the charts.
 */
import { writeFileSync } from 'node:fs';
import { CliError } from '../cli/cli-error';
import type { CliIo } from '../cli/cli-io';
import { formatDuration } from '../units';
import { HostError } from './create-host';
import { HostScenarioError } from './host-config';
import { loadHostScenarioFile, runHostScenario, type HostSample, type HostScenarioResult } from './host-scenario';
import { renderHostReport } from './host-report';

const MAX_TIMELINE_DECISIONS = 400;

/** What `run --json` prints for a host scenario. */
export type HostRunOutput = Omit<HostScenarioResult, 'host'>;

export function runHostCommand(file: string, flags: { json?: boolean; verbose?: boolean; report?: string }, io: CliIo): HostRunOutput {
  let scenario;
  try {
    scenario = loadHostScenarioFile(file);
  } catch (err) {
    if (err instanceof HostScenarioError) throw new CliError(err.message);
    throw err;
  }
  const show = (line: string): void => {
    if (!flags.json) io.stdout(line + '\n');
  };
  show(`hv-balloon-sim: ${scenario.name} (host ${gib(scenario.memoryBytes)}, ${scenario.vms.length} VMs, policy ${scenario.policy.kind})`);
  if (scenario.description) show(`  ${scenario.description}`);
  show('');
  const samples: HostSample[] = [];
  let shown = 0;
  let result;
  try {
    result = runHostScenario(scenario, {
      onDecision: (d) => {
        if (flags.json) return;
        if (shown++ < MAX_TIMELINE_DECISIONS || flags.verbose) show(`${pad(formatDuration(d.time))} ${d.vm}: target ${gib(d.fromBytes)} -> ${gib(d.toBytes)} (${d.reason})`);
      },
      onStep: (s) => show(`${pad(formatDuration(s.at))} ${s.vm}: ${typeof s.command === 'string' ? s.command : JSON.stringify(s.command)} -> ${typeof s.reply === 'string' ? s.reply || 'ok' : JSON.stringify(s.reply)}`),
      ...(flags.report !== undefined ? { onSample: (s: HostSample) => samples.push(s) } : {}),
    });
  } catch (err) {
    if (err instanceof HostError) throw new CliError(err.message);
    throw err;
  }
  const { host, ...plain } = result;
  host.dispose();
  if (shown > MAX_TIMELINE_DECISIONS && !flags.verbose) show(`... ${shown - MAX_TIMELINE_DECISIONS} more decisions (--verbose shows all, --json lists them)`);
  for (const r of plain.rejections) show(`${pad(formatDuration(r.time))} policy: rejected: ${r.reason}`);
  if (flags.json) io.stdout(JSON.stringify(plain, null, 2) + '\n');
  else show('\n' + hostTable(plain));
  if (flags.report !== undefined) {
    try {
      writeFileSync(flags.report, renderHostReport(plain, samples, scenario.memoryBytes));
    } catch (err) {
      throw new CliError(`--report: cannot write "${flags.report}" (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    show(`\nreport: ${flags.report}`);
  }
  return plain;
}

function hostTable(r: Omit<HostScenarioResult, 'host'>): string {
  const h = r.final.host;
  const rows = [['VM', 'assigned', 'demand', 'target', 'min', 'max', 'weight', 'paged']];
  for (const v of r.final.vms) {
    rows.push([v.name, gib(v.assignedBytes), v.demandBytes === null ? '-' : gib(v.demandBytes), gib(v.targetBytes), gib(v.minimumBytes), gib(v.maximumBytes), String(v.weight), gib(v.pagedBytes)]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const lines = rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  return [
    `after ${formatDuration(r.virtualTimeMs)} (${r.wallTimeMs} ms wall): host ${gib(h.memoryBytes)}, assigned ${gib(h.assignedBytes)}, resident ${gib(h.residentBytes)}, free ${gib(h.freeBytes)}${h.overcommitBytes > 0 ? `, OVERCOMMITTED by ${gib(h.overcommitBytes)} (the host pages)` : ''}`,
    `policy ${r.policy.kind} (${r.policy.state}): ${r.policy.decisions} decisions`,
    '',
    ...lines,
  ].join('\n');
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)}G`;
}

function pad(s: string): string {
  return s.padStart(10);
}
