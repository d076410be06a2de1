/**
 * The forms of a comparison: a side-by-side text table, and a self-contained HTML page with both
 * memory curves on one chart (inline SVG, no scripts, no network).
 */
import type { CompareResult, CompareSide } from './compare-run';

const GiB = 2 ** 30;

/** The figures QEMU's hv-balloon commit message reports (Windows Server 2019 guest, memory dirtied). */
export const SEED_FIGURES =
  "QEMU hv-balloon commit message (qemu-devel, 2023): ballooning 230 GB/min (hv-balloon) vs 70 GB/min (virtio-balloon); 200 GB back to the guest in ~1 s vs ~2.5 min";

function gib(bytes: number): string {
  return `${Number((bytes / GiB).toFixed(2))} GiB`;
}

export function formatSeconds(ms: number): string {
  if (ms >= 120_000) return `${(ms / 60_000).toFixed(2)} min`;
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 1000).toFixed(3)} s`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function bytes(n: number): string {
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** One cell: how a phase went on one device. */
function phaseCell(side: CompareSide, i: number): string {
  const p = side.phases[i];
  if (p === undefined) return '';
  if (p.settleMs === null) return `not done (${gib(p.toBytes)} when the next step came)`;
  const rate = p.gbPerMin === null ? '' : ` (${p.gbPerMin >= 1000 ? Math.round(p.gbPerMin) : p.gbPerMin.toFixed(1)} GB/min)`;
  const stop = p.reached ? '' : `, stopped at ${gib(p.toBytes)}: ${p.note ?? ''}`;
  return `${formatSeconds(p.settleMs)}${rate}${stop}`;
}

/** The text table `compare` prints. */
export function compareTable(r: CompareResult): string {
  const [hv, virtio] = r.sides;
  const rows: string[][] = [['', 'hv-balloon', 'virtio-balloon']];
  const phases = Math.max(hv.phases.length, virtio.phases.length);
  for (let i = 0; i < phases; i++) {
    const p = hv.phases[i] ?? virtio.phases[i]!;
    rows.push([`${(p.at / 1000).toFixed(0)} s: ${gib(p.fromBytes)} -> ${gib(p.requestedBytes)}`, phaseCell(hv, i), phaseCell(virtio, i)]);
    rows.push(['  messages / bytes', `${count(hv.phases[i]?.messages ?? 0)} / ${bytes(hv.phases[i]?.bytes ?? 0)}`, `${count(virtio.phases[i]?.messages ?? 0)} / ${bytes(virtio.phases[i]?.bytes ?? 0)}`]);
    rows.push(['  wall time', `${Math.round(hv.phases[i]?.wallMs ?? 0)} ms`, `${Math.round(virtio.phases[i]?.wallMs ?? 0)} ms`]);
  }
  rows.push(['messages, whole run', `${count(hv.messages)} DM messages`, `${count(virtio.messages)} virtqueue buffers`]);
  rows.push(['bytes exchanged, whole run', bytes(hv.bytes), bytes(virtio.bytes)]);
  rows.push(['host metadata (largest)', bytes(hv.hostMetadataBytes), bytes(virtio.hostMetadataBytes)]);
  rows.push(['wall / CPU time of the run', `${Math.round(hv.wallMs)} / ${Math.round(hv.cpuMs)} ms`, `${Math.round(virtio.wallMs)} / ${Math.round(virtio.cpuMs)} ms`]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const lines = rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
  lines.push('');
  lines.push(`Times are virtual: from the balloon command until the guest and device were done (hv-balloon back in S_IDLE; virtio-balloon's 'actual' equal to 'num_pages').`);
  lines.push(`For reference, ${SEED_FIGURES}.`);
  return lines.join('\n');
}

/** The comparison as JSON-ready data (curves thinned to at most `points` per side). */
export function compareJson(r: CompareResult, points = 500): unknown {
  return {
    ...r,
    sides: r.sides.map((s) => ({ ...s, curve: thin(s.curve, points) })),
  };
}

function thin(curve: Array<[number, number]>, points: number): Array<[number, number]> {
  if (curve.length <= points) return curve;
  const step = curve.length / points;
  const out: Array<[number, number]> = [];
  for (let i = 0; i < points; i++) out.push(curve[Math.floor(i * step)]!);
  out.push(curve[curve.length - 1]!);
  return out;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const COLORS: Record<string, string> = { 'hv-balloon': '#1f77b4', 'virtio-balloon': '#d62728' };

/** Both memory curves (query-balloon actual over virtual time) on one SVG chart. */
function chartSvg(r: CompareResult): string {
  const W = 900;
  const H = 360;
  const m = { l: 70, r: 20, t: 20, b: 45 };
  const all = r.sides.flatMap((s) => s.curve);
  const tMax = Math.max(1, ...all.map(([t]) => t));
  const yMax = Math.max(1, ...all.map(([, a]) => a)) * 1.05;
  const x = (t: number): number => m.l + (t / tMax) * (W - m.l - m.r);
  const y = (a: number): number => H - m.b - (a / yMax) * (H - m.t - m.b);
  const lines = r.sides.map((s) => {
    const pts = thin(s.curve, 1500).map(([t, a]) => `${x(t).toFixed(1)},${y(a).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${COLORS[s.model]}" stroke-width="2" points="${pts}"><title>${s.model}</title></polyline>`;
  });
  const ticks: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const t = (tMax * i) / 5;
    const a = (yMax * i) / 5;
    ticks.push(`<text x="${x(t)}" y="${H - m.b + 18}" text-anchor="middle">${(t / 1000).toFixed(0)} s</text>`);
    ticks.push(`<text x="${m.l - 6}" y="${y(a) + 4}" text-anchor="end">${(a / GiB).toFixed(0)} GiB</text>`);
    ticks.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(a)}" y2="${y(a)}" stroke="#eee"/>`);
  }
  const legend = r.sides
    .map((s, i) => `<rect x="${m.l + 10 + i * 160}" y="${m.t}" width="14" height="4" fill="${COLORS[s.model]}"/><text x="${m.l + 30 + i * 160}" y="${m.t + 6}">${s.model}</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#333"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="#333"/>
${ticks.join('\n')}
${lines.join('\n')}
${legend}
<text x="${(W + m.l) / 2}" y="${H - 5}" text-anchor="middle">virtual time</text>
</svg>`;
}

/** A self-contained HTML page: the table and the chart of both guests' size (query-balloon actual). */
export function compareHtml(r: CompareResult): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(r.scenario)}: hv-balloon vs virtio-balloon</title>
<style>body{font-family:sans-serif;margin:2em;max-width:960px}pre{background:#f6f6f6;padding:1em;overflow-x:auto}</style></head>
<body>
<h1>${escapeHtml(r.scenario)}: hv-balloon vs virtio-balloon</h1>
${r.description ? `<p>${escapeHtml(r.description)}</p>` : ''}
<h2>Guest size (query-balloon actual) over virtual time</h2>
${chartSvg(r)}
<h2>Side by side</h2>
<pre>${escapeHtml(compareTable(r))}</pre>
</body></html>
`;
}
