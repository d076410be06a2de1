/**
 * The offline HTML report of a run (`run --report`): one self-contained file — inline CSS and SVG,
 * no script, no font, no link to anything — so it opens anywhere, without a network. It is a pure
 * function of the collected data: the same run gives the same bytes, apart from the wall time.
 */
import { HV_BALLOON_STATE_NAMES } from '../../machines/hv-balloon-device/states';
import { formatDuration } from '../units';
import type { ScenarioStepResult } from '../scenario/scenario';
import { STATE_GROUPS, stateGroup, type BoundedRows, type ReportData, type SeriesPoint, type StateGroup, type StateTimeline, type TimedText } from './report-data';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

const GROUP_COLOURS: Record<StateGroup, string> = {
  reset: '#9a9996',
  init: '#9141ac',
  idle: '#d8d6d2',
  balloon: '#e5a50a',
  unballoon: '#2ec27e',
  'hot-add': '#3584e4',
};
const GROUP_TEXT: Record<StateGroup, string> = {
  reset: 'reset (S_WAIT_RESET, S_POST_RESET_CLOSED)',
  init: 'init (S_VERSION, S_CAPS, S_POST_INIT_WAIT)',
  idle: 'idle (S_IDLE)',
  balloon: 'balloon (S_BALLOON_*)',
  unballoon: 'unballoon (S_UNBALLOON_*)',
  'hot-add': 'hot-add (S_HOT_ADD_*)',
};
const SERIES = {
  actual: { colour: '#1a5fb4', label: 'balloon actual (query-balloon)' },
  available: { colour: '#26a269', label: 'guest available (status reports)' },
  committed: { colour: '#c64600', label: 'guest committed (status reports)' },
  guestAvailable: { colour: '#26a269', label: 'guest MemAvailable (sampled)' },
  guestCommitted: { colour: '#c64600', label: 'guest Committed_AS (sampled)' },
} as const;

/** The chart geometry (SVG user units); the state strip shares the x axis. */
const W = 1160;
const LEFT = 72;
const RIGHT = 24;
const PLOT_W = W - LEFT - RIGHT;
const LABEL_ROW_H = 15;

