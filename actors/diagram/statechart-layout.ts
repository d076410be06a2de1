/**
 * Lays a statechart out with ELK (elkjs, the Eclipse Layout Kernel's layered algorithm), in Node:
 * the `diagram --format svg` pictures and the live view's charts come from this one layout, so
 * they look the same. Compound states are boxes that hold their children; a compound can be
 * collapsed into one node (the view does that for the big ones); transitions that do not leave
 * their state are listed inside it ("on E") instead of drawn as loops whose labels overlap.
 *
 * Text is measured as monospace (0.6 em per character: DejaVu Sans Mono, Liberation Mono, Menlo
 * and Consolas all are), since Node has no font metrics; the SVG asks for such a font.
 */
import ELK from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkLabel, ElkNode } from 'elkjs/lib/elk-api';
import type { ChartState, ChartTransition, Statechart } from './statechart-diagram';

export const FONT_SIZE = 12;
export const SMALL_FONT_SIZE = 10.5;
const CHAR_EM = 0.6;
const LINE = 1.3;
/** Labels longer than this many characters wrap at spaces. */
const WRAP = 34;
/** Notes inside a state ("on E [guard]") wrap here. */
const NOTE_WRAP = 46;

export type LaidNodeKind = 'state' | 'compound' | 'collapsed' | 'initial' | 'any' | 'final' | 'history';

/** A box of the picture, in absolute coordinates. `stateId` is XState's id of the state it draws. */
export interface LaidNode {
  id: string;
  kind: LaidNodeKind;
  stateId?: string;
  /** The state's own name (the title of a compound's box). */
  title: string;
  /** Smaller lines under the title: transitions handled without leaving, or what a collapsed box holds. */
  notes: string[];
  /** A collapsed box: the XState ids and names of the plain states inside it. */
  inner?: Array<{ id: string; key: string }>;
  parallel: boolean;
  x: number;
  y: number;
  width: number;
  height: number;
  depth: number;
}

export interface LaidEdge {
  id: string;
  kind: ChartTransition['kind'];
  points: Array<{ x: number; y: number }>;
  label?: { lines: string[]; x: number; y: number; width: number; height: number };
}

export interface LaidOutChart {
  id: string;
  width: number;
  height: number;
  nodes: LaidNode[];
  edges: LaidEdge[];
}

export interface LayoutOptions {
  /** Ids of compound states drawn as one node. */
  collapsed?: readonly string[];
  /** Flow of the layers: DOWN (default) or RIGHT. */
  direction?: 'DOWN' | 'RIGHT';
}

// elkjs's bundled build runs the layout in this thread (no worker), which is what Node needs.
const elk = new ELK();

export function textWidth(text: string, size = FONT_SIZE): number {
  return Math.ceil(text.length * size * CHAR_EM);
}

/** Splits a label at spaces into lines of at most WRAP characters (a longer word keeps its line). */
export function wrapLabel(text: string, width = WRAP): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

interface NodeInfo {
  kind: LaidNodeKind;
  inner?: Array<{ id: string; key: string }>;
  stateId?: string;
  title: string;
  notes: string[];
  parallel: boolean;
  depth: number;
}

