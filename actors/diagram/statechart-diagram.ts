/**
 * Statechart diagrams generated from the machines themselves, so the pictures in docs/ can never
 * drift from the code. `describeStatechart` reads an XState v5 machine into a small neutral model
 * (states, initial states, labelled transitions); `toMermaid` and `toDot` render that model as
 * Mermaid `stateDiagram-v2` (GitHub renders it in Markdown) or Graphviz DOT.
 *
 * The state tree and the event transitions come from `toDirectedGraph` (xstate/graph); it leaves
 * out eventless (`always`) transitions, which are read from the state nodes. Output depends only
 * on the machine's definition, in definition order: the same machine always gives the same text.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { toDirectedGraph } from 'xstate/graph';

export type DiagramFormat = 'mermaid' | 'dot';
export const DIAGRAM_FORMATS: readonly DiagramFormat[] = ['mermaid', 'dot'];

export type ChartStateType = 'atomic' | 'compound' | 'parallel' | 'final' | 'history';

/** One state of the chart; `id` is XState's (e.g. `vcpu.running.pick`), `key` its own name. */
export interface ChartState {
  id: string;
  key: string;
  type: ChartStateType;
  /** Key path below the machine root (empty for the root). */
  path: readonly string[];
  /** For compound states: the id of the initial child. */
  initialId?: string;
  /** For history states: shallow (H) or deep (H*). */
  history?: 'shallow' | 'deep';
  children: ChartState[];
}

export type ChartTransitionKind = 'event' | 'after' | 'always';

export interface ChartTransition {
  sourceId: string;
  targetId: string;
  /** What the diagram prints: event type, "after 50000ms", "[guard]", "always", plus " [guard]". */
  label: string;
  kind: ChartTransitionKind;
  /** The event type ('' for always; `xstate.after.…` for delays). */
  eventType: string;
  guard?: string;
  /** No target: the state is not left (actions only). Drawn as a loop. */
  targetless: boolean;
}

export interface Statechart {
  /** The machine's id. */
  id: string;
  root: ChartState;
  /** All transitions, in definition order (state by state, depth first). */
  transitions: ChartTransition[];
}

// ---- reading a machine ----------------------------------------------------------------------

/** Reads an XState v5 machine into the neutral chart model. */
export function describeStatechart(machine: AnyStateMachine): Statechart {
  const delays = delayImplementations(machine);
  const transitions: ChartTransition[] = [];
  const graph = toDirectedGraph(machine);

  const visit = (node: ReturnType<typeof toDirectedGraph>): ChartState => {
    const stateNode = node.stateNode;
    for (const edge of node.edges) {
      const t = edge.transition;
      transitions.push(
        makeTransition(stateNode.id, edge.target.id, t.eventType, t.guard, (t as { delay?: unknown }).delay, t.target === undefined, delays),
      );
    }
    // Eventless transitions: toDirectedGraph does not list them.
    for (const t of stateNode.always ?? []) {
      const targets: readonly AnyStateNode[] = t.target ?? [stateNode];
      for (const target of targets) {
        transitions.push(makeTransition(stateNode.id, target.id, '', t.guard, undefined, t.target === undefined, delays));
      }
    }
    const children = node.children.map(visit);
    const state: ChartState = {
      id: stateNode.id,
      key: stateNode.key,
      type: stateNode.type,
      path: stateNode.path,
      children,
    };
    const initialTarget = stateNode.type === 'compound' ? stateNode.initial?.target[0] : undefined;
    if (initialTarget) state.initialId = initialTarget.id;
    if (stateNode.type === 'history') state.history = stateNode.history === 'deep' ? 'deep' : 'shallow';
    return state;
  };

  const root = visit(graph);
  return { id: root.id, root, transitions };
}

type DelayTable = Readonly<Record<string, unknown>>;

function delayImplementations(machine: AnyStateMachine): DelayTable {
  const implementations = machine.implementations as { delays?: DelayTable } | undefined;
  return implementations?.delays ?? {};
}

