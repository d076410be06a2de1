/**
 * `diagram <machine> [--format mermaid|dot] [--out <file>]`: a statechart diagram generated from
 * the machine itself. `diagram --all --out-dir <dir>` writes <dir>/<name>.md (a Markdown page with a
 * mermaid block, which GitHub renders) for every machine, plus <dir>/README.md listing them.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { MACHINES, findMachine, machineNames, type RegisteredMachine } from '../../diagram/machine-registry';
import { DIAGRAM_FORMATS, renderDiagram, type DiagramFormat } from '../../diagram/statechart-diagram';
import { CliError } from '../cli-error';
import type { CliIo } from '../cli-io';

interface DiagramOptions {
  format: string;
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
    .option('--format <format>', `${DIAGRAM_FORMATS.join(' or ')}`, 'mermaid')
    .option('--out <file>', 'write the diagram to this file instead of stdout')
    .option('--all', 'write a diagram page for every machine into --out-dir')
    .option('--out-dir <dir>', 'with --all: the folder for <machine>.md pages (or <machine>.dot with --format dot)')
    .addHelpText(
      'after',
      '\nExamples:\n  hv-balloon-sim diagram channel\n  hv-balloon-sim diagram vcpu --format dot --out vcpu.dot\n  hv-balloon-sim diagram --all --out-dir docs/diagrams',
    )
    .action((name: string | undefined, options: DiagramOptions) => {
      const format = parseFormat(options.format);
      if (options.all) {
        if (name !== undefined) throw new CliError(`give a machine name or --all, not both (got ${JSON.stringify(name)})`);
        if (options.out !== undefined) throw new CliError('--out writes one diagram; with --all use --out-dir <dir>');
        if (options.outDir === undefined) throw new CliError('--all writes one file per machine: give --out-dir <dir>');
        const written = writeAllDiagrams(options.outDir, format);
        io.stdout(`${written.map((file) => `wrote ${file}`).join('\n')}\n`);
        return;
      }
      if (options.outDir !== undefined) throw new CliError('--out-dir goes with --all; for one machine use --out <file>');
      if (name === undefined) throw new CliError(`name a machine (${machineNames().join(', ')}) or use --all`);
      const entry = findMachine(name);
      if (!entry) throw new CliError(`unknown machine ${JSON.stringify(name)} (known: ${machineNames().join(', ')})`);
      const text = renderDiagram(entry.machine, format);
      if (options.out === undefined) {
        io.stdout(text);
        return;
      }
      writeFile(options.out, text);
      io.stdout(`wrote ${options.out}\n`);
    });
}

function parseFormat(format: string): DiagramFormat {
  const found = DIAGRAM_FORMATS.find((f) => f === format);
  if (!found) throw new CliError(`bad --format ${JSON.stringify(format)}: expected ${DIAGRAM_FORMATS.join(' or ')}`);
  return found;
}

function writeFile(file: string, text: string): void {
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`cannot write ${file}: ${reason}`, 1);
  }
}

/** Writes every machine's page (and, for Mermaid, the README index); returns the files written. */
export function writeAllDiagrams(outDir: string, format: DiagramFormat): string[] {
  const written: string[] = [];
  for (const entry of MACHINES) {
    const file = path.join(outDir, `${entry.name}.${format === 'dot' ? 'dot' : 'md'}`);
    writeFile(file, format === 'dot' ? renderDiagram(entry.machine, 'dot') : diagramPage(entry));
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
].join('\n');

/** One Markdown page per machine; deterministic (no dates), so regenerating changes nothing. */
export function diagramPage(entry: RegisteredMachine): string {
  return [
    `# \`${entry.name}\`: ${entry.title}`,
    '',
    `Generated from [\`${entry.source}\`](../../${entry.source}) by \`${REGENERATE_COMMAND}\`.`,
    'Do not edit: change the machine and regenerate.',
    '',
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
