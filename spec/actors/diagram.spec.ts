/** Statechart diagrams generated from the machines, and the `diagram` command. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { and, not, setup } from 'xstate';
import { runCli } from '../../actors/cli/main';
import { MACHINES, machineNames } from '../../actors/diagram/machine-registry';
import { describeStatechart, toDot, toMermaid } from '../../actors/diagram/statechart-diagram';
import { vmbusChannelMachine } from '../../machines/vmbus-channel.machine';

/** "a --> b : label" lines of a Mermaid state diagram, trimmed. */
function mermaidArrows(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.includes('-->'));
}

/** The Mermaid block that declares `state X {`, as the list of its lines (without nested blocks). */
function blockOf(text: string, name: string): string[] {
  const lines = text.split('\n').map((l) => l.trim());
  const start = lines.indexOf(`state ${name} {`);
  if (start < 0) throw new Error(`no block ${name}`);
  const own: string[] = [];
  let depth = 0;
  for (const line of lines.slice(start + 1)) {
    if (line.endsWith('{')) depth++;
    else if (line === '}') {
      if (depth === 0) break;
      depth--;
    } else if (depth === 0) own.push(line);
  }
  return own;
}

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['diagram', ...argv], {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

describe('the channel machine diagram', () => {
  // Read off machines/vmbus-channel.machine.ts by hand.
  const STATES = ['offered', 'opening', 'open', 'closing', 'closed'];
  const ARROWS = [
    '[*] --> offered',
    'vmbusChannel_any --> offered : system.reset',
    'offered --> opening : channel.open',
    'offered --> offered : after offerDelay',
    'opening --> open : channel.open-accepted',
    'opening --> closed : channel.open-refused',
    'open --> open : channel.signal',
    'open --> closing : channel.close',
    'open --> offered : system.reset',
    'closing --> closed : always',
    'closed --> opening : channel.open',
  ];

  it('Mermaid: declares every state and draws every transition with its event', () => {
    const text = toMermaid(vmbusChannelMachine);
    expect(text.startsWith('stateDiagram-v2\n')).toBe(true);
    const lines = text.split('\n').map((l) => l.trim());
    for (const state of STATES) expect(lines).toContain(state);
    expect(lines).toContain('state "(any state)" as vmbusChannel_any');
    expect(mermaidArrows(text).sort()).toEqual([...ARROWS].sort());
  });

  it('DOT: a node per state and an edge per transition', () => {
    const text = toDot(vmbusChannelMachine);
    expect(text.startsWith('digraph "vmbusChannel" {')).toBe(true);
    for (const state of STATES) expect(text).toContain(`  ${state} [label="${state}"];`);
    const edges = text.split('\n').filter((l) => l.includes(' -> ') && l.includes('label='));
    const pairs = edges.map((l) => {
      const m = /^\s*(\S+) -> (\S+) \[label="([^"]*)"/.exec(l);
      return m ? `${m[1]} -> ${m[2]} : ${m[3]}` : l;
    });
    expect(pairs.sort()).toEqual(
      [
        'vmbusChannel_any -> offered : system.reset',
        'offered -> opening : channel.open',
        'offered -> offered : after offerDelay',
        'opening -> open : channel.open-accepted',
        'opening -> closed : channel.open-refused',
        'open -> open : channel.signal',
        'open -> closing : channel.close',
        'open -> offered : system.reset',
        'closing -> closed : always',
        'closed -> opening : channel.open',
      ].sort(),
    );
    expect(text).toContain('vmbusChannel_initial -> offered;');
  });

  it('is deterministic: the same machine always gives the same text', () => {
    expect(toMermaid(vmbusChannelMachine)).toBe(toMermaid(vmbusChannelMachine));
    expect(toDot(vmbusChannelMachine)).toBe(toDot(vmbusChannelMachine));
  });
});