function makeTransition(
  sourceId: string,
  targetId: string,
  eventType: string,
  guard: unknown,
  delay: unknown,
  targetless: boolean,
  delays: DelayTable,
): ChartTransition {
  const guardText = guard === undefined ? undefined : describeGuard(guard);
  let kind: ChartTransitionKind = 'event';
  let trigger: string;
  if (eventType === '') {
    kind = 'always';
    trigger = guardText === undefined ? 'always' : '';
  } else if (eventType.startsWith('xstate.after.')) {
    kind = 'after';
    trigger = describeDelay(delay ?? eventType.split('.')[2], delays);
  } else {
    trigger = describeEventType(eventType);
  }
  const guardPart = guardText === undefined ? '' : `[${guardText}]`;
  const label = [trigger, guardPart].filter((part) => part !== '').join(' ');
  const transition: ChartTransition = { sourceId, targetId, label, kind, eventType, targetless };
  if (guardText !== undefined) transition.guard = guardText;
  return transition;
}

/** "after 50000ms" for a number; a named delay by name, with its value when it is a constant. */
function describeDelay(delay: unknown, delays: DelayTable): string {
  if (typeof delay === 'number') return `after ${delay}ms`;
  const name = String(delay);
  if (/^\d+(\.\d+)?$/.test(name)) return `after ${name}ms`;
  const value = delays[name];
  return typeof value === 'number' ? `after ${name} (${value}ms)` : `after ${name}`;
}

function describeEventType(eventType: string): string {
  if (eventType.startsWith('xstate.done.state.')) return 'done';
  if (eventType.startsWith('xstate.done.actor.')) return `done ${eventType.slice('xstate.done.actor.'.length)}`;
  if (eventType.startsWith('xstate.error.actor.')) return `error ${eventType.slice('xstate.error.actor.'.length)}`;
  return eventType;
}

interface HigherOrderGuard {
  (...args: never[]): unknown;
  guards?: readonly unknown[];
  stateValue?: unknown;
}

/** A guard as text: its name, `!a`, `a && b`, `a || b`, `in(state)`, or "inline" for an anonymous function. */
export function describeGuard(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const fn = guard as HigherOrderGuard;
    const parts = (fn.guards ?? []).map((g) => {
      const text = describeGuard(g);
      return fn.guards && fn.guards.length > 1 && /\s/.test(text) ? `(${text})` : text;
    });
    // xstate's not/and/or/stateIn return functions named after themselves carrying `guards`.
    if (fn.name === 'not' && parts.length === 1) return `!${/\s/.test(parts[0]) ? `(${parts[0]})` : parts[0]}`;
    if (fn.name === 'and' && fn.guards) return parts.join(' && ');
    if (fn.name === 'or' && fn.guards) return parts.join(' || ');
    if (fn.name === 'stateIn' && fn.stateValue !== undefined) return `in(${JSON.stringify(fn.stateValue)})`;
    return fn.name && fn.name !== 'guard' ? fn.name : 'inline';
  }
  if (typeof guard === 'object' && guard !== null && 'type' in guard) {
    const { type, params } = guard as { type: unknown; params?: unknown };
    return `${String(type)}${describeParams(params)}`;
  }
  return 'guard';
}

/** Parameterized guards show their params, e.g. `targetPlanIs(kind=hotAdd)`; dynamic params as `(…)`. */
function describeParams(params: unknown): string {
  if (params === undefined) return '';
  if (typeof params === 'function') return '(…)';
  if (typeof params !== 'object' || params === null) return `(${JSON.stringify(params)})`;
  const fields = Object.entries(params).map(([k, v]) =>
    `${k}=${typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v)}`,
  );
  return `(${fields.join(', ')})`;
}

// ---- helpers shared by the renderers --------------------------------------------------------

function allStates(root: ChartState): ChartState[] {
  const out: ChartState[] = [];
  const walk = (s: ChartState): void => {
    out.push(s);
    s.children.forEach(walk);
  };
  walk(root);
  return out;
}