/** Text for HTML content and attribute values: & < > " ' escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
const esc = escapeHtml;

/** The report as one HTML document. */
export function renderHtmlReport(data: ReportData): string {
  const endMs = Math.max(1, data.result.virtualTimeMs);
  const x = (t: number): number => LEFT + (Math.min(Math.max(t, 0), endMs) / endMs) * PLOT_W;
  const title = `hv-balloon-sim report: ${data.scenario.name}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    header(data),
    failures(data.failures),
    section('Memory over virtual time', memoryChart(data, endMs, x)),
    section('Device state (QEMU hv-balloon)', stateStrip(data.states, endMs, x)),
    section('Steps', stepsTable(data.result.steps)),
    section('DM messages', messagesSection(data)),
    section('QMP events', eventsSection(data)),
    section('QEMU warnings', logTable(data.warnings, 'warning', 'No warnings')),
    section('Guest kernel log', guestLogSection(data)),
    configSection(data),
    `<footer>Written by <code>hv-balloon-sim run --report</code>. Virtual time is the simulation's clock; the same scenario and seed give the same report apart from the wall time.</footer>`,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

// ---- header ---------------------------------------------------------------------------------------

function header(data: ReportData): string {
  const r = data.result;
  const total = data.packets.counts.reduce((sum, c) => sum + c.hostToGuest + c.guestToHost, 0);
  const facts: Array<[string, string]> = [
    ['virtual time', formatDuration(r.virtualTimeMs)],
    ['wall time', `${r.wallTimeMs} ms`],
    ['final balloon actual', r.final.actualBytes === null ? '(no balloon device)' : `${bytesText(r.final.actualBytes)} (${r.final.actualBytes / MiB} MiB)`],
    ['device state', r.final.deviceState ?? '(none)'],
    ['guest driver state', r.final.guestState ?? '(none)'],
    ['DM messages', group3(total)],
    ['status reports', group3(data.statusReports.count)],
    ['QEMU warnings', group3(data.warnings.head.length + data.warnings.tail.length + data.warnings.omitted)],
  ];
  return [
    `<h1>${esc(data.scenario.name)}</h1>`,
    data.scenario.description === undefined ? '' : `<p class="desc">${esc(data.scenario.description)}</p>`,
    data.scenario.source === undefined ? '' : `<p class="muted">scenario file: <code>${esc(data.scenario.source)}</code></p>`,
    '<div class="facts">',
    ...facts.map(([k, v]) => `<div class="fact"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div></div>`),
    '</div>',
  ].join('\n');
}

function failures(list: TimedText[]): string {
  if (list.length === 0) return '';
  const rows = list.map((f) => `<li>${secs(f.time)} s: ${esc(f.text)}</li>`).join('');
  return `<div class="failure"><strong>The simulation stopped: a part failed.</strong> Every later command reported it.<ul>${rows}</ul></div>`;
}

function section(title: string, body: string): string {
  return `<section>\n<h2>${esc(title)}</h2>\n${body}\n</section>`;
}

// ---- memory chart ---------------------------------------------------------------------------------

interface Line {
  key: keyof typeof SERIES;
  points: SeriesPoint[];
  step: boolean;
  dashed: boolean;
}

function memoryChart(data: ReportData, endMs: number, x: (t: number) => number): string {
  const lines: Line[] = [];
  if (data.actual.length > 0) lines.push({ key: 'actual', points: data.actual, step: true, dashed: false });
  if (data.statusReports.count > 0) {
    lines.push({ key: 'available', points: data.statusReports.available, step: false, dashed: false });
    lines.push({ key: 'committed', points: data.statusReports.committed, step: false, dashed: false });
  } else if (data.guestMemory.available.length > 0) {
    // Without status reports QEMU does not know the guest's memory; the guest's own counters stand in, marked as such.
    lines.push({ key: 'guestAvailable', points: data.guestMemory.available, step: false, dashed: true });
    lines.push({ key: 'guestCommitted', points: data.guestMemory.committed, step: false, dashed: true });
  }
  if (lines.length === 0) return '<p class="muted">Nothing to plot: the VM has no hv-balloon device.</p>';

  const maxBytes = Math.max(...lines.flatMap((l) => l.points.map((p) => p[1]).filter((b) => !Number.isNaN(b))), 1);
  const yTicks = niceTicks((maxBytes / GiB) * 1.04, 7);
  const yTop = yTicks[yTicks.length - 1]!;
  const markers = layoutMarkers(data.result.steps, x);
  const labelRows = Math.max(1, ...markers.map((m) => m.row + 1));
  const top = 12 + labelRows * LABEL_ROW_H;
  const plotH = 320;
  const height = top + plotH + 46;
  const y = (bytes: number): number => top + plotH - (bytes / GiB / yTop) * plotH;

  const parts: string[] = [];
  parts.push(`<svg class="chart" viewBox="0 0 ${W} ${height}" role="img" aria-label="balloon actual size and guest memory over virtual time">`);
  parts.push(`<rect x="${LEFT}" y="${top}" width="${PLOT_W}" height="${plotH}" class="plot-bg"/>`);
  for (const v of yTicks) {
    const yy = n(y(v * GiB));
    parts.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${yy}" y2="${yy}" class="grid"/>`);
    parts.push(`<text x="${LEFT - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle" class="y-tick">${num(v)}</text>`);
  }
  parts.push(xAxis(endMs, x, top + plotH, top));
  parts.push(
    `<text x="16" y="${n(top + plotH / 2)}" transform="rotate(-90 16 ${n(top + plotH / 2)})" text-anchor="middle" class="axis-title">memory (GiB)</text>`,
  );
  parts.push(drawMarkers(markers, x, top, plotH));
  // The balloon's own line last, on top of the guest's.
  for (const line of [...lines].reverse()) {
    const s = SERIES[line.key];
    const attrs = `class="series${line.key === 'actual' ? ' actual' : ''}" data-series="${line.key}" stroke="${s.colour}"${line.dashed ? ' stroke-dasharray="6 4"' : ''}`;
    for (const segment of segments(line.points)) {
      const pts = line.step ? stepPoints(segment, endMs) : segment;
      parts.push(`<polyline ${attrs} points="${pts.map(([t, b]) => `${n(x(t))},${n(y(b))}`).join(' ')}"><title>${esc(s.label)}</title></polyline>`);
    }
  }
  parts.push('</svg>');

  const legend = lines.map((l) => {
    const s = SERIES[l.key];
    return `<span><i class="sw${l.dashed ? ' dashed' : ''}" style="background:${s.colour}"></i>${esc(s.label)}</span>`;
  });
  legend.push('<span><i class="sw step"></i>a step of the scenario (HMP/QMP command)</span>');
  const note =
    data.statusReports.count === 0 && data.guestMemory.available.length > 0
      ? '<p class="muted">No status reports in this run (the device has status-report off, or the guest had not sent one): the dashed lines are the guest kernel\'s own counters, which QEMU does not see.</p>'
      : '';
  return `<div class="legend">${legend.join('')}</div>\n${parts.join('\n')}\n${note}`;
}

/** The runs of points between breaks (a NaN value: the series stopped, e.g. at a reset). */
function segments(points: SeriesPoint[]): SeriesPoint[][] {
  const out: SeriesPoint[][] = [[]];
  for (const p of points) {
    if (Number.isNaN(p[1])) out.push([]);
    else out[out.length - 1]!.push(p);
  }
  return out.filter((seg) => seg.length > 0);
}

/** A step line: each value holds until the next point, the last one until the end. */
function stepPoints(points: SeriesPoint[], endMs: number): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  points.forEach((p, i) => {
    if (i > 0) out.push([p[0], points[i - 1]![1]]);
    out.push(p);
  });
  const last = points[points.length - 1];
  if (last && last[0] < endMs) out.push([endMs, last[1]]);
  return out;
}

