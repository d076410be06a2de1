/**
 * `diagram <machine> [--format mermaid|dot|svg] [--out <file>]`: a statechart diagram generated from
 * the machine itself. SVG is laid out by ELK as the live view draws it (statechart-layout.ts).
 * `diagram --all --out-dir <dir>` writes, for every machine, <dir>/<name>.svg (the overview) and
 * <dir>/<name>-<box>.svg (each collapsed box opened), <dir>/<name>.md (those pictures and a mermaid
 * block, which GitHub renders), plus <dir>/README.md listing them.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { MACHINES, findMachine, machineNames, type RegisteredMachine } from '../../diagram/machine-registry';
import { DIAGRAM_FORMATS, describeStatechart, renderDiagram, type DiagramFormat } from '../../diagram/statechart-diagram';
import type { StatechartPicture } from '../../diagram/statechart-svg';

// The layout engine (elkjs) is loaded only for SVG, not when the CLI starts (the cli-startup benchmark).
const svgModule = (): typeof import('../../diagram/statechart-svg') => require('../../diagram/statechart-svg') as typeof import('../../diagram/statechart-svg');
const layoutModule = (): typeof import('../../diagram/statechart-layout') => require('../../diagram/statechart-layout') as typeof import('../../diagram/statechart-layout');
import { CliError } from '../cli-error';
import type { CliIo } from '../cli-io';

/** The formats the command writes: the text formats, and SVG pictures. */
type CliFormat = DiagramFormat | 'svg';
const CLI_FORMATS: readonly CliFormat[] = [...DIAGRAM_FORMATS, 'svg'];

interface DiagramOptions {
  format: string;
  expand?: boolean;
  out?: string;
  all?: boolean;
  outDir?: string;
}

/** The command that regenerates docs/diagrams, as printed on every generated page. */
export const REGENERATE_COMMAND = 'npm run cli -- diagram --all --out-dir docs/diagrams';

export function registerDiagramCommand(program: Command, io: CliIo): void {
  program
    .command('diagram')
    .description('print the statechart diagram of a machine (Mermaid or Graphviz DOT), generated from its definition')
    .argument('[machine]', `the machine: ${machineNames().join(', ')}`)
    .option('--format <format>', `${CLI_FORMATS.join(', ')} (svg: laid out as the live view draws it)`, 'mermaid')
    .option('--expand', 'with --format svg: open every compound state (by default the innermost big ones are collapsed, as in the view)')
    .option('--out <file>', 'write the diagram to this file instead of stdout')
    .option('--all', 'write a diagram page for every machine into --out-dir')
    .option('--out-dir <dir>', 'with --all: the folder for <machine>.md pages (or <machine>.dot with --format dot)')
    .addHelpText(
      'after',
      '\nExamples:\n  hv-balloon-sim diagram channel\n  hv-balloon-sim diagram device --format svg --out device.svg\n  hv-balloon-sim diagram vcpu --format dot --out vcpu.dot\n  hv-balloon-sim diagram --all --out-dir docs/diagrams',
    )
    .action(async (name: string | undefined, options: DiagramOptions) => {
      const format = parseFormat(options.format);
      if (options.all) {
        if (name !== undefined) throw new CliError(`give a machine name or --all, not both (got ${JSON.stringify(name)})`);
        if (options.out !== undefined) throw new CliError('--out writes one diagram; with --all use --out-dir <dir>');
        if (options.outDir === undefined) throw new CliError('--all writes one file per machine: give --out-dir <dir>');
        const written = await writeAllDiagrams(options.outDir, format);
        io.stdout(`${written.map((file) => `wrote ${file}`).join('\n')}\n`);
        return;
      }
      if (options.outDir !== undefined) throw new CliError('--out-dir goes with --all; for one machine use --out <file>');
      if (name === undefined) throw new CliError(`name a machine (${machineNames().join(', ')}) or use --all`);
      const entry = findMachine(name);
      if (!entry) throw new CliError(`unknown machine ${JSON.stringify(name)} (known: ${machineNames().join(', ')})`);
      if (options.expand && format !== 'svg') throw new CliError('--expand goes with --format svg');
      const text = format === 'svg' ? await svgDiagram(entry, options.expand === true) : renderDiagram(entry.machine, format);
      if (options.out === undefined) {
        io.stdout(text);
        return;
      }
      writeFile(options.out, text);
      io.stdout(`wrote ${options.out}\n`);
    });
}

function parseFormat(format: string): CliFormat {
  const found = CLI_FORMATS.find((f) => f === format);
  if (!found) throw new CliError(`bad --format ${JSON.stringify(format)}: expected ${CLI_FORMATS.join(', ')}`);
  return found;
}