/** Words Mermaid's state-diagram grammar reserves; a state with such a name gets another id. */
const MERMAID_RESERVED = new Set(
  ['state', 'note', 'end', 'direction', 'class', 'classdef', 'style', 'as', 'click', 'hide', 'acctitle', 'accdescr', 'tb', 'bt', 'lr', 'rl', 'default'],
);

/**
 * Readable, unique node ids: a state's own key when no other state has it, else its key path
 * joined by '_'. Works for both Mermaid and DOT.
 */
function assignNodeIds(chart: Statechart): { ids: Map<string, string>; fresh: (wanted: string) => string } {
  const states = allStates(chart.root).slice(1);
  const keyCount = new Map<string, number>();
  for (const s of states) keyCount.set(s.key, (keyCount.get(s.key) ?? 0) + 1);
  const used = new Set<string>();
  const fresh = (wanted: string): string => {
    let base = wanted.replace(/[^A-Za-z0-9_]/g, '_');
    if (!/^[A-Za-z]/.test(base)) base = `s_${base}`;
    if (MERMAID_RESERVED.has(base.toLowerCase())) base = `${base}_state`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    return id;
  };
  // A repeated key is told apart by the shortest tail of its path that no namesake shares.
  const distinctTail = (s: ChartState): string => {
    const namesakes = states.filter((o) => o !== s && o.key === s.key);
    for (let n = 2; n < s.path.length; n++) {
      const tail = s.path.slice(-n).join('_');
      if (namesakes.every((o) => o.path.slice(-n).join('_') !== tail)) return tail;
    }
    return s.path.join('_');
  };
  const ids = new Map<string, string>();
  ids.set(chart.root.id, fresh(chart.root.key));
  for (const s of states) ids.set(s.id, fresh(keyCount.get(s.key) === 1 ? s.key : distinctTail(s)));
  return { ids, fresh };
}

function parentMap(root: ChartState): Map<string, ChartState | undefined> {
  const parents = new Map<string, ChartState | undefined>();
  const walk = (s: ChartState, parent: ChartState | undefined): void => {
    parents.set(s.id, parent);
    for (const c of s.children) walk(c, s);
  };
  walk(root, undefined);
  return parents;
}

function isAncestorOrSelf(ancestor: ChartState, state: ChartState): boolean {
  return state.path.length >= ancestor.path.length && ancestor.path.every((k, i) => state.path[i] === k);
}

/**
 * Where each transition is drawn. A transition of a compound state (or of the machine root) that
 * stays inside it cannot be drawn from the box itself, so it starts from an "(any state)" node
 * placed inside that box: "from any state in here, on E, go to T".
 */
interface PlacedTransition {
  transition: ChartTransition;
  /** The chart state whose box holds the drawn edge (lowest common ancestor of both ends). */
  scope: ChartState;
  /** The state the edge starts from, or the compound whose "(any state)" node it starts from. */
  from: ChartState;
  fromAny: boolean;
  to: ChartState;
}

function placeTransitions(chart: Statechart): PlacedTransition[] {
  const byId = new Map(allStates(chart.root).map((s) => [s.id, s] as const));
  const parents = parentMap(chart.root);
  const get = (id: string): ChartState => {
    const s = byId.get(id);
    if (!s) throw new Error(`statechart ${chart.id}: transition refers to unknown state ${id}`);
    return s;
  };
  return chart.transitions.map((transition) => {
    const from = get(transition.sourceId);
    const to = get(transition.targetId);
    const fromAny = from.children.length > 0 && isAncestorOrSelf(from, to);
    let scope: ChartState;
    if (fromAny) {
      scope = from;
    } else {
      // Lowest common ancestor: the innermost state whose box contains both ends.
      let candidate = parents.get(from.id) ?? chart.root;
      while (!isAncestorOrSelf(candidate, to)) candidate = parents.get(candidate.id) ?? chart.root;
      scope = candidate;
    }
    return { transition, scope, from, fromAny, to };
  });
}

// ---- Mermaid --------------------------------------------------------------------------------

const MERMAID_ENTITIES: Readonly<Record<string, string>> = { '#': '#35;', ';': '#59;', '"': '#quot;' };

