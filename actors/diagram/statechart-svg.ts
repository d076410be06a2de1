/**
 * A laid-out statechart (statechart-layout.ts) as a standalone SVG: `diagram --format svg` writes
 * it, and the live view shows the same picture and highlights states by their `data-state-id`
 * (class `active`). Styles are inside the SVG so the file reads the same on its own.
 */
import type { ChartState, Statechart } from './statechart-diagram';
import { defaultCollapsed, FONT_SIZE, layoutStatechart, SMALL_FONT_SIZE, type LaidEdge, type LaidNode, type LaidOutChart } from './statechart-layout';

const LINE = 1.3;

export const SVG_STYLE = `
.sc{font-family:"DejaVu Sans Mono","Liberation Mono",Menlo,Consolas,monospace;font-size:${FONT_SIZE}px}
.sc .box{fill:#fafafa;stroke:#77767b;stroke-width:1}
.sc .box.parallel{stroke-dasharray:6 4}
.sc .box.d1{fill:#f3f3f1}.sc .box.d2{fill:#ecebe8}.sc .box.d3{fill:#e5e3df}
.sc .state rect{fill:#fff;stroke:#3d3846;stroke-width:1.2}
.sc .state.collapsed rect{fill:#e8eef8;stroke:#1a5fb4;stroke-width:1.4}
.sc .state.collapsed .inner{fill:#1a5fb4}
.sc .state.any rect{fill:#fff;stroke:#77767b;stroke-dasharray:4 3}
.sc .state.any .title{font-style:italic}
.sc .title{font-weight:bold;fill:#241f31}
.sc .note{font-size:${SMALL_FONT_SIZE}px;fill:#5e5c64}
.sc .edge{fill:none;stroke:#5e5c64;stroke-width:1.1;marker-end:url(#arrow)}
.sc .edge.always{stroke-dasharray:5 3}
.sc .edge.after{stroke:#865e3c}
.sc .label{font-size:${SMALL_FONT_SIZE}px;fill:#241f31}
.sc .label-bg{fill:#fff;fill-opacity:.88}
.sc .initial{fill:#241f31}
.sc .state.active>rect{fill:#ffe08a;stroke:#c64600;stroke-width:2.4}
.sc .compound.active>rect{stroke:#c64600;stroke-width:2}
`;

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
const n = (v: number): string => String(Math.round(v * 10) / 10);

/** The SVG text of a laid-out chart; `title` goes into <title> for screen readers and tooltips. */
export function renderStatechartSvg(chart: LaidOutChart, title: string): string {
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="sc" viewBox="0 0 ${chart.width} ${chart.height}" width="${chart.width}" height="${chart.height}" role="img" data-chart="${esc(chart.id)}">`,
  );
  out.push(`<title>${esc(title)}</title>`);
  out.push(`<style>${SVG_STYLE}</style>`);
  out.push(
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#5e5c64"/></marker></defs>',
  );
  // Boxes first (outer before inner), then the arrows, then the states and labels on top.
  for (const node of chart.nodes) if (node.kind === 'compound') out.push(box(node));
  for (const edge of chart.edges) out.push(edgePath(edge));
  for (const node of chart.nodes) if (node.kind !== 'compound') out.push(stateNode(node));
  for (const edge of chart.edges) if (edge.label) out.push(edgeLabel(edge));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function box(node: LaidNode): string {
  const cls = `box d${Math.min(node.depth, 3)}${node.parallel ? ' parallel' : ''}`;
  const notes = node.notes.map((line, i) => text(node.x + 10, node.y + 18 + FONT_SIZE * LINE * 0.2 + (i + 1) * SMALL_FONT_SIZE * LINE, line, 'note')).join('');
  return (
    `<g class="compound" data-state-id="${esc(node.stateId ?? node.id)}">` +
    `<rect class="${cls}" x="${n(node.x)}" y="${n(node.y)}" width="${n(node.width)}" height="${n(node.height)}" rx="10"/>` +
    text(node.x + 10, node.y + 17, node.title, 'title') +
    notes +
    '</g>'
  );
}

function stateNode(node: LaidNode): string {
  if (node.kind === 'initial') {
    return `<circle class="initial" cx="${n(node.x + node.width / 2)}" cy="${n(node.y + node.height / 2)}" r="${n(node.width / 2)}"/>`;
  }
  const cls = node.kind === 'state' ? 'state' : `state ${node.kind}`;
  let id = node.stateId === undefined ? '' : ` data-state-id="${esc(node.stateId)}"`;
  // The view names the active state inside a collapsed box from this list.
  if (node.inner) id += ` data-inner="${esc(JSON.stringify(node.inner))}"`;
  const rx = node.kind === 'final' ? 3 : 9;
  const lines = [text(node.x + node.width / 2, node.y + 7 + FONT_SIZE, node.title, 'title', 'middle')];
  node.notes.forEach((line, i) =>
    lines.push(text(node.x + 8, node.y + 7 + FONT_SIZE * LINE + (i + 1) * SMALL_FONT_SIZE * LINE - 2, line.trimEnd(), node.kind === 'collapsed' && i === 0 ? 'note inner' : 'note')),
  );
  const outline = node.kind === 'final' ? `<rect x="${n(node.x + 3)}" y="${n(node.y + 3)}" width="${n(node.width - 6)}" height="${n(node.height - 6)}" rx="2" fill="none" stroke="#3d3846"/>` : '';
  return (
    `<g class="${cls}"${id}>` +
    `<rect x="${n(node.x)}" y="${n(node.y)}" width="${n(node.width)}" height="${n(node.height)}" rx="${rx}"/>` +
    outline +
    lines.join('') +
    '</g>'
  );
}

function edgePath(edge: LaidEdge): string {
  if (edge.points.length < 2) return '';
  const d = edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${n(p.x)},${n(p.y)}`).join('');
  return `<path class="edge ${edge.kind}" d="${d}"/>`;
}

