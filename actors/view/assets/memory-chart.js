// @ts-check
/**
 * The memory chart: balloon target and actual, the guest's available and committed (its status
 * reports), hot-added memory, over virtual time, with every step labelled. Labels never drop:
 * one that would overlap another goes to the next row (as many rows as needed).
 */
const SVG = 'http://www.w3.org/2000/svg';
const GiB = 2 ** 30;

/** @type {Array<{key: string, label: string, colour: string, dash?: string}>} */
export const SERIES = [
  { key: 'target', label: 'target', colour: '#9141ac', dash: '5 3' },
  { key: 'actual', label: 'actual (query-balloon)', colour: '#1a5fb4' },
  { key: 'available', label: 'available (status report)', colour: '#26a269' },
  { key: 'committed', label: 'committed (status report)', colour: '#c64600' },
  { key: 'hotAdded', label: 'hot-added', colour: '#3584e4', dash: '2 2' },
];

/** @param {string} tag @param {Record<string, string | number>} attrs */
function el(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/**
 * Greedy label rows: each label goes into the first row where it does not overlap the previous
 * label of that row. Exported for the spec of the report, which places its labels the same way.
 * @param {Array<{x: number, width: number}>} labels sorted by x
 * @returns {number[]} the row of each label
 */
export function labelRows(labels) {
  /** @type {number[]} */
  const rowEnds = [];
  return labels.map((l) => {
    let row = rowEnds.findIndex((end) => l.x >= end + 6);
    if (row < 0) {
      row = rowEnds.length;
      rowEnds.push(0);
    }
    rowEnds[row] = l.x + l.width;
    return row;
  });
}

/** @param {HTMLElement} host */
export function drawLegend(host) {
  host.replaceChildren(
    ...SERIES.map((s) => {
      const span = document.createElement('span');
      const i = document.createElement('i');
      i.style.background = s.colour;
      i.style.color = s.colour;
      if (s.dash) i.className = 'dashed';
      span.append(i, s.label);
      return span;
    }),
  );
}

/**
 * @param {HTMLElement} host
 * @param {{memory: any[], steps: any[], t: number, endMs: number}} data
 */
export function drawMemoryChart(host, data) {
  const W = 560;
  const left = 40;
  const right = 10;
  const plotW = W - left - right;
  const endMs = Math.max(1, data.endMs);
  const x = (/** @type {number} */ t) => left + (Math.min(Math.max(t, 0), endMs) / endMs) * plotW;
  const steps = data.steps.filter((s) => s.t <= data.t && !s.command.startsWith('('));
  const labels = steps.map((s) => {
    const text = commandText(s.command);
    const width = text.length * 6.1 + 4;
    // Kept inside the chart: a label at the right edge moves left of its line.
    return { x: Math.min(x(s.t) - 2, W - width), width, text, full: s.command, t: s.t };
  });
  const rows = labelRows(labels);
  const nRows = Math.max(1, ...rows.map((r) => r + 1));
  const top = 6 + nRows * 13;
  const plotH = 150;
  const H = top + plotH + 24;
  const mem = data.memory.filter((m) => m.t <= data.t);
  let max = 1;
  for (const m of mem) for (const s of SERIES) if (typeof m[s.key] === 'number') max = Math.max(max, m[s.key]);
  const step = niceStep(max / GiB);
  const yTop = Math.ceil((max / GiB) * 1.05 / step) * step || step;
  const y = (/** @type {number} */ b) => top + plotH - (b / GiB / yTop) * plotH;

  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'memory over virtual time' });
  svg.append(el('rect', { x: left, y: top, width: plotW, height: plotH, fill: '#fafafa', stroke: '#d8d6d2' }));
  for (let v = 0; v <= yTop + 1e-9; v += step) {
    const yy = y(v * GiB);
    svg.append(el('line', { x1: left, x2: left + plotW, y1: yy, y2: yy, stroke: '#ecebe8' }));
    const tx = el('text', { x: left - 4, y: yy + 3, 'text-anchor': 'end' });
    tx.textContent = `${+v.toFixed(2)}`;
    svg.append(tx);
  }
  const gi = el('text', { x: 2, y: top - 2 });
  gi.textContent = 'GiB';
  svg.append(gi);
  const tStep = niceStep(endMs / 1000, 6);
  for (let s = 0; s <= endMs / 1000 + 1e-9; s += tStep) {
    const xx = x(s * 1000);
    svg.append(el('line', { x1: xx, x2: xx, y1: top + plotH, y2: top + plotH + 4, stroke: '#9a9996' }));
    // The last tick's label ends at its tick, inside the chart.
    const tx = el('text', { x: xx, y: top + plotH + 15, 'text-anchor': xx > W - 30 ? 'end' : 'middle' });
    tx.textContent = `${+s.toFixed(1)} s`;
    svg.append(tx);
  }
  labels.forEach((l, i) => {
    const ly = 6 + rows[i] * 13 + 9;
    svg.append(el('line', { x1: x(l.t), x2: x(l.t), y1: ly + 2, y2: top + plotH, stroke: '#c0bfbc', 'stroke-dasharray': '2 3' }));
    const tx = el('text', { x: l.x + 2, y: ly, class: 'step-label' });
    tx.textContent = l.text;
    const title = el('title');
    title.textContent = `${(l.t / 1000).toFixed(3)} s: ${l.full}`;
    tx.append(title);
    svg.append(tx);
  });
  for (const s of [...SERIES].reverse()) {
    /** @type {string[]} */
    const pts = [];
    /** @type {number | null} */
    let last = null;
    for (const m of mem) {
      const v = m[s.key];
      if (typeof v !== 'number') {
        if (pts.length) flush(svg, pts, s);
        pts.length = 0;
        last = null;
        continue;
      }
      if (last !== null) pts.push(`${x(m.t).toFixed(1)},${y(last).toFixed(1)}`);
      pts.push(`${x(m.t).toFixed(1)},${y(v).toFixed(1)}`);
      last = v;
    }
    if (last !== null) pts.push(`${x(data.t).toFixed(1)},${y(last).toFixed(1)}`);
    if (pts.length) flush(svg, pts, s);
  }
  svg.append(el('line', { x1: x(data.t), x2: x(data.t), y1: top, y2: top + plotH, stroke: '#c64600', 'stroke-width': 1.2, class: 'cursor' }));
  host.replaceChildren(svg);
}

/**
 * A command as a chart label: HMP as typed, QMP as its name and arguments (`balloon {"value":...}`);
 * only a very long one is shortened (its tooltip has it all).
 * @param {string} command
 */
export function commandText(command) {
  let text = command;
  if (command.startsWith('{')) {
    try {
      const c = JSON.parse(command);
      if (typeof c.execute === 'string') text = c.arguments === undefined ? c.execute : `${c.execute} ${JSON.stringify(c.arguments)}`;
    } catch {
      /* not JSON: shown as it is */
    }
  }
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/** @param {SVGElement} svg @param {string[]} pts @param {{key: string, colour: string, dash?: string, label: string}} s */
function flush(svg, pts, s) {
  const line = el('polyline', { points: pts.join(' '), fill: 'none', stroke: s.colour, 'stroke-width': s.key === 'actual' ? 2.2 : 1.5, 'data-series': s.key });
  if (s.dash) line.setAttribute('stroke-dasharray', s.dash);
  const title = el('title');
  title.textContent = s.label;
  line.append(title);
  svg.append(line);
}

/** @param {number} range @param {number} [ticks] */
function niceStep(range, ticks = 5) {
  const raw = Math.max(range, 1e-9) / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}
