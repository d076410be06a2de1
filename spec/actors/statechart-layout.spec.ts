/**
 * The ELK layout behind `diagram --format svg` and the live view: every state is drawn and
 * findable for highlighting, nothing is drawn over anything else, a collapsed box stands for its
 * states, and the same machine always gives the same picture.
 */
import { MACHINES } from '../../actors/diagram/machine-registry';
import { describeStatechart } from '../../actors/diagram/statechart-diagram';
import { defaultCollapsed, layoutStatechart, type LaidOutChart } from '../../actors/diagram/statechart-layout';
import { renderStatechartSvg, subChart } from '../../actors/diagram/statechart-svg';

interface Box {
  what: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

function overlap(a: Box, b: Box): boolean {
  // One pixel of slack: ELK places neighbours at exact spacings.
  return a.x + a.width > b.x + 1 && b.x + b.width > a.x + 1 && a.y + a.height > b.y + 1 && b.y + b.height > a.y + 1;
}

/** Labels and plain states: none may cover another. */
function overlaps(chart: LaidOutChart): string[] {
  const boxes: Box[] = [
    ...chart.nodes.filter((n) => n.kind !== 'compound').map((n) => ({ what: `state ${n.id}`, x: n.x, y: n.y, width: n.width, height: n.height })),
    ...chart.edges.filter((e) => e.label).map((e) => ({ what: `label "${e.label!.lines.join(' ')}"`, ...e.label! })),
  ];
  const found: string[] = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) if (overlap(boxes[i]!, boxes[j]!)) found.push(`${boxes[i]!.what} / ${boxes[j]!.what}`);
  return found;
}

describe.each(MACHINES.map((m) => [m.name, m] as const))('the %s statechart, laid out', (_name, entry) => {
  const chart = describeStatechart(entry.machine);

  it('draws every state with its id, and no label or state over another', async () => {
    const laid = await layoutStatechart(chart);
    const svg = renderStatechartSvg(laid, entry.title);
    const walk = (s: typeof chart.root): string[] => s.children.flatMap((c) => [c.id, ...walk(c)]);
    for (const id of walk(chart.root)) expect(svg).toContain(`data-state-id="${id}"`);
    expect(overlaps(laid)).toEqual([]);
    // Handled-in-place transitions are lines inside the state, not loops whose labels pile up.
    for (const e of laid.edges) {
      const first = e.points[0]!;
      const last = e.points[e.points.length - 1]!;
      expect(e.points.length >= 2 && (first.x !== last.x || first.y !== last.y)).toBe(true);
    }
  });

  it('as the view first shows it: collapsed boxes stand for their states, nothing overlaps', async () => {
    const collapsed = defaultCollapsed(chart);
    const laid = await layoutStatechart(chart, { collapsed });
    expect(overlaps(laid)).toEqual([]);
    // A collapsed box inside another collapsed box is hidden with it.
    const outermost = collapsed.filter((id) => !collapsed.some((other) => other !== id && id.startsWith(`${other}.`)));
    for (const id of collapsed) {
      if (!outermost.includes(id)) {
        expect(laid.nodes.some((n) => n.id === id)).toBe(false);
        continue;
      }
      const node = laid.nodes.find((n) => n.id === id)!;
      expect(node.kind).toBe('collapsed');
      expect(node.inner!.length).toBeGreaterThanOrEqual(3);
      // Nothing inside a collapsed box is drawn.
      for (const inner of node.inner!) expect(laid.nodes.some((n) => n.id === inner.id)).toBe(false);
      expect(overlaps(await layoutStatechart(subChart(chart, id)))).toEqual([]);
    }
  });

  it('is deterministic', async () => {
    const a = renderStatechartSvg(await layoutStatechart(chart), entry.title);
    const b = renderStatechartSvg(await layoutStatechart(chart), entry.title);
    expect(b).toBe(a);
  });
});

it('the device overview fits a screen: the balloon, unballoon and hot-add boxes start collapsed', async () => {
  const device = describeStatechart(MACHINES.find((m) => m.name === 'device')!.machine);
  expect(defaultCollapsed(device)).toEqual(['hvBalloon.receiving.init', 'hvBalloon.receiving.balloon', 'hvBalloon.receiving.unballoon', 'hvBalloon.receiving.hotAdd']);
  const laid = await layoutStatechart(device, { collapsed: defaultCollapsed(device) });
  expect(laid.width).toBeLessThan(1280);
  expect(laid.height).toBeLessThan(1100);
});

it('the guest overview fits a screen too: the connected state (with its parallel regions) starts collapsed', async () => {
  const guest = describeStatechart(MACHINES.find((m) => m.name === 'guest')!.machine);
  expect(defaultCollapsed(guest)).toContain('dmGuestDriver.connection.connected');
  const laid = await layoutStatechart(guest, { collapsed: defaultCollapsed(guest) });
  expect(laid.width).toBeLessThan(1280);
  expect(laid.height).toBeLessThan(1100);
  // Opened on its own (its inner boxes still collapsed), it fits as well.
  const inside = defaultCollapsed(guest).filter((id) => id.startsWith('dmGuestDriver.connection.connected.'));
  const detail = await layoutStatechart(subChart(guest, 'dmGuestDriver.connection.connected'), { collapsed: inside });
  expect(detail.width).toBeLessThan(1280);
});