/** Lays out `chart`; the same chart and options always give the same picture. */
export async function layoutStatechart(chart: Statechart, options: LayoutOptions = {}): Promise<LaidOutChart> {
  const collapsed = new Set(options.collapsed ?? []);
  const info = new Map<string, NodeInfo>();
  const byId = new Map<string, ChartState>();
  const parent = new Map<string, ChartState | undefined>();
  const walk = (s: ChartState, p: ChartState | undefined): void => {
    byId.set(s.id, s);
    parent.set(s.id, p);
    s.children.forEach((c) => walk(c, s));
  };
  walk(chart.root, undefined);

  // A state inside a collapsed compound is drawn as that compound.
  const shown = (s: ChartState): ChartState => {
    let visible = s;
    for (let p = parent.get(s.id); p; p = parent.get(p.id)) if (collapsed.has(p.id)) visible = p;
    return visible;
  };
  const isBox = (s: ChartState): boolean => s.children.length > 0 && !collapsed.has(s.id) && s !== chart.root;
  const contains = (a: ChartState, b: ChartState): boolean => b.path.length >= a.path.length && a.path.every((k, i) => b.path[i] === k);

  // Transitions, as drawn: targetless ones become notes; others merge by (from, to).
  const notes = new Map<string, string[]>();
  const seenNotes = new Set<string>();
  const addNote = (id: string, text: string): void => {
    if (seenNotes.has(`${id} ${text}`)) return;
    seenNotes.add(`${id} ${text}`);
    // Long guards wrap, indented, so one note does not make its state as wide as the chart.
    const lines = wrapLabel(text, NOTE_WRAP).map((line, i) => (i === 0 ? line : `  ${line}`));
    notes.set(id, [...(notes.get(id) ?? []), ...lines]);
  };
  const anyNodes = new Map<string, string>();
  const edges = new Map<string, { from: string; to: string; labels: string[]; kind: ChartTransition['kind'] }>();
  for (const t of chart.transitions) {
    const source = byId.get(t.sourceId)!;
    const from = shown(source);
    const to = shown(byId.get(t.targetId)!);
    if (t.targetless) {
      // Inside a collapsed box, what its states handle is hidden with them.
      if (from === source) addNote(from.id, `on ${t.label}`);
      continue;
    }
    // Both ends folded into one collapsed box: a transition inside it, hidden with it.
    if (from === to && from !== source) continue;
    if (from === to && from.children.length === 0) {
      addNote(from.id, `on ${t.label} (re-enter)`);
      continue;
    }
    let fromNode = from.id;
    // A compound's transition into itself starts from its "(any state)" node.
    if (from.children.length > 0 && !collapsed.has(from.id) && contains(from, to)) {
      fromNode = anyNodes.get(from.id) ?? `${from.id}#any`;
      anyNodes.set(from.id, fromNode);
    }
    const key = `${fromNode} -> ${to.id}`;
    const edge = edges.get(key) ?? { from: fromNode, to: to.id, labels: [], kind: t.kind };
    if (!edge.labels.includes(t.label)) edge.labels.push(t.label);
    edges.set(key, edge);
  }

  const elkEdges: ElkExtendedEdge[] = [];
  const labelText = new Map<string, string[]>();
  const endpoint = (id: string): string => {
    const s = byId.get(id);
    // Edges to a box end on its initial dot (or, for a parallel one, its first region).
    if (s && isBox(s)) return s.type === 'parallel' ? endpoint(s.children[0]!.id) : s.initialId ? `${s.id}#initial` : s.id;
    return id;
  };

  const buildNode = (s: ChartState, depth: number): ElkNode => {
    const nodeNotes = notes.get(s.id) ?? [];
    if (isBox(s)) {
      const title = s.type === 'parallel' ? `${s.key} (parallel)` : s.key;
      info.set(s.id, { kind: 'compound', stateId: s.id, title, notes: [], parallel: s.type === 'parallel', depth });
      const children: ElkNode[] = [];
      if (s.initialId && s.type !== 'parallel') {
        info.set(`${s.id}#initial`, { kind: 'initial', title: '', notes: [], parallel: false, depth: depth + 1 });
        children.push({ id: `${s.id}#initial`, width: 12, height: 12 });
        elkEdges.push(edge(`${s.id}#initial-edge`, `${s.id}#initial`, endpoint(s.initialId), []));
      }
      const anyId = anyNodes.get(s.id);
      if (anyId) children.push(textNode(anyId, '(any state)', nodeNotes, 'any', depth + 1));
      for (const c of s.children) children.push(buildNode(c, depth + 1));
      // The box's title sits in its top padding; its own "on E" notes go with the (any state) node.
      if (!anyId && nodeNotes.length > 0) info.get(s.id)!.notes = nodeNotes;
      const top = 26 + (anyId ? 0 : nodeNotes.length * SMALL_FONT_SIZE * LINE);
      const minWidth = textWidth(title, FONT_SIZE) + 24;
      return {
        id: s.id,
        children,
        layoutOptions: {
          'elk.padding': `[top=${Math.ceil(top)},left=14,bottom=14,right=14]`,
          'elk.nodeSize.constraints': 'MINIMUM_SIZE',
          'elk.nodeSize.minimum': `(${minWidth}, 40)`,
        },
      };
    }
    const isCollapsed = s.children.length > 0;
    const kind: LaidNodeKind = isCollapsed ? 'collapsed' : s.type === 'final' ? 'final' : s.type === 'history' ? 'history' : 'state';
    const title = s.type === 'history' ? (s.history === 'deep' ? 'H*' : 'H') : s.key;
    // A collapsed box keeps a line for the view to name the active state inside; wide enough for any.
    // Parallel regions inside: several states are active at once, so the line gets more room.
    const room = hasParallel(s) ? 44 : Math.min(40, Math.max(0, ...leafKeys(s).map((k) => k.length + 2)));
    const inner = isCollapsed ? [`${countStates(s)} states inside`.padEnd(room)] : [];
    const extra = [...inner, ...nodeNotes];
    const node = textNode(s.id, title, extra, kind, depth);
    info.get(s.id)!.stateId = s.id;
    // A leaf deeper inside is named with its parent (work.idle), as the view's tabs name states.
    if (isCollapsed) info.get(s.id)!.inner = leaves(s).map((l) => ({ id: l.id, key: l.path.length - s.path.length > 1 ? l.path.slice(-2).join('.') : l.key }));
    return node;
  };

  const textNode = (id: string, title: string, lines: string[], kind: LaidNodeKind, depth: number): ElkNode => {
    info.set(id, { kind, title, notes: lines, parallel: false, depth });
    const width = Math.max(textWidth(title, FONT_SIZE) + 24, ...lines.map((l) => textWidth(l, SMALL_FONT_SIZE) + 16), 60);
    const height = 14 + FONT_SIZE * LINE + lines.length * SMALL_FONT_SIZE * LINE;
    return { id, width, height: Math.ceil(height) };
  };

  const edge = (id: string, from: string, to: string, lines: string[]): ElkExtendedEdge => {
    const e: ElkExtendedEdge = { id, sources: [from], targets: [to] };
    if (lines.length > 0) {
      labelText.set(id, lines);
      const label: ElkLabel = {
        id: `${id}#label`,
        text: lines.join('\n'),
        width: Math.max(...lines.map((l) => textWidth(l, SMALL_FONT_SIZE))) + 6,
        height: Math.ceil(lines.length * SMALL_FONT_SIZE * LINE) + 2,
      };
      e.labels = [label];
    }
    return e;
  };

  const rootChildren: ElkNode[] = [];
  const rootAny = anyNodes.get(chart.root.id);
  if (chart.root.initialId && chart.root.type !== 'parallel') {
    info.set(`${chart.root.id}#initial`, { kind: 'initial', title: '', notes: [], parallel: false, depth: 0 });
    rootChildren.push({ id: `${chart.root.id}#initial`, width: 12, height: 12 });
    elkEdges.push(edge(`${chart.root.id}#initial-edge`, `${chart.root.id}#initial`, endpoint(chart.root.initialId), []));
  }
  if (rootAny) rootChildren.push(textNode(rootAny, '(any state)', notes.get(chart.root.id) ?? [], 'any', 0));
  for (const c of chart.root.children) rootChildren.push(buildNode(c, 0));
  let n = 0;
  for (const e of edges.values()) {
    const lines = e.labels.flatMap((l) => wrapLabel(l));
    elkEdges.push(edge(`e${n++}`, e.from.endsWith('#any') ? e.from : endpoint(e.from), endpoint(e.to), lines));
  }
  const kinds = new Map<string, ChartTransition['kind']>([...edges.values()].map((e, i) => [`e${i}`, e.kind] as const));

  const graph: ElkNode = {
    id: `${chart.id}#root`,
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': options.direction ?? 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '34',
      'elk.spacing.nodeNode': '26',
      'elk.spacing.edgeLabel': '4',
      'elk.spacing.edgeEdge': '12',
      'elk.spacing.edgeNode': '14',
      'elk.layered.spacing.edgeNodeBetweenLayers': '14',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.layered.crossingMinimization.strategy': 'LAYER_SWEEP',
      'elk.edgeLabels.inline': 'false',
      'elk.padding': '[top=12,left=12,bottom=12,right=12]',
      'org.eclipse.elk.json.shapeCoords': 'ROOT',
      'org.eclipse.elk.json.edgeCoords': 'ROOT',
    },
    children: rootChildren,
    edges: elkEdges,
  };
  const result = await elk.layout(graph);

  const nodes: LaidNode[] = [];
  const collect = (node: ElkNode): void => {
    for (const child of node.children ?? []) {
      const i = info.get(child.id);
      if (i) {
        nodes.push({
          id: child.id,
          kind: i.kind,
          ...(i.stateId === undefined ? {} : { stateId: i.stateId }),
          ...(i.inner === undefined ? {} : { inner: i.inner }),
          title: i.title,
          notes: i.notes,
          parallel: i.parallel,
          x: child.x ?? 0,
          y: child.y ?? 0,
          width: child.width ?? 0,
          height: child.height ?? 0,
          depth: i.depth,
        });
      }
      collect(child);
    }
  };
  collect(result);
  const laidEdges: LaidEdge[] = [];
  const collectEdges = (node: ElkNode): void => {
    for (const e of (node.edges ?? []) as ElkExtendedEdge[]) {
      const points = (e.sections ?? []).flatMap((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]);
      const lines = labelText.get(e.id);
      const l = e.labels?.[0];
      laidEdges.push({
        id: e.id,
        kind: kinds.get(e.id) ?? 'event',
        points,
        ...(lines && l ? { label: { lines, x: l.x ?? 0, y: l.y ?? 0, width: l.width ?? 0, height: l.height ?? 0 } } : {}),
      });
    }
    for (const child of node.children ?? []) collectEdges(child);
  };
  collectEdges(result);
  return { id: chart.id, width: Math.ceil(result.width ?? 0), height: Math.ceil(result.height ?? 0), nodes, edges: laidEdges };
}