/** One machine as SVG: as the view first shows it, or with every box open. */
export async function svgDiagram(entry: RegisteredMachine, expand: boolean): Promise<string> {
  const { layoutStatechart, defaultCollapsed } = layoutModule();
  const chart = describeStatechart(entry.machine);
  return svgModule().renderStatechartSvg(await layoutStatechart(chart, { collapsed: expand ? [] : defaultCollapsed(chart) }), entry.title);
}

const pictureFile = (entry: RegisteredMachine, p: StatechartPicture): string => `${entry.name}${p.part === '' ? '' : `-${p.part}`}.svg`;

function writeFile(file: string, text: string): void {
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`cannot write ${file}: ${reason}`, 1);
  }
}

/**
 * Writes every machine's page (Mermaid: with its SVG pictures, and the README index; DOT: a .dot
 * file; SVG: the pictures only); returns the files written.
 */
export async function writeAllDiagrams(outDir: string, format: CliFormat): Promise<string[]> {
  const written: string[] = [];
  for (const entry of MACHINES) {
    const pictures = format === 'dot' ? [] : await svgModule().statechartPictures(describeStatechart(entry.machine), entry.title);
    for (const p of pictures) {
      const file = path.join(outDir, pictureFile(entry, p));
      writeFile(file, p.svg);
      written.push(file);
    }
    if (format === 'svg') continue;
    const file = path.join(outDir, `${entry.name}.${format === 'dot' ? 'dot' : 'md'}`);
    writeFile(file, format === 'dot' ? renderDiagram(entry.machine, 'dot') : diagramPage(entry, pictures));
    written.push(file);
  }
  if (format === 'mermaid') {
    const index = path.join(outDir, 'README.md');
    writeFile(index, diagramIndex(MACHINES));
    written.push(index);
  }
  return written;
}

const LEGEND = [
  'How to read it: `[*] -->` marks the initial state (and `--> [*]` a final one). An arrow is labelled with',
  'the event that takes it; `after X` is a timer (a delay on the virtual clock), `[guard]` a condition,',
  'and an arrow labelled `always` or with only `[guard]` is taken without an event, as soon as the',
  'state is entered. An arrow from a state back to itself handles the event without leaving the',
  'state. A dashed "(any state)" node stands for every state inside the box it is drawn in (or the',
  'whole machine at the top level): its arrows apply wherever the machine is in there.',
  'In the SVG pictures, the small `on E` lines inside a state are events it handles without leaving',
  'it (`(re-enter)`: it leaves and enters itself again), drawn there instead of as loops.',
].join('\n');

/** One Markdown page per machine; deterministic (no dates), so regenerating changes nothing. */
export function diagramPage(entry: RegisteredMachine, pictures: readonly StatechartPicture[] = []): string {
  const images = pictures.flatMap((p) => [
    p.part === '' ? '## The whole machine' : `## Inside \`${p.part}\``,
    '',
    p.part === ''
      ? 'Laid out as the live view (`hv-balloon-sim view`) first draws it: a blue box is a compound state shown collapsed; it is drawn open below.'
      : `The states inside the \`${p.part}\` box and the transitions between them.`,
    '',
    `![${p.title}](${pictureFile(entry, p)})`,
    '',
  ]);
  return [
    `# \`${entry.name}\`: ${entry.title}`,
    '',
    `Generated from [\`${entry.source}\`](../../${entry.source}) by \`${REGENERATE_COMMAND}\`.`,
    'Do not edit: change the machine and regenerate.',
    '',
    ...images,
    ...(images.length > 0 ? ['## As Mermaid text', ''] : []),
    '```mermaid',
    renderDiagram(entry.machine, 'mermaid').trimEnd(),
    '```',
    '',
    LEGEND,
    '',
  ].join('\n');
}

export function diagramIndex(entries: readonly RegisteredMachine[]): string {
  return [
    '# Statechart diagrams',
    '',
    'Every part of the emulated VM is an XState statechart. These pages are generated from the',
    'machines themselves, so they show exactly what the code does:',
    '',
    ...entries.map((e) => `- [\`${e.name}\`](${e.name}.md): ${e.title} (\`${e.source}\`)`),
    '',
    'Regenerate them all (after changing a machine) with:',
    '',
    '```sh',
    REGENERATE_COMMAND,
    '```',
    '',
    'One machine, printed or as Graphviz DOT:',
    '',
    '```sh',
    'npm run cli -- diagram channel',
    'npm run cli -- diagram vcpu --format dot --out vcpu.dot   # then: dot -Tsvg vcpu.dot -o vcpu.svg',
    '```',
    '',
    'To watch the machines run rather than read them, see [the inspector guide](../inspector.md).',
    '',
  ].join('\n');
}
