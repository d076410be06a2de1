/**
 * The offline HTML report (`run --report`): one self-contained file a learner can open without a
 * network, showing the balloon's size over time, the device's states, the DM messages and the
 * commands, with long runs cut to a bounded size and user text escaped.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenarioFile, parseScenario, runScenario, type Scenario, type ScenarioResult } from '../../../actors/scenario/scenario';
import { ReportCollector, type ReportLimits } from '../../../actors/report/report-collector';
import { renderHtmlReport } from '../../../actors/report/html-report';
import { runCommand } from '../../../actors/cli/commands/run';
import { CliError } from '../../../actors/cli/cli-error';

const GiB = 2 ** 30;
const EXAMPLE = join(__dirname, '../../../examples/shrink-and-grow.json');

function report(scenario: Scenario, limits: Partial<ReportLimits> = {}): { html: string; result: ScenarioResult } {
  const collector = new ReportCollector(scenario, limits);
  const { vm, ...result } = runScenario(scenario, collector.wrap({ wallNow: () => 0 }));
  const html = renderHtmlReport(collector.finish(result));
  vm.dispose();
  return { html, result };
}

/** The first `<svg class="...">` element of that class. */
function svg(html: string, cls: string): string {
  const start = html.indexOf(`<svg class="${cls}"`);
  expect(start).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</svg>', start) + 6);
}

/** The linear map from an axis' tick labels (their value -> coordinate), inverted: coordinate -> value. */
function axisInverse(chart: string, cls: 'x-tick' | 'y-tick'): (coordinate: number) => number {
  const attr = cls === 'x-tick' ? 'x' : 'y';
  const ticks = [...chart.matchAll(new RegExp(`<text ([^>]*)class="${cls}"[^>]*>([^<]+)</text>`, 'g'))].map((m) => ({
    at: Number(new RegExp(`\\b${attr}="([^"]+)"`).exec(m[1]!)![1]),
    value: Number(m[2]),
  }));
  expect(ticks.length).toBeGreaterThanOrEqual(2);
  const a = ticks[0]!;
  const b = ticks[ticks.length - 1]!;
  return (c) => a.value + ((c - a.at) * (b.value - a.value)) / (b.at - a.at);
}

/** A series' points in axis units (seconds, GiB), all its polylines joined. */
function series(chart: string, name: string): Array<[number, number]> {
  const toSec = axisInverse(chart, 'x-tick');
  const toGiB = axisInverse(chart, 'y-tick');
  const lines = [...chart.matchAll(new RegExp(`<polyline [^>]*data-series="${name}"[^>]*points="([^"]*)"`, 'g'))];
  return lines.flatMap((m) =>
    m[1]!.split(' ').map((pair) => {
      const [px, py] = pair.split(',').map(Number);
      return [toSec(px!), toGiB(py!)] as [number, number];
    }),
  );
}

/** The value of a step line at time `sec`. */
function valueAt(points: Array<[number, number]>, sec: number): number {
  let v = NaN;
  for (const [t, value] of points) if (t <= sec + 1e-6) v = value;
  return v;
}

/** The rows of the DM message sequence table. */
function sequenceRows(html: string): string[] {
  const start = html.indexOf('<table class="seq">');
  expect(start).toBeGreaterThanOrEqual(0);
  const table = html.slice(start, html.indexOf('</table>', start));
  return [...table.matchAll(/<tr[ >].*?<\/tr>/g)].map((m) => m[0]).slice(1);
}

