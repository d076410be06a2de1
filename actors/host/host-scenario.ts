/**
 * Running a host scenario: build the host, run the steps at their times, sample each VM and the
 * host for the report's charts, and collect what `run --json` prints: final.host and final.vms,
 * the policy's decisions (each with its reason) and the steps' replies.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { QmpReply } from '../qmp/qmp-types';
import { createHost, type CreateHostOptions, type Host, type HostDecisionRecord, type HostState, type HostVmState } from './create-host';
import { HostScenarioError, parseHostScenario, type HostScenario, type ParseHostOptions } from './host-config';

export interface HostStepResult {
  at: number;
  vm: string;
  command: string | Record<string, unknown>;
  reply: QmpReply | string;
}

/** One sample of every VM and of the host (the report's time series). */
export interface HostSample {
  t: number;
  host: { assignedBytes: number; demandBytes: number; residentBytes: number; freeBytes: number };
  /** Per VM, in `vms` order: assigned, demand (0 before a report), target, guest swapped bytes. */
  vms: [number, number, number, number][];
}

export interface HostScenarioResult {
  scenario: string;
  kind: 'host';
  virtualTimeMs: number;
  wallTimeMs: number;
  policy: { kind: string; state: string; decisions: number; rejections: number };
  steps: HostStepResult[];
  decisions: HostDecisionRecord[];
  rejections: { time: number; reason: string }[];
  final: { host: HostState; vms: HostVmState[] };
}

export interface RunHostScenarioOptions extends CreateHostOptions {
  onStart?: (host: Host) => void;
  onProgress?: (virtualMs: number, untilMs: number) => void;
  onDecision?: (d: HostDecisionRecord) => void;
  onStep?: (s: HostStepResult) => void;
  /** Collect the time series (for --report). */
  onSample?: (s: HostSample) => void;
  wallNow?: () => number;
}

/** Reads a host scenario file. */
export function loadHostScenarioFile(path: string, options: ParseHostOptions = {}): HostScenario {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new HostScenarioError('(file)', code ? `${path}: cannot read the scenario file (${code})` : `${path}: not valid JSON (${(err as Error).message})`);
  }
  const scenario = parseHostScenario(json, path, options);
  if ((json as { name?: unknown }).name === undefined) scenario.name = basename(path).replace(/\.json$/i, '');
  return { ...scenario, source: path };
}

export function runHostScenario(scenario: HostScenario, options: RunHostScenarioOptions = {}): HostScenarioResult & { host: Host } {
  const wallNow = options.wallNow ?? (() => performance.now());
  const started = wallNow();
  const host = createHost(scenario, options);
  options.onStart?.(host);
  const decisions: HostDecisionRecord[] = [];
  const rejections: { time: number; reason: string }[] = [];
  host.decisions$.subscribe((d) => {
    decisions.push(d);
    options.onDecision?.(d);
  });
  host.rejections$.subscribe((r) => rejections.push(r));
  if (options.onSample) {
    const sample = (): void => options.onSample!(takeSample(host));
    sample();
    const every = (): void => {
      host.clock.setTimeout(() => {
        sample();
        every();
      }, scenario.sampleMs);
    };
    every();
  }
  const steps: HostStepResult[] = [];
  const advanceTo = (t: number): void => {
    const chunk = Math.max(1000, scenario.until / 200);
    while (host.now() < t) {
      host.runUntil(Math.min(t, host.now() + chunk));
      options.onProgress?.(host.now(), scenario.until);
    }
  };
  for (const step of scenario.steps) {
    advanceTo(step.at);
    const reply = host.runStep(step);
    const result: HostStepResult = { at: step.at, vm: step.vm, command: 'hmp' in step ? step.hmp : step.qmp, reply };
    steps.push(result);
    options.onStep?.(result);
  }
  advanceTo(scenario.until);
  return {
    scenario: scenario.name,
    kind: 'host',
    virtualTimeMs: host.now(),
    wallTimeMs: Math.round(wallNow() - started),
    policy: { kind: host.policyKind, state: host.policyState(), decisions: decisions.filter((d) => d.by === 'policy').length, rejections: rejections.length },
    steps,
    decisions,
    rejections,
    final: { host: host.hostState(), vms: host.vmStates() },
    host,
  };
}

function takeSample(host: Host): HostSample {
  const vms = host.vmStates();
  const h = host.hostState();
  return {
    t: host.now(),
    host: {
      assignedBytes: h.assignedBytes,
      demandBytes: vms.reduce((sum, v) => sum + (v.demandBytes ?? 0), 0),
      residentBytes: h.residentBytes,
      freeBytes: h.freeBytes,
    },
    vms: vms.map((v) => [v.assignedBytes, v.demandBytes ?? 0, v.targetBytes, v.guestSwappedBytes]),
  };
}