function mermaidText(text: string): string {
  // '#' starts an entity and ';' ends a statement in Mermaid; neither appears in our names.
  // One pass, so the ';' of an inserted entity code is not escaped again.
  return text.replace(/[\r\n]+/g, ' ').replace(/[#;"]/g, (c) => MERMAID_ENTITIES[c]);
}

/** Mermaid `stateDiagram-v2` text for a machine. */
export function toMermaid(machine: AnyStateMachine): string {
  return chartToMermaid(describeStatechart(machine));
}

export function chartToMermaid(chart: Statechart): string {
  const { ids, fresh } = assignNodeIds(chart);
  const placed = placeTransitions(chart);
  const anyIds = new Map<string, string>();
  for (const p of placed) {
    if (p.fromAny && !anyIds.has(p.from.id)) anyIds.set(p.from.id, fresh(`${ids.get(p.from.id)}_any`));
  }
  const id = (s: ChartState): string => ids.get(s.id) as string;
  const lines: string[] = ['stateDiagram-v2'];

  const edgeLine = (group: readonly PlacedTransition[], indent: string): string => {
    const p = group[0];
    const source = p.fromAny ? (anyIds.get(p.from.id) as string) : id(p.from);
    // A compound (or the root) targeting itself: a loop on its "(any state)" node.
    const target = p.fromAny && p.to === p.from ? source : id(p.to);
    return `${indent}${source} --> ${target} : ${group.map((g) => mermaidText(g.transition.label)).join('<br>')}`;
  };

  const emitBody = (scope: ChartState, indent: string): void => {
    const anyId = anyIds.get(scope.id);
    if (anyId) lines.push(`${indent}state "(any state)" as ${anyId}`);
    if (scope.type === 'parallel') {
      scope.children.forEach((region, i) => {
        if (i > 0) lines.push(`${indent}--`);
        emitState(region, indent);
      });
    } else {
      for (const child of scope.children) emitState(child, indent);
      const initial = scope.children.find((c) => c.id === scope.initialId);
      if (initial) lines.push(`${indent}[*] --> ${id(initial)}`);
    }
    for (const child of scope.children) if (child.type === 'final') lines.push(`${indent}${id(child)} --> [*]`);
  };

  const emitState = (s: ChartState, indent: string): void => {
    const label = s.type === 'history' ? (s.history === 'deep' ? 'H*' : 'H') : s.key;
    if (label !== id(s)) lines.push(`${indent}state "${mermaidText(label)}" as ${id(s)}`);
    if (s.children.length > 0) {
      lines.push(`${indent}state ${id(s)} {`);
      emitBody(s, `${indent}  `);
      lines.push(`${indent}}`);
    } else if (label === id(s)) {
      lines.push(`${indent}${id(s)}`);
    }
  };

  if (chart.root.type === 'parallel') {
    // Mermaid allows '--' (concurrent regions) only inside a composite state: draw the root as one.
    lines.push(`  state ${id(chart.root)} {`);
    emitBody(chart.root, '    ');
    lines.push('  }');
  } else {
    emitBody(chart.root, '  ');
  }
  // Arrows go at the top level, after every state is declared in its box: Mermaid moves a state
  // into the box of the last nested block that mentions it, so an arrow written inside a box
  // would pull its far end in. Arrows with the same ends are merged into one with a label line
  // each, as Mermaid draws parallel arrows (self-loops above all) on top of each other.
  const merged = new Map<string, PlacedTransition[]>();
  for (const p of placed) {
    const key = `${p.from.id} ${p.fromAny} ${p.to.id}`;
    merged.set(key, [...(merged.get(key) ?? []), p]);
  }
  for (const group of merged.values()) lines.push(edgeLine(group, '  '));
  if (anyIds.size > 0) {
    // At the top level: Mermaid ignores `class` statements inside a composite state.
    lines.push('  classDef anyState stroke-dasharray:4 3,font-style:italic');
    lines.push(`  class ${[...anyIds.values()].join(',')} anyState`);
  }
  return `${lines.join('\n')}\n`;
}

// ---- Graphviz DOT ---------------------------------------------------------------------------

function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/[\r\n]+/g, ' ')}"`;
}