describe('the HTML report of a run', () => {
  let html: string;
  let result: ScenarioResult;
  beforeAll(() => {
    ({ html, result } = report(loadScenarioFile(EXAMPLE)));
  });

  it('is one self-contained document: no script, no external resource, no link to the network', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/\bsrc=|\bhref=/i);
    expect(html).not.toMatch(/http/i);
    expect(html).toContain('<style>');
  });

  it('opens with the scenario, its times and its final state', () => {
    expect(html).toContain('<h1>shrink and grow</h1>');
    expect(html).toContain('A 4 GiB Linux guest with an 8 GiB memdev: balloon to 2 GiB, then grow past boot size to 10 GiB.');
    expect(html).toContain('2min');
    expect(html).toContain('10 GiB (10240 MiB)');
    expect(html).toContain(`>${result.final.deviceState}<`);
    expect(html).toContain(`>${result.final.guestState}<`);
  });

  it('charts the balloon actual size over virtual time: 4 GiB, shrunk to 2 GiB at 60 s, grown to the final 10 GiB', () => {
    const chart = svg(html, 'chart');
    const actual = series(chart, 'actual');
    expect(valueAt(actual, 30)).toBeCloseTo(4, 2);
    expect(valueAt(actual, 75)).toBeCloseTo(2, 2);
    const [lastSec, lastGiB] = actual[actual.length - 1]!;
    expect(lastSec).toBeCloseTo(120, 2);
    expect(lastGiB).toBeCloseTo(result.final.actualBytes! / GiB, 2);
    // The guest's status reports are lines of their own, and the steps are marked with their commands.
    expect(series(chart, 'available').length).toBeGreaterThan(1);
    expect(series(chart, 'committed').length).toBeGreaterThan(1);
    expect(chart).toMatch(/class="step-label">balloon 2048</);
    expect(chart).toContain('memory (GiB)');
    expect(chart).toContain('virtual time (s)');
  });

  it('draws the device state strip from QEMU trace points: post-init wait, then balloon, then hot-add', () => {
    const strip = svg(html, 'strip');
    const bands = [...strip.matchAll(/<rect x="([^"]+)"[^>]*data-state="([A-Z_]+)"/g)].map((m) => ({ x: Number(m[1]), state: m[2]! }));
    const firstX = (re: RegExp): number => bands.find((b) => re.test(b.state))?.x ?? NaN;
    expect(firstX(/^S_POST_INIT_WAIT$/)).toBeLessThan(firstX(/^S_BALLOON_/));
    expect(firstX(/^S_BALLOON_/)).toBeLessThan(firstX(/^S_UNBALLOON_/));
    expect(firstX(/^S_UNBALLOON_/)).toBeLessThanOrEqual(firstX(/^S_HOT_ADD_/));
    expect(strip).toMatch(/<title>S_HOT_ADD_REPLY_WAIT: 90\.\d+ s – 9\d\.\d+ s/);
  });

  it('lists the DM messages in order with their direction and fields, and counts them per type', () => {
    const rows = sequenceRows(html);
    const total = Object.values(result.messages).reduce((a, b) => a + b, 0);
    expect(rows).toHaveLength(total);
    const balloonRequest = rows.find((r) => r.includes('DM_BALLOON_REQUEST'))!;
    expect(balloonRequest).toContain('host → guest');
    expect(balloonRequest).toContain('numPages=524288');
    expect(balloonRequest).toContain('>60.000<');
    expect(rows.find((r) => r.includes('DM_BALLOON_RESPONSE'))).toContain('guest → host');
    expect(html).toMatch(/<code>DM_BALLOON_REQUEST<\/code><\/td><td class="num">1<\/td><td class="num">0<\/td><td class="num">1<\/td>/);
  });

  it('shows each step with its reply, and summarizes the status-report events', () => {
    expect(html).toContain('<code>balloon 2048</code>');
    expect(html).toContain('{&quot;return&quot;:{&quot;actual&quot;:2147483648}}');
    expect(html).toContain('balloon: actual=10240');
    const statusEvents = result.events.filter((e) => e.event === 'HV_BALLOON_STATUS_REPORT').length;
    expect(html).toContain(`<code>HV_BALLOON_STATUS_REPORT</code>: ${statusEvents} events`);
    expect(html).toContain('hv_balloon: Using Dynamic Memory protocol version 2.0');
  });

  it('is the same document for the same scenario (apart from the wall time)', () => {
    expect(report(loadScenarioFile(EXAMPLE)).html).toBe(html);
  });
});