describe('statechart features in the diagrams', () => {
  const door = setup({
    types: { events: {} as { type: 'OPEN' } | { type: 'CLOSE' } | { type: 'LOCK'; code: number } | { type: 'BREAK' } },
    guards: {
      hasKey: () => true,
      isNight: () => false,
      codeIs: (_, params: { code: number }) => params.code === 1,
    },
    delays: { AUTO_CLOSE: 3000 },
  }).createMachine({
    id: 'door',
    initial: 'closed',
    states: {
      closed: {
        initial: 'unlocked',
        states: {
          unlocked: { on: { LOCK: { target: 'locked', guard: { type: 'codeIs', params: { code: 1 } } } } },
          locked: { on: { OPEN: { target: 'unlocked', guard: and(['hasKey', not('isNight')]) } } },
        },
        on: { OPEN: { target: 'opened', guard: 'hasKey' } },
      },
      opened: {
        after: { 50000: 'closed', AUTO_CLOSE: { target: 'closed', guard: 'isNight' } },
        on: { CLOSE: 'closing', BREAK: 'broken' },
      },
      closing: { always: [{ target: 'opened', guard: 'isNight' }, { target: 'closed' }] },
      broken: { type: 'final' },
    },
  });

  it('labels delays, eventless transitions and guards', () => {
    const arrows = mermaidArrows(toMermaid(door));
    expect(arrows).toContain('opened --> closed : after 50000ms<br>after AUTO_CLOSE (3000ms) [isNight]');
    expect(arrows).toContain('closing --> opened : [isNight]');
    expect(arrows).toContain('closing --> closed : always');
    expect(arrows).toContain('closed --> opened : OPEN [hasKey]');
    expect(arrows).toContain('unlocked --> locked : LOCK [codeIs(code=1)]');
    expect(arrows).toContain('locked --> unlocked : OPEN [hasKey && !isNight]');
  });

  it('draws a compound state as a box with its own initial state, and final states', () => {
    const text = toMermaid(door);
    expect(blockOf(text, 'closed')).toEqual(['unlocked', 'locked', '[*] --> unlocked']);
    expect(mermaidArrows(text)).toEqual(expect.arrayContaining(['[*] --> closed', 'broken --> [*]', 'opened --> broken : BREAK']));
  });

  it('keeps every state inside its box: arrows are written at the top level', () => {
    // Mermaid moves a state into the nested block that mentions it last.
    const text = toMermaid(door);
    const closedBlock = blockOf(text, 'closed');
    expect(closedBlock.filter((l) => l.includes('-->') && !l.startsWith('[*]'))).toEqual([]);
  });

  it('draws concurrent regions of a parallel state, and tells states with the same name apart', () => {
    const player = setup({}).createMachine({
      id: 'player',
      type: 'parallel',
      states: {
        audio: { initial: 'idle', states: { idle: { on: { PLAY: 'playing' } }, playing: {} } },
        video: { initial: 'idle', states: { idle: { on: { PLAY: 'playing' } }, playing: {} } },
      },
    });
    const text = toMermaid(player);
    const root = blockOf(text, 'player');
    expect(root).toContain('--');
    expect(blockOf(text, 'audio')).toEqual(expect.arrayContaining(['state "idle" as audio_idle', '[*] --> audio_idle']));
    expect(blockOf(text, 'video')).toEqual(expect.arrayContaining(['state "idle" as video_idle', '[*] --> video_idle']));
    expect(mermaidArrows(text)).toEqual(
      expect.arrayContaining(['audio_idle --> audio_playing : PLAY', 'video_idle --> video_playing : PLAY']),
    );
  });

  it('DOT: a compound state is a cluster; arrows into it stop at its border', () => {
    const text = toDot(door);
    expect(text).toContain('subgraph cluster_closed {');
    expect(text).toMatch(/opened -> closed_initial \[label="after 50000ms", lhead=cluster_closed\];/);
    expect(text).toContain('closing -> closed_initial [label="always", style=dashed, lhead=cluster_closed];');
    expect(text).toContain('broken [label="broken", peripheries=2];');
  });

  it('the neutral model lists each transition with its kind', () => {
    const chart = describeStatechart(door);
    const kinds = chart.transitions.map((t) => `${t.sourceId}>${t.targetId}:${t.kind}`);
    expect(kinds).toEqual(
      expect.arrayContaining(['door.opened>door.closed:after', 'door.closing>door.closed:always', 'door.opened>door.broken:event']),
    );
  });
});