function xAxis(endMs: number, x: (t: number) => number, axisY: number, gridTop: number | null): string {
  const parts: string[] = [];
  parts.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${axisY}" y2="${axisY}" class="axis"/>`);
  for (const s of niceTicks(endMs / 1000, 12).filter((v) => v * 1000 <= endMs * (1 + 1e-9))) {
    const xx = n(x(s * 1000));
    if (gridTop !== null) parts.push(`<line x1="${xx}" x2="${xx}" y1="${gridTop}" y2="${axisY}" class="grid"/>`);
    parts.push(`<line x1="${xx}" x2="${xx}" y1="${axisY}" y2="${axisY + 5}" class="axis"/>`);
    parts.push(`<text x="${xx}" y="${axisY + 18}" text-anchor="middle" class="x-tick">${num(s)}</text>`);
  }
  parts.push(`<text x="${LEFT + PLOT_W / 2}" y="${axisY + 36}" text-anchor="middle" class="axis-title">virtual time (s)</text>`);
  return parts.join('\n');
}

/** More step markers than this: short ticks on the plot's top edge instead of full-height lines, and one label row. */
const DENSE_MARKERS = 60;

interface Marker {
  at: number;
  /** Every command given at this time (or at times that fall on the same pixel). */
  commands: string[];
  label: string;
  toRight: boolean;
  /** Label row counted up from the plot's top edge; -1 = no room, only with many steps (the line's tooltip still says it). */
  row: number;
}