function edgeLabel(edge: LaidEdge): string {
  const l = edge.label!;
  const lines = l.lines.map((line, i) => text(l.x + 3, l.y + 1 + SMALL_FONT_SIZE + i * SMALL_FONT_SIZE * LINE - 1, line, 'label')).join('');
  return `<g><rect class="label-bg" x="${n(l.x)}" y="${n(l.y)}" width="${n(l.width)}" height="${n(l.height)}" rx="2"/>${lines}</g>`;
}

function text(x: number, y: number, content: string, cls: string, anchor?: 'middle'): string {
  return `<text class="${cls}" x="${n(x)}" y="${n(y)}"${anchor ? ` text-anchor="${anchor}"` : ''}>${esc(content)}</text>`;
}

/** One picture of a machine: the overview (`name`.svg) or one collapsed box opened (`name`-`box`.svg). */
export interface StatechartPicture {
  /** '' for the overview, else the key of the box it opens. */
  part: string;
  title: string;
  svg: string;
}

/**
 * The pictures `diagram --all` writes for a machine, readable at screen size: the overview as the
 * live view first shows it (the innermost big boxes collapsed) and each collapsed box on its own.
 */
export async function statechartPictures(chart: Statechart, title: string): Promise<StatechartPicture[]> {
  const collapsed = defaultCollapsed(chart);
  const pictures: StatechartPicture[] = [{ part: '', title, svg: renderStatechartSvg(await layoutStatechart(chart, { collapsed }), title) }];
  for (const id of collapsed) {
    const sub = subChart(chart, id);
    const subTitle = `${title}: inside ${sub.root.path.join('.')}`;
    // Boxes inside this one that have their own picture stay collapsed here.
    const inner = collapsed.filter((c) => c !== id && c.startsWith(`${id}.`));
    pictures.push({ part: sub.root.key, title: subTitle, svg: renderStatechartSvg(await layoutStatechart(sub, { collapsed: inner }), subTitle) });
  }
  return pictures;
}

/** The part of a chart inside one compound state: its states and the transitions between them. */
export function subChart(chart: Statechart, id: string): Statechart {
  const find = (s: ChartState): ChartState | undefined => (s.id === id ? s : s.children.map(find).find((x) => x !== undefined));
  const root = find(chart.root);
  if (!root) throw new Error(`statechart ${chart.id}: no state ${id}`);
  const inside = new Set<string>();
  const walk = (s: ChartState): void => {
    inside.add(s.id);
    s.children.forEach(walk);
  };
  walk(root);
  return { id: root.id, root, transitions: chart.transitions.filter((t) => inside.has(t.sourceId) && inside.has(t.targetId)) };
}