describe('every registered machine', () => {
  it.each(MACHINES.map((m) => [m.name, m] as const))('%s: renders with each of its states', (_name, entry) => {
    const text = toMermaid(entry.machine);
    const chart = describeStatechart(entry.machine);
    const keys: string[] = [];
    const walk = (s: { key: string; children: { key: string; children: never[] }[] }): void => {
      for (const c of s.children) {
        keys.push(c.key);
        walk(c);
      }
    };
    walk(chart.root as never);
    expect(keys.length).toBeGreaterThan(1);
    for (const key of keys) expect(text).toMatch(new RegExp(`(^|\\s|")${key}($|\\s|")`, 'm'));
    expect(toMermaid(entry.machine)).toBe(text);
  });
});

describe('the diagram command', () => {
  it('prints the Mermaid diagram of a named machine', async () => {
    const run = await cli('channel');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(toMermaid(vmbusChannelMachine));
  });

  it('--format dot prints DOT; --out writes the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diagram-'));
    const file = path.join(dir, 'sub', 'channel.dot');
    const run = await cli('channel', '--format', 'dot', '--out', file);
    expect(run.code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(toDot(vmbusChannelMachine));
    fs.rmSync(dir, { recursive: true });
  });

  it('an unknown machine exits 2 naming it and the known ones', async () => {
    const run = await cli('toaster');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`hv-balloon-sim: unknown machine "toaster" (known: ${machineNames().join(', ')})\n`);
  });

  it.each([
    [['channel', '--format', 'png'], 'bad --format "png": expected mermaid, dot, svg'],
    [['channel', '--expand'], '--expand goes with --format svg'],
    [[], 'name a machine'],
    [['--all'], '--all writes one file per machine: give --out-dir <dir>'],
    [['channel', '--all', '--out-dir', 'x'], 'give a machine name or --all, not both'],
    [['channel', '--out-dir', 'x'], '--out-dir goes with --all'],
  ])('rejects %j', async (argv, message) => {
    const run = await cli(...argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it('--all writes a Markdown page with SVG pictures and a mermaid block per machine, and an index', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diagrams-'));
    const run = await cli('--all', '--out-dir', dir);
    expect(run.code).toBe(0);
    const files = fs.readdirSync(dir);
    expect(files.filter((f) => f.endsWith('.md')).sort()).toEqual([...machineNames().map((n) => `${n}.md`), 'README.md'].sort());
    for (const entry of MACHINES) {
      const page = fs.readFileSync(path.join(dir, `${entry.name}.md`), 'utf8');
      expect(page).toContain(`\`\`\`mermaid\n${toMermaid(entry.machine)}\`\`\``);
      expect(page).toContain(entry.source);
      // Every picture the page shows was written beside it.
      const images = [...page.matchAll(/!\[[^\]]*\]\(([^)]+\.svg)\)/g)].map((m) => m[1]!);
      expect(images[0]).toBe(`${entry.name}.svg`);
      for (const image of images) expect(fs.readFileSync(path.join(dir, image), 'utf8')).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    }
    // The device's overview collapses its operations; each is drawn open on its own.
    expect(files.filter((f) => f.startsWith('device')).sort()).toEqual(['device-balloon.svg', 'device-hotAdd.svg', 'device-init.svg', 'device-unballoon.svg', 'device.md', 'device.svg']);
    const index = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
    for (const name of machineNames()) expect(index).toContain(`(${name}.md)`);
    expect(index).toContain('diagram --all --out-dir docs/diagrams');
    // Deterministic: a second run writes the same bytes.
    const first = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
    await cli('--all', '--out-dir', dir);
    expect(fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))).toEqual(first);
    fs.rmSync(dir, { recursive: true });
  });
});