/** Graphviz DOT text for a machine: compound states are clusters. */
export function toDot(machine: AnyStateMachine): string {
  return chartToDot(describeStatechart(machine));
}

export function chartToDot(chart: Statechart): string {
  const { ids, fresh } = assignNodeIds(chart);
  const placed = placeTransitions(chart);
  const id = (s: ChartState): string => ids.get(s.id) as string;
  // Edges to or from a cluster attach to an anchor inside it (its initial dot, or an invisible point).
  const anchors = new Map<string, string>();
  const anyIds = new Map<string, string>();
  for (const s of allStates(chart.root)) if (s.children.length > 0) anchors.set(s.id, fresh(`${id(s)}_initial`));
  for (const p of placed) {
    if (p.fromAny && !anyIds.has(p.from.id)) anyIds.set(p.from.id, fresh(`${id(p.from)}_any`));
  }
  const lines: string[] = [
    `digraph ${dotString(chart.id)} {`,
    '  compound=true;',
    '  rankdir=LR;',
    '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];

  const emitScope = (scope: ChartState, indent: string): void => {
    const anchor = anchors.get(scope.id) as string;
    if (scope.type === 'parallel') {
      lines.push(`${indent}${anchor} [shape=point, style=invis, width=0.01];`);
    } else {
      lines.push(`${indent}${anchor} [shape=point, width=0.12, label=""];`);
      const initial = scope.children.find((c) => c.id === scope.initialId);
      if (initial) {
        const lhead = initial.children.length > 0 ? ` [lhead=cluster_${id(initial)}]` : '';
        lines.push(`${indent}${anchor} -> ${endpoint(initial)}${lhead};`);
      }
    }
    const anyId = anyIds.get(scope.id);
    if (anyId) lines.push(`${indent}${anyId} [label="(any state)", style="dashed,rounded", fontname="Helvetica-Oblique"];`);
    for (const child of scope.children) emitState(child, indent);
    for (const p of placed) {
      if (p.scope !== scope) continue;
      const attrs = [`label=${dotString(p.transition.label)}`];
      if (p.transition.kind === 'always') attrs.push('style=dashed');
      const tail = p.fromAny ? (anyIds.get(p.from.id) as string) : endpoint(p.from);
      if (!p.fromAny && p.from.children.length > 0) attrs.push(`ltail=cluster_${id(p.from)}`);
      const loop = p.fromAny && p.to === p.from;
      if (p.to.children.length > 0 && !loop) attrs.push(`lhead=cluster_${id(p.to)}`);
      lines.push(`${indent}${tail} -> ${loop ? tail : endpoint(p.to)} [${attrs.join(', ')}];`);
    }
  };

  const endpoint = (s: ChartState): string => (s.children.length > 0 ? (anchors.get(s.id) as string) : id(s));

  const emitState = (s: ChartState, indent: string): void => {
    if (s.children.length > 0) {
      lines.push(`${indent}subgraph cluster_${id(s)} {`);
      const style = s.type === 'parallel' ? 'dashed,rounded' : 'rounded';
      lines.push(`${indent}  label=${dotString(s.type === 'parallel' ? `${s.key} (parallel)` : s.key)}; style=${dotString(style)}; fontname="Helvetica-Bold"; fontsize=11;`);
      emitScope(s, `${indent}  `);
      lines.push(`${indent}}`);
      return;
    }
    if (s.type === 'history') {
      lines.push(`${indent}${id(s)} [label=${dotString(s.history === 'deep' ? 'H*' : 'H')}, shape=circle];`);
    } else if (s.type === 'final') {
      lines.push(`${indent}${id(s)} [label=${dotString(s.key)}, peripheries=2];`);
    } else {
      lines.push(`${indent}${id(s)} [label=${dotString(s.key)}];`);
    }
  };

  emitScope(chart.root, '  ');
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** The diagram of `machine` in `format`. */
export function renderDiagram(machine: AnyStateMachine, format: DiagramFormat): string {
  return format === 'dot' ? toDot(machine) : toMermaid(machine);
}
