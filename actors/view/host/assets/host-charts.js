// @ts-check
/**
 * The host view's charts, drawn from what GET /api/host returns (already bounded: at most a few
 * hundred points a series): the host's memory over virtual time, and one small chart per VM row.
 */
const SVG = 'http://www.w3.org/2000/svg';
const GiB = 2 ** 30;

/** @type {Array<{key: string, label: string, colour: string, dash?: string}>} */
export const HOST_LINES = [
  { key: 'memoryBytes', label: 'host memory', colour: '#241f31' },
  { key: 'assignedBytes', label: 'assigned to VMs', colour: '#1a5fb4' },
  { key: 'demandBytes', label: 'demand (status reports)', colour: '#c64600' },
  { key: 'residentBytes', label: 'resident', colour: '#26a269', dash: '4 2' },
  { key: 'freeBytes', label: 'free', colour: '#9141ac' },
];

/** @type {Array<{key: string, label: string, colour: string, dash?: string}>} */
export const VM_LINES = [
  { key: 'assignedBytes', label: 'assigned', colour: '#1a5fb4' },
  { key: 'demandBytes', label: 'demand', colour: '#c64600' },
  { key: 'targetBytes', label: 'target', colour: '#9141ac', dash: '4 2' },
  { key: 'pagedBytes', label: 'paged (cumulative)', colour: '#c01c28', dash: '1 2' },
];

/** @param {string} tag @param {Record<string, string | number>} attrs */
function el(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** @param {HTMLElement} host @param {Array<{label: string, colour: string}>} lines @param {string} [band] */
export function drawLegend(host, lines, band) {
  const items = lines.map((s) => {
    const span = document.createElement('span');
    const i = document.createElement('i');
    i.style.background = s.colour;
    span.append(i, s.label);
    return span;
  });
  if (band) {
    const span = document.createElement('span');
    const i = document.createElement('i');
    i.className = 'band';
    i.style.background = '#d0e0f5';
    span.append(i, band);
    items.push(span);
  }
  host.replaceChildren(...items);
}

/** @param {number} x */
function niceStep(x, n = 5) {
  const raw = x / n;
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/** @param {number} ms */
export function formatTime(ms) {
  const s = ms / 1000;
  if (s < 120) return `${+s.toFixed(1)} s`;
  if (s < 7200) return `${+(s / 60).toFixed(1)} min`;
  return `${+(s / 3600).toFixed(2)} h`;
}

/** @param {number[]} times @param {(number | null)[]} values @param {(t: number) => number} x @param {(v: number) => number} y */
function points(times, values, x, y) {
  const out = [];
  for (let i = 0; i < times.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    out.push(`${x(times[i]).toFixed(1)},${y(v).toFixed(1)}`);
  }
  return out.join(' ');
}

/**
 * The host's memory over virtual time.
 * @param {HTMLElement} host
 * @param {{times: number[], series: Record<string, number[]>, memoryBytes: number, reserveBytes: number, endMs: number}} data
 */
export function drawHostChart(host, data) {
  const W = 640;
  const H = 210;
  const left = 42;
  const top = 8;
  const plotW = W - left - 10;
  const plotH = H - top - 24;
  const endMs = Math.max(1000, data.endMs);
  const series = { ...data.series, memoryBytes: data.times.map(() => data.memoryBytes) };
  let max = data.memoryBytes;
  for (const line of HOST_LINES) for (const v of series[line.key] ?? []) if (v > max) max = v;
  const step = niceStep(max / GiB);
  const yTop = Math.ceil((max / GiB) * 1.05 / step) * step || step;
  const x = (/** @type {number} */ t) => left + (Math.min(t, endMs) / endMs) * plotW;
  const y = (/** @type {number} */ b) => top + plotH - (b / GiB / yTop) * plotH;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': "the host's memory over virtual time" });
  svg.append(el('rect', { x: left, y: top, width: plotW, height: plotH, fill: '#fafafa', stroke: '#d8d6d2' }));
  for (let v = 0; v <= yTop + 1e-9; v += step) {
    svg.append(el('line', { x1: left, x2: left + plotW, y1: y(v * GiB), y2: y(v * GiB), stroke: '#ecebe8' }));
    const tx = el('text', { x: left - 4, y: y(v * GiB) + 3, 'text-anchor': 'end' });
    tx.textContent = `${+v.toFixed(2)}`;
    svg.append(tx);
  }
  const gi = el('text', { x: 2, y: top + 8 });
  gi.textContent = 'GiB';
  svg.append(gi);
  const tStep = niceStep(endMs, 6);
  for (let t = 0; t <= endMs + 1e-9; t += tStep) {
    const tx = el('text', { x: x(t), y: top + plotH + 15, 'text-anchor': x(t) > W - 30 ? 'end' : 'middle' });
    tx.textContent = formatTime(t);
    svg.append(tx);
  }
  if (data.reserveBytes > 0) {
    const yy = y(data.memoryBytes - data.reserveBytes);
    svg.append(el('line', { x1: left, x2: left + plotW, y1: yy, y2: yy, stroke: '#77767b', 'stroke-dasharray': '2 4', 'data-series': 'usable' }));
  }
  for (const line of HOST_LINES) {
    const values = series[line.key];
    if (!values || data.times.length === 0) continue;
    const attrs = { points: points(data.times, values, x, y), fill: 'none', stroke: line.colour, 'stroke-width': 1.6, 'data-series': line.key };
    svg.append(el('polyline', line.dash ? { ...attrs, 'stroke-dasharray': line.dash } : attrs));
  }
  host.replaceChildren(svg);
}

/**
 * One VM's small chart: its [min, max] band, assigned, demand, target and paged.
 * @param {HTMLElement} cell
 * @param {{times: number[], series: Record<string, (number | null)[]>, minimumBytes: number, maximumBytes: number, endMs: number}} data
 */
export function drawSparkline(cell, data) {
  const W = 260;
  const H = 34;
  const endMs = Math.max(1000, data.endMs);
  let max = data.maximumBytes || 1;
  for (const line of VM_LINES) for (const v of data.series[line.key] ?? []) if (v !== null && v > max) max = v;
  const x = (/** @type {number} */ t) => 1 + (Math.min(t, endMs) / endMs) * (W - 2);
  const y = (/** @type {number} */ b) => H - 2 - (b / max) * (H - 4);
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img' });
  // The band of what the VM may be given, as far as the run has got.
  const until = data.times.length ? x(data.times[data.times.length - 1]) : 0;
  if (data.maximumBytes > 0 && until > 0) svg.append(el('rect', { x: 0, y: y(data.maximumBytes), width: until, height: Math.max(1, y(data.minimumBytes) - y(data.maximumBytes)), fill: '#d0e0f5', opacity: 0.5, 'data-series': 'limits' }));
  for (const line of VM_LINES) {
    const values = data.series[line.key];
    if (!values || data.times.length === 0) continue;
    const attrs = { points: points(data.times, values, x, y), fill: 'none', stroke: line.colour, 'stroke-width': 1.2, 'data-series': line.key, 'vector-effect': 'non-scaling-stroke' };
    svg.append(el('polyline', line.dash ? { ...attrs, 'stroke-dasharray': line.dash } : attrs));
  }
  cell.replaceChildren(svg);
}
