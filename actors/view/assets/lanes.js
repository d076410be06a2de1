// @ts-check
/**
 * The messages between the parts as a sequence diagram: one lane per part, one arrow per message,
 * newest at the bottom. DM packets (blue) open to their decoded fields and bytes.
 */
const SVG = 'http://www.w3.org/2000/svg';
export const LANES = ['user', 'vm', 'device', 'channel', 'guest', 'memctl', 'vcpu'];
const ROW = 17;
const HEAD = 20;
const TIME_W = 78;
const LANE_W = 96;

/** @param {string} tag @param {Record<string, string | number>} attrs */
function el(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/**
 * @param {HTMLElement} host
 * @param {any[]} messages the rows to draw, oldest first
 * @param {{selected: any, onSelect: (m: any) => void}} opts
 */
export function drawLanes(host, messages, opts) {
  // Lanes for the parts in these messages, in the usual order.
  const seen = new Set(messages.flatMap((m) => [m.from, m.to]));
  const lanes = LANES.filter((p) => seen.has(p) || ['device', 'channel', 'guest'].includes(p));
  for (const p of seen) if (!lanes.includes(p)) lanes.push(p);
  const W = TIME_W + lanes.length * LANE_W;
  const H = messages.length * ROW + 6;
  const lx = (/** @type {string} */ part) => TIME_W + (Math.max(0, lanes.indexOf(part)) + 0.5) * LANE_W;
  // The lane names stay in view above the scrolling rows.
  const headSvg = el('svg', { width: W, height: HEAD, viewBox: `0 0 ${W} ${HEAD}`, class: 'lanes-head' });
  const svg = el('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'messages between the parts' });
  for (const part of lanes) {
    const head = el('text', { x: lx(part), y: 13, 'text-anchor': 'middle', class: 'head' });
    head.textContent = part;
    headSvg.append(head);
    svg.append(el('line', { x1: lx(part), x2: lx(part), y1: 0, y2: H, stroke: '#d8d6d2' }));
  }
  messages.forEach((m, i) => {
    const y = i * ROW + 12;
    const g = el('g', { class: `msg${m.packet ? ' packet' : ''}${m === opts.selected ? ' selected' : ''}`, 'data-type': m.type });
    g.append(el('rect', { class: 'hit', x: 0, y: y - 12, width: W, height: ROW }));
    const time = el('text', { x: 2, y });
    time.textContent = `${(m.t / 1000).toFixed(3)}s`;
    g.append(time);
    const x1 = lx(m.from);
    const x2 = lx(m.to);
    const colour = m.packet ? '#1a5fb4' : '#77767b';
    if (x1 === x2) {
      g.append(el('path', { d: `M${x1},${y - 4}h14v6h-12`, fill: 'none', stroke: colour }));
    } else {
      const dir = x2 > x1 ? 1 : -1;
      g.append(el('line', { x1, x2: x2 - dir * 3, y1: y + 1, y2: y + 1, stroke: colour, 'stroke-width': m.packet ? 1.6 : 1 }));
      g.append(el('path', { d: `M${x2},${y + 1}l${-dir * 6},-3.5v7z`, fill: colour }));
    }
    const label = el('text', { class: 'lbl', x: (Math.min(x1, x2) + Math.max(x1, x2)) / 2 + (x1 === x2 ? 20 : 0), y: y - 2, 'text-anchor': x1 === x2 ? 'start' : 'middle' });
    label.textContent = m.packet ? `${m.type} #${m.packet.transId}` : m.type;
    g.append(label);
    if (m.packet) g.addEventListener('click', () => opts.onSelect(m));
    svg.append(g);
  });
  const body = /** @type {HTMLElement} */ (host.querySelector('.lanes-body') ?? document.createElement('div'));
  body.className = 'lanes-body';
  const atBottom = body.scrollTop + body.clientHeight >= body.scrollHeight - 30;
  body.replaceChildren(svg);
  host.replaceChildren(headSvg, body);
  if (atBottom) body.scrollTop = body.scrollHeight;
}

/**
 * A DM packet's fields and bytes, as a table and a hex dump.
 * @param {HTMLElement} host
 * @param {any} m a message with `packet`
 */
export function showPacket(host, m) {
  host.classList.remove('muted');
  const p = m.packet;
  const table = document.createElement('table');
  /** @type {HTMLElement[]} */
  const extra = [];
  const row = (/** @type {string} */ k, /** @type {string} */ v) => {
    const tr = document.createElement('tr');
    const a = document.createElement('td');
    const b = document.createElement('td');
    a.textContent = k;
    b.textContent = v;
    tr.append(a, b);
    table.append(tr);
  };
  row('time', `${(m.t / 1000).toFixed(3)} s`);
  row('direction', p.dir === 'host' ? 'host -> guest (device sent it)' : 'guest -> host (guest driver sent it)');
  row('size', `${p.size} bytes`);
  if (p.fields && typeof p.fields === 'object') {
    for (const [k, v] of Object.entries(p.fields)) {
      if (Array.isArray(v) && v.length > 3) {
        // Long lists (page ranges): a summary, the entries one click away.
        const pages = v.reduce((sum, r) => sum + (typeof r?.pageCount === 'number' ? r.pageCount : 0), 0);
        row(k, `${v.length} entries${pages ? `, ${pages} pages` : ''} (listed below)`);
        const details = document.createElement('details');
        const summary = document.createElement('summary');
        summary.textContent = `${k}: ${v.length} entries`;
        const pre = document.createElement('pre');
        pre.textContent = v.map((r) => JSON.stringify(r)).join('\n');
        details.append(summary, pre);
        extra.push(details);
      } else row(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
    }
  } else row('decoded', String(p.fields));
  const hex = document.createElement('div');
  hex.className = 'hex';
  const bytes = p.hex.match(/.{1,2}/g) ?? [];
  const lines = [];
  for (let i = 0; i < bytes.length; i += 16) lines.push(`${i.toString(16).padStart(4, '0')}  ${bytes.slice(i, i + 16).join(' ')}`);
  hex.textContent = lines.join('\n');
  host.replaceChildren(table, hex, ...extra);
}