/** The steps grouped by pixel column, their labels placed in rows so that none overlap. */
function layoutMarkers(steps: ScenarioStepResult[], x: (t: number) => number): Marker[] {
  const markers: Marker[] = [];
  for (const step of steps) {
    const last = markers[markers.length - 1];
    const text = commandText(step.command);
    if (last && Math.round(x(last.at)) === Math.round(x(step.at))) last.commands.push(text);
    else markers.push({ at: step.at, commands: [text], label: '', toRight: true, row: -1 });
  }
  // Every label gets a row where it overlaps none (as many rows as that takes); only a dense run
  // of steps keeps one row, and its labels that do not fit live in the lines' tooltips.
  const rows = markers.length > DENSE_MARKERS ? 1 : markers.length;
  const taken: Array<Array<[number, number]>> = Array.from({ length: rows }, () => []);
  for (const m of markers) {
    const xx = x(m.at);
    m.label = markerLabel(m.commands);
    const width = m.label.length * 6.2 + 4;
    m.toRight = xx + width <= LEFT + PLOT_W + RIGHT;
    const span: [number, number] = m.toRight ? [xx, xx + width] : [xx - width, xx];
    m.row = taken.findIndex((spans) => spans.every(([a, b]) => span[1] + 4 < a || span[0] > b + 4));
    if (m.row >= 0) taken[m.row]!.push(span);
  }
  return markers;
}

/** Dashed lines (or ticks, when there are many) at the steps' times, labelled above the plot. */
function drawMarkers(markers: Marker[], x: (t: number) => number, top: number, plotH: number): string {
  const dense = markers.length > DENSE_MARKERS;
  const parts: string[] = [];
  for (const m of markers) {
    const xx = n(x(m.at));
    const shown = m.commands.length > 6 ? [...m.commands.slice(0, 5), `… ${m.commands.length - 5} more`] : m.commands;
    const tip = `<title>${esc(`${secs(m.at)} s: ${shown.join(' · ')}`)}</title>`;
    const lineTop = m.row < 0 ? top : top - 4 - m.row * LABEL_ROW_H;
    const lineBottom = dense ? top + 8 : top + plotH;
    parts.push(`<line x1="${xx}" x2="${xx}" y1="${lineTop}" y2="${lineBottom}" class="step">${tip}</line>`);
    if (m.row < 0) continue;
    const ty = top - 6 - m.row * LABEL_ROW_H;
    parts.push(`<text x="${n(m.toRight ? x(m.at) + 3 : x(m.at) - 3)}" y="${ty}" text-anchor="${m.toRight ? 'start' : 'end'}" class="step-label">${esc(m.label)}${tip}</text>`);
  }
  return parts.join('\n');
}

/**
 * A marker's label: the commands that change the VM first (balloon, system_reset, ...), then the
 * queries, whole commands only, as many as fit in 44 characters, then "+N more" (the tooltip lists all).
 */