describe('the report of a long run stays bounded', () => {
  const steps = Array.from({ length: 18 }, (_, i) => ({ at: `${60 + i * 30}s`, hmp: i % 2 === 0 ? 'balloon 2048' : 'balloon 6144' }));
  const scenario = parseScenario({
    name: 'cycles',
    machine: { memory: '4G', maxmem: '44G' },
    device: { memdev: '8G', statusReport: true },
    workload: { kind: 'steady', usedBytes: '1G', churnBytes: '256M', periodMs: '5s' },
    steps,
    until: '10min',
  });

  it('shows the first and the last DM messages with a note of how many were left out', () => {
    const { html, result } = report(scenario);
    const total = Object.values(result.messages).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(400);
    const rows = sequenceRows(html);
    expect(rows).toHaveLength(150 + 1 + 50);
    expect(rows[150]).toContain(`… ${(total - 200).toLocaleString('en-US')} messages left out`);
    expect(rows[0]).toMatch(/^<tr[^>]*><td class="num muted">1<\/td>/);
    expect(rows[rows.length - 1]).toMatch(new RegExp(`^<tr[^>]*><td class="num muted">${total}</td>`));
    // The per-type counts still cover every message.
    expect(html).toContain(`<td>all</td><td class="num">`);
    expect(html).toContain(`<td class="num">${total.toLocaleString('en-US')}</td></tr></tbody>`);
  });

  it('keeps every chart line and the state strip within their limits', () => {
    const limits = { packetHead: 5, packetTail: 3, logHead: 2, logTail: 1, chartColumns: 20, stateRuns: 10 };
    const { html } = report(scenario, limits);
    expect(sequenceRows(html)).toHaveLength(5 + 1 + 3);
    const chart = svg(html, 'chart');
    for (const name of ['actual', 'available', 'committed']) {
      // Three points per column; a step line draws each as two corners, plus its end.
      expect(series(chart, name).length).toBeLessThanOrEqual(2 * 3 * limits.chartColumns + 1);
    }
    const strip = svg(html, 'strip');
    expect((strip.match(/<rect [^>]*fill=/g) ?? []).length).toBeLessThanOrEqual(limits.chartColumns);
    expect(html).toContain('changed state too often to draw every stay');
    // The balloon still shows in the coarse strip, and the table still counts every state.
    expect(strip).toMatch(/data-group="balloon"/);
    expect(html).toMatch(/<code>S_BALLOON_REPLY_WAIT<\/code><\/td><td>balloon<\/td><td class="num">\d+<\/td>/);
  });
});

describe('user text in the report', () => {
  it('escapes HTML special characters in the name, the description and the commands', () => {
    const scenario = parseScenario({
      name: '<script>alert("hi")</script> & co',
      description: "Tags <b>bold</b> & \"quotes\" & 'apostrophes' > here",
      steps: [{ at: '1s', hmp: 'info <x>' }],
      until: '2s',
    });
    const { html } = report(scenario);
    expect(html).not.toMatch(/<script|<b>|<x>/);
    expect(html).toContain('<h1>&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt; &amp; co</h1>');
    expect(html).toContain('Tags &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quotes&quot; &amp; &#39;apostrophes&#39; &gt; here');
    expect(html).toContain('<code>info &lt;x&gt;</code>');
  });
});

describe('run --report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hvb-report-'));
  const io = (): { out: string[]; err: string[]; io: { stdout(t: string): void; stderr(t: string): void } } => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) } };
  };

  it('writes the report beside the normal output (with --json, stdout stays one JSON object)', async () => {
    const file = join(dir, 'out.html');
    const cap = io();
    await runCommand(EXAMPLE, { json: true, report: file }, cap.io);
    expect(JSON.parse(cap.out.join('')).final.actualBytes).toBe(10 * GiB);
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('<h1>shrink and grow</h1>');
  });

  it('refuses a report path it cannot write before running, naming the flag and the path', async () => {
    const scenario = join(dir, 'short.json');
    writeFileSync(scenario, JSON.stringify({ name: 'short', until: '1s' }));
    await expect(runCommand(scenario, { report: join(dir, 'missing', 'r.html') }, io().io)).rejects.toThrow(
      new CliError(`--report: cannot write "${join(dir, 'missing', 'r.html')}": the directory ${join(dir, 'missing')} does not exist`),
    );
    await expect(runCommand(scenario, { report: dir }, io().io)).rejects.toThrow(/--report: ".*" is a directory/);
  });
});
