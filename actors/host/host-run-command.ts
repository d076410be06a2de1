/**
 * `run host.json`: the CLI side of a host scenario — a timeline of decisions and steps, a table of
 * the VMs at the end; `--json` one object with final.host and final.vms; `--report` the charts;
 * `--record` the host overview and every VM's run for the view (`view run.json`).
 */
import { writeFileSync } from 'node:fs';
import { CliError } from '../cli/cli-error';
import type { CliIo } from '../cli/cli-io';
import { loadHostScenarioForCli } from '../cli/scenario-file';
import { formatDuration } from '../units';
import { HostError, type Host } from './create-host';
import type { HostScenario } from './host-config';
import { runHostScenario, type HostSample, type HostScenarioResult } from './host-scenario';
import { renderHostReport } from './host-report';
import type { ViewRecorder } from '../view/view-recorder';
import type { HostRecording } from '../view/host-recording';
import type { HostViewRecorder } from '../view/host/host-view-recorder';

const MAX_TIMELINE_DECISIONS = 400;

/** What `run --json` prints for a host scenario. */
export type HostRunOutput = Omit<HostScenarioResult, 'host'>;

export function runHostCommand(file: string, flags: { json?: boolean; verbose?: boolean; report?: string; record?: string }, io: CliIo): HostRunOutput {
  const scenario = loadHostScenarioForCli(file);
  const show = (line: string): void => {
    if (!flags.json) io.stdout(line + '\n');
  };
  show(`hv-balloon-sim: ${scenario.name} (host ${gib(scenario.memoryBytes)}, ${scenario.vms.length} VMs, policy ${scenario.policy.kind})`);
  if (scenario.description) show(`  ${scenario.description}`);
  show('');
  const samples: HostSample[] = [];
  let shown = 0;
  // --record: one view recorder per VM, from the host's start (every part's first state).
  let recorders: { name: string; recorder: ViewRecorder }[] = [];
  let overview: HostViewRecorder | undefined;
  let result;
  try {
    result = runHostScenario(scenario, {
      ...(flags.record !== undefined
        ? {
            onStart: (host: Host) => {
              // Loaded when asked for, not with every host run.
              const { ViewRecorder: Recorder } = require('../view/view-recorder') as typeof import('../view/view-recorder');
              recorders = host.vms.map((v) => ({ name: v.name, recorder: new Recorder(v.vm) }));
              const { HostViewRecorder: Overview, hostViewInfo } = require('../view/host/host-view-recorder') as typeof import('../view/host/host-view-recorder');
              overview = new Overview(host, hostViewInfo(scenario, host, file));
            },
          }
        : {}),
      onDecision: (d) => {
        if (flags.json) return;
        if (shown++ < MAX_TIMELINE_DECISIONS || flags.verbose) show(`${pad(formatDuration(d.time))} ${d.vm}: target ${gib(d.fromBytes)} -> ${gib(d.toBytes)} (${d.reason})`);
      },
      onStep: (s) => {
        recorders.find((r) => r.name === s.vm)?.recorder.step(s);
        overview?.step(s);
        show(`${pad(formatDuration(s.at))} ${s.vm}: ${typeof s.command === 'string' ? s.command : JSON.stringify(s.command)} -> ${typeof s.reply === 'string' ? s.reply || 'ok' : JSON.stringify(s.reply)}`);
      },
      ...(flags.report !== undefined ? { onSample: (s: HostSample) => samples.push(s) } : {}),
    });
  } catch (err) {
    if (err instanceof HostError) throw new CliError(err.message);
    throw err;
  }
  const { host, ...plain } = result;
  const recording = flags.record === undefined ? undefined : hostRecording(scenario, file, recorders, plain.virtualTimeMs, overview);
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
  if (recording !== undefined && flags.record !== undefined) {
    try {
      writeFileSync(flags.record, JSON.stringify(recording));
    } catch (err) {
      throw new CliError(`--record: cannot write "${flags.record}" (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    show(`\nrecorded: ${flags.record} (replay it with: hv-balloon-sim view ${flags.record}; one VM's detail: --vm <name>; VMs: ${recording.vms.map((v) => v.name).join(', ')})`);
  }
  return plain;
}

/** Every VM's recording, as `run <scenario> --record` makes one for a single VM; the recorders are done after it. */
function hostRecording(scenario: HostScenario, file: string, recorders: { name: string; recorder: ViewRecorder }[], endMs: number, overview: HostViewRecorder | undefined): HostRecording {
  const { makeRecording } = require('../view/view-source') as typeof import('../view/view-source');
  const { HOST_RECORDING_FORMAT } = require('../view/host-recording') as typeof import('../view/host-recording');
  const vms = recorders.map(({ name, recorder }) => {
    recorder.sampleMemory();
    const recording = makeRecording(recorder, { name: `${scenario.name}: ${name}`, source: file, untilMs: scenario.until }, endMs);
    recorder.dispose();
    return { name, recording };
  });
  // The overview ends with the host as it is at the end (between two of its samples).
  overview?.catchUp();
  const model = overview?.model.toJSON();
  overview?.dispose();
  return { format: HOST_RECORDING_FORMAT, version: 1, host: { name: scenario.name, ...(scenario.description ? { description: scenario.description } : {}), source: file }, vms, ...(model ? { overview: model } : {}) };
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