function markerLabel(commands: readonly string[]): string {
  const isQuery = (c: string): boolean => /^(info |query-|x-sim-(time|counters))/.test(c);
  const ordered = [...commands.filter((c) => !isQuery(c)), ...commands.filter(isQuery)];
  const shown: string[] = [];
  for (const c of ordered) {
    const rest = ordered.length - shown.length - 1;
    const next = [...shown, c].join(' · ') + (rest > 0 ? ` · +${rest} more` : '');
    if (shown.length > 0 && next.length > 44) break;
    shown.push(c);
  }
  const more = ordered.length - shown.length;
  const text = shown.join(' · ') + (more > 0 ? ` · +${more} more` : '');
  // A single very long command is cut, never silently dropped.
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

function commandText(command: string | Record<string, unknown>): string {
  if (typeof command === 'string') return command;
  const exec = typeof command.execute === 'string' ? command.execute : JSON.stringify(command);
  return command.arguments === undefined ? exec : `${exec} ${JSON.stringify(command.arguments)}`;
}

// ---- state strip ----------------------------------------------------------------------------------

function stateStrip(states: StateTimeline | null, endMs: number, x: (t: number) => number): string {
  if (states === null) return '<p class="muted">The VM has no hv-balloon device.</p>';
  const top = 6;
  const h = 40;
  const height = top + h + 46;
  const parts: string[] = [];
  parts.push(`<svg class="strip" viewBox="0 0 ${W} ${height}" role="img" aria-label="the device's QEMU state over virtual time">`);
  parts.push(`<rect x="${LEFT}" y="${top}" width="${PLOT_W}" height="${h}" class="plot-bg"/>`);
  parts.push(`<text x="${LEFT - 8}" y="${top + h / 2}" text-anchor="end" dominant-baseline="middle" class="axis-title">state</text>`);
  if (states.runs !== null) {
    for (const run of states.runs) {
      const group = stateGroup(run.state);
      const x0 = x(run.start);
      const w = Math.max(1, x(run.end) - x0);
      const tip = `${run.state}: ${secs(run.start)} s – ${secs(run.end)} s (${formatDuration(run.end - run.start)})`;
      parts.push(`<rect x="${n(x0)}" y="${top}" width="${n(w)}" height="${h}" fill="${GROUP_COLOURS[group]}" data-state="${run.state}"><title>${esc(tip)}</title></rect>`);
      const label = w > run.state.length * 6.2 + 8 ? run.state : w > group.length * 6.5 + 8 ? group : '';
      if (label) parts.push(`<text x="${n(x0 + w / 2)}" y="${top + h / 2 + 4}" text-anchor="middle" class="band-label">${esc(label)}</text>`);
    }
  } else {
    // Too many stays to draw one by one: each column shows its busiest group (idle only if nothing else).
    const columnMs = endMs / states.bins.length;
    let i = 0;
    while (i < states.bins.length) {
      const group = states.bins[i];
      let j = i + 1;
      while (j < states.bins.length && states.bins[j] === group) j++;
      if (group) {
        const x0 = x(i * columnMs);
        const tip = `${group}: ${secs(i * columnMs)} s – ${secs(j * columnMs)} s`;
        parts.push(`<rect x="${n(x0)}" y="${top}" width="${n(Math.max(1, x(j * columnMs) - x0))}" height="${h}" fill="${GROUP_COLOURS[group]}" data-group="${group}"><title>${esc(tip)}</title></rect>`);
      }
      i = j;
    }
  }
  parts.push(xAxis(endMs, x, top + h, null));
  parts.push('</svg>');

  const legend = STATE_GROUPS.map((g) => `<span><i class="sw box" style="background:${GROUP_COLOURS[g]}"></i>${esc(GROUP_TEXT[g])}</span>`).join('');
  const note =
    states.runs === null
      ? '<p class="muted">The device changed state too often to draw every stay: each column of the strip shows the group other than idle it spent most time in there (idle when it did nothing else). The table below counts every state.</p>'
      : '<p class="muted">From QEMU\'s <code>hv_balloon_state_change</code> trace points. States passed through in no time are drawn 1 unit wide; hover a band for its state and times.</p>';
  const order = (s: string): number => (HV_BALLOON_STATE_NAMES as readonly string[]).indexOf(s);
  const rows = [...states.perState]
    .sort((a, b) => order(a.state) - order(b.state))
    .map(
      (s) =>
        `<tr><td><i class="sw box" style="background:${GROUP_COLOURS[s.group]}"></i><code>${s.state}</code></td><td>${s.group}</td><td class="num">${group3(s.entries)}</td><td class="num">${secs(s.ms)}</td><td class="num">${((s.ms / endMs) * 100).toFixed(1)}%</td></tr>`,
    );
  const table = `<table class="narrow"><thead><tr><th>state</th><th>group</th><th class="num">entered</th><th class="num">time in it (s)</th><th class="num">share of the run</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  return `<div class="legend">${legend}</div>\n${parts.join('\n')}\n${note}\n${table}`;
}

// ---- steps, messages, events, logs ----------------------------------------------------------------

function stepsTable(steps: ScenarioStepResult[]): string {
  if (steps.length === 0) return '<p class="muted">The scenario has no steps.</p>';
  const rows = steps.map((s) => {
    const cmd = typeof s.command === 'string' ? `<span class="tag">HMP</span> <code>${esc(s.command)}</code>` : `<span class="tag">QMP</span> <code>${esc(JSON.stringify(s.command))}</code>`;
    const replyText = typeof s.reply === 'string' ? s.reply.trimEnd() : JSON.stringify(s.reply);
    const isError = typeof s.reply !== 'string' && 'error' in s.reply;
    const reply = replyText === '' ? '<span class="muted">(no output)</span>' : `<pre${isError ? ' class="err"' : ''}>${esc(replyText)}</pre>`;
    return `<tr><td class="num time">${secs(s.at)}</td><td>${cmd}</td><td>${reply}</td></tr>`;
  });
  return `<table><thead><tr><th class="num time">time (s)</th><th>command</th><th>reply</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function messagesSection(data: ReportData): string {
  const p = data.packets;
  const total = p.counts.reduce((sum, c) => sum + c.hostToGuest + c.guestToHost, 0);
  if (total === 0) return '<p class="muted">No DM message crossed the channel.</p>';
  const countRows = p.counts.map(
    (c) => `<tr><td><code>${esc(c.type)}</code></td><td class="num">${group3(c.hostToGuest)}</td><td class="num">${group3(c.guestToHost)}</td><td class="num">${group3(c.hostToGuest + c.guestToHost)}</td></tr>`,
  );
  const h2g = p.counts.reduce((sum, c) => sum + c.hostToGuest, 0);
  countRows.push(`<tr class="total"><td>all</td><td class="num">${group3(h2g)}</td><td class="num">${group3(total - h2g)}</td><td class="num">${group3(total)}</td></tr>`);
  const counts = `<table class="narrow"><thead><tr><th>type</th><th class="num">host → guest</th><th class="num">guest → host</th><th class="num">total</th></tr></thead><tbody>${countRows.join('')}</tbody></table>`;

  const shown = p.head.length + p.tail.length;
  const row = (r: (typeof p.head)[number], index: number): string => {
    const dir = r.from === 'host' ? '<span class="h2g">host → guest</span>' : '<span class="g2h">guest → host</span>';
    return `<tr data-type="${esc(r.type)}"${r.type === 'DM_STATUS_REPORT' ? ' class="status"' : ''}><td class="num muted">${index}</td><td class="num">${secs(r.time)}</td><td>${dir}</td><td><code>${esc(r.type)}</code></td><td class="num">${r.transId}</td><td class="num">${r.size}</td><td class="mono fields">${esc(r.fields)}</td></tr>`;
  };
  const rows = p.head.map((r, i) => row(r, i + 1));
  if (p.omitted > 0) {
    rows.push(`<tr class="gap"><td colspan="7">… ${group3(p.omitted)} messages left out (${group3(p.head.length + 1)} to ${group3(p.head.length + p.omitted)}) …</td></tr>`);
  }
  const tailStart = total - p.tail.length + 1;
  rows.push(...p.tail.map((r, i) => row(r, tailStart + i)));
  const summary =
    p.omitted > 0
      ? `The first ${group3(p.head.length)} and the last ${group3(p.tail.length)} of ${group3(total)} messages (${group3(p.omitted)} left out; the counts above cover them all)`
      : `All ${group3(shown)} messages`;
  const table = `<table class="seq"><thead><tr><th class="num">#</th><th class="num">time (s)</th><th>direction</th><th>type</th><th class="num">transId</th><th class="num">bytes</th><th class="fields">fields (ranges: count, pages, first start+count)</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  return `<h3>Per type</h3>\n${counts}\n<h3>Sequence</h3>\n${typeFilter(p.counts)}\n<details open><summary>${summary}</summary>\n${table}\n</details>`;
}

/**
 * Hide the rows of a type with one click, without a script (the report has none): a checkbox per
 * type, and a CSS rule that hides that type's rows while it is checked.
 */
function typeFilter(counts: ReportData['packets']['counts']): string {
  if (counts.length < 2) return '';
  const id = (type: string): string => `hide-${type.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  // Status reports first: they are most of a long run's rows.
  const ordered = [...counts.filter((c) => c.type === 'DM_STATUS_REPORT'), ...counts.filter((c) => c.type !== 'DM_STATUS_REPORT')];
  const rules = ordered.map((c) => `#${id(c.type)}:checked ~ details tr[data-type="${esc(c.type)}"] { display: none; }`).join('\n');
  const boxes = ordered.map((c) => {
    const name = c.type === 'DM_STATUS_REPORT' ? 'status reports' : c.type;
    return `<input type="checkbox" class="filter" id="${id(c.type)}"><label for="${id(c.type)}" class="filter">${esc(name)} (${group3(c.hostToGuest + c.guestToHost)})</label>`;
  });
  return `<style>${rules}</style>\n<span class="muted">click to hide:</span> ${boxes.join(' ')}`;
}

function eventsSection(data: ReportData): string {
  const sr = data.statusReports;
  let status: string;
  if (sr.count === 0) status = '<p>No <code>HV_BALLOON_STATUS_REPORT</code> events.</p>';
  else {
    const first = (s: SeriesPoint[]): SeriesPoint => s.find((p) => !Number.isNaN(p[1]))!;
    const last = (s: SeriesPoint[]): SeriesPoint => [...s].reverse().find((p) => !Number.isNaN(p[1]))!;
    status =
      `<p><code>HV_BALLOON_STATUS_REPORT</code>: ${group3(sr.count)} events (QEMU sends at most one a second), plotted in the chart above. ` +
      `First at ${secs(first(sr.available)[0])} s: committed ${bytesText(first(sr.committed)[1])}, available ${bytesText(first(sr.available)[1])}; ` +
      `last at ${secs(last(sr.available)[0])} s: committed ${bytesText(last(sr.committed)[1])}, available ${bytesText(last(sr.available)[1])}.</p>`;
  }
  const ev = data.events;
  const other =
    ev.head.length + ev.tail.length === 0
      ? '<p class="muted">No other QMP events.</p>'
      : boundedTable(ev, 'event', (r) => `<td><code>${esc(r.event)}</code></td><td class="mono">${esc(r.text)}</td>`, ['event', 'data']);
  return `${status}\n${other}`;
}

function guestLogSection(data: ReportData): string {
  const log = data.guestLog;
  const table = logTable(log, 'line', 'No log lines');
  const debug = log.debugLines > 0 ? `<p class="muted">${group3(log.debugLines)} debug-level lines not shown (<code>run --verbose</code> prints them).</p>` : '';
  return `${table}\n${debug}`;
}

function logTable(rows: BoundedRows<TimedText>, what: string, none: string): string {
  if (rows.head.length + rows.tail.length === 0) return `<p class="muted">${esc(none)}.</p>`;
  const tag = (t: string): string => `<span class="tag${/^[a-z]+$/.test(t) ? ` ${t}` : ''}">${esc(t)}</span> `;
  return boundedTable(rows, what, (r) => `<td class="mono">${r.tag ? tag(r.tag) : ''}${esc(r.text)}</td>`, [what]);
}

function boundedTable<T extends { time: number }>(rows: BoundedRows<T>, what: string, cells: (row: T) => string, headings: string[]): string {
  const row = (r: T): string => `<tr><td class="num time">${secs(r.time)}</td>${cells(r)}</tr>`;
  const body = rows.head.map(row);
  if (rows.omitted > 0) body.push(`<tr class="gap"><td colspan="${headings.length + 1}">… ${group3(rows.omitted)} ${what}s left out …</td></tr>`);
  body.push(...rows.tail.map(row));
  return `<table><thead><tr><th class="num time">time (s)</th>${headings.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}

function configSection(data: ReportData): string {
  const until = formatDuration(data.scenario.untilMs);
  return `<section>\n<h2>VM configuration</h2>\n<details><summary>the scenario's VM fields (run until ${esc(until)})</summary><pre>${esc(JSON.stringify(data.scenario.vm, null, 2))}</pre></details>\n</section>`;
}

// ---- numbers --------------------------------------------------------------------------------------

/** Up to `target` round tick values from 0 to at least `max` (steps of 1, 2, 2.5 or 5 times a power of ten). */
export function niceTicks(max: number, target: number): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag;
  const ticks: number[] = [];
  for (let i = 0; ; i++) {
    const v = Number((i * step).toPrecision(12));
    ticks.push(v);
    if (v >= max - step * 1e-9) break;
  }
  return ticks;
}

/** A coordinate with two decimals. */
function n(v: number): string {
  return String(Math.round(v * 100) / 100);
}

function num(v: number): string {
  return String(Number(v.toPrecision(12)));
}

function secs(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function bytesText(bytes: number): string {
  if (Math.abs(bytes) >= GiB) return `${num(Math.round((bytes / GiB) * 100) / 100)} GiB`;
  return `${num(Math.round((bytes / MiB) * 10) / 10)} MiB`;
}

/** 1234567 -> "1,234,567" (fixed, whatever the locale). */
function group3(v: number): string {
  return String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const CSS = `
input.filter { position: absolute; opacity: 0; pointer-events: none; }
label.filter { display: inline-block; white-space: nowrap; font-size: 12.5px; cursor: pointer; border: 1px solid #c0bfbc; border-radius: 10px; padding: 0 8px; margin: 2px 2px; }
input.filter:checked + label.filter { background: #3d3846; color: #fff; border-color: #3d3846; text-decoration: line-through; }
input.filter:focus-visible + label.filter { outline: 2px solid #1a5fb4; }
:root { --fg: #1d1d1f; --muted: #6b6b70; --line: #e3e3e6; --soft: #f6f6f7; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1220px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 6px; }
h2 { font-size: 18px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
p { margin: 6px 0; }
.desc { font-size: 15px; max-width: 900px; }
.muted { color: var(--muted); }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 10px; margin-top: 14px; }
.fact { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.fact .k { color: var(--muted); font-size: 12px; }
.fact .v { font-size: 16px; font-weight: 600; overflow-wrap: anywhere; }
.failure { margin: 16px 0; padding: 10px 14px; border: 1px solid #c01c28; background: #fdeeee; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 4px 0 8px; }
table.narrow { width: auto; min-width: 520px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 600; border-top: 2px solid var(--line); }
tr.gap td { text-align: center; color: var(--muted); background: #fff8e1; font-style: italic; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12px; }
pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
pre.err { color: #c01c28; }
td.fields { overflow-wrap: anywhere; }
th.fields { width: 55%; }
.time { width: 1%; }
tr.status td { color: #77767b; }
tr.status td span { color: inherit; }
.tag { display: inline-block; font-size: 11px; padding: 0 5px; border-radius: 3px; background: #e8e8ea; color: #444; }
.tag.warn { background: #fdf0c4; color: #6b4b00; }
.tag.error, .tag.misbehaviour { background: #fadcdc; color: #8a1520; }
.h2g { color: #1a5fb4; white-space: nowrap; }
.g2h { color: #a51d2d; white-space: nowrap; }
details summary { cursor: pointer; color: #1a5fb4; margin: 4px 0; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 20px; font-size: 13px; margin: 4px 0 6px; }
.sw { display: inline-block; width: 20px; height: 4px; vertical-align: middle; margin-right: 6px; border-radius: 2px; }
.sw.box { width: 12px; height: 12px; border-radius: 2px; }
.sw.dashed { background-image: linear-gradient(90deg, transparent 60%, #fff 60%) !important; background-size: 8px 4px; }
.sw.step { height: 14px; width: 0; border-left: 2px dashed #77767b; border-radius: 0; }
svg { display: block; width: 100%; height: auto; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 11px; fill: #3d3d40; }
svg .axis-title { font-size: 12px; fill: var(--muted); }
svg .plot-bg { fill: #fbfbfc; stroke: var(--line); }
svg .grid { stroke: #ebebee; stroke-width: 1; }
svg .axis { stroke: #9a9996; stroke-width: 1; }
svg .series { fill: none; stroke-width: 1.6; stroke-linejoin: round; }
svg .series.actual { stroke-width: 2.6; }
svg .step { stroke: #77767b; stroke-width: 1; stroke-dasharray: 4 3; }
svg .step-label { font-size: 11px; fill: #3d3d40; }
svg .band-label { font-size: 10.5px; fill: #1d1d1f; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
`;