function hasParallel(s: ChartState): boolean {
  return s.children.some((c) => c.type === 'parallel' || hasParallel(c));
}

function leaves(s: ChartState): ChartState[] {
  return s.children.flatMap((c) => (c.children.length > 0 ? leaves(c) : [c]));
}

function leafKeys(s: ChartState): string[] {
  return leaves(s).map((l) => (l.path.length - s.path.length > 1 ? l.path.slice(-2).join('.') : l.key));
}

function countStates(s: ChartState): number {
  return s.children.reduce((sum, c) => sum + 1 + countStates(c), 0);
}

/**
 * What the view collapses at first, so a chart fits a screen: below the machine's main regions (the
 * top level), the innermost compound states (only plain states inside) with at least `minChildren`
 * of them, and the compound states that hold parallel regions (their regions side by side are what
 * makes a chart too wide). Each is drawn open on its own in docs/diagrams.
 */
export function defaultCollapsed(chart: Statechart, minChildren = 3): string[] {
  const out: string[] = [];
  const walk = (s: ChartState): void => {
    for (const c of s.children) {
      const innermost = c.children.length >= minChildren && c.children.every((k) => k.children.length === 0);
      const holdsParallel = c.type === 'compound' && c.children.some((k) => k.type === 'parallel');
      if ((innermost || holdsParallel) && c.path.length >= 2) out.push(c.id);
      walk(c);
    }
  };
  walk(chart.root);
  return out;
}
