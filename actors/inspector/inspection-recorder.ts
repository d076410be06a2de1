/**
 * The offline alternative to the live Stately inspector: an XState `inspect` observer that records
 * every event delivered between actors (who sent it, who got it, its type, the virtual time) and
 * renders the record as a Mermaid `sequenceDiagram`, which GitHub and most Markdown viewers draw.
 * No network, no browser, no ESM package: it works anywhere, and the same run gives the same text.
 */
import type { InspectionEvent } from 'xstate';
import { actorName } from './inspection-sanitizer';
import type { SenderNotes } from './sender-notes';

/** One delivered event. `from` is 'external' when it was sent from outside any actor (actor.send) by an unknown sender. */
export interface RecordedMessage {
  /** Virtual time of delivery, in ms. */
  at: number;
  from: string;
  to: string;
  type: string;
}

export interface InspectionRecorderOptions {
  /** The virtual clock's time, in ms (e.g. `() => clock.now()`). */
  now: () => number;
  /** Messages kept, the first ones; later ones are only counted. Default 500. */
  maxMessages?: number;
  /** Also record XState's own events (xstate.init, xstate.after.*, xstate.done.*). Default false. */
  includeXStateEvents?: boolean;
  /** Keep only the messages this accepts (e.g. drop a part's events to itself). */
  filter?: (message: RecordedMessage) => boolean;
  /**
   * Senders of events delivered from outside XState, e.g. by the VM's message bus
   * (sender-notes.ts); without them such events are drawn from 'external'.
   */
  senders?: SenderNotes;
}

export interface InspectionRecorder {
  /** Pass as `createActor(root, { inspect: recorder.inspect })`. */
  readonly inspect: (event: InspectionEvent) => void;
  /** The recorded messages, in delivery order. */
  readonly messages: readonly RecordedMessage[];
  /** Messages seen after the limit was reached. */
  readonly dropped: number;
  toMermaidSequence(options?: SequenceDiagramOptions): string;
  clear(): void;
}

export const EXTERNAL_SENDER = 'external';
export const DEFAULT_MAX_MESSAGES = 500;

export function createInspectionRecorder(options: InspectionRecorderOptions): InspectionRecorder {
  const maxMessages = options.maxMessages ?? DEFAULT_MAX_MESSAGES;
  if (!Number.isInteger(maxMessages) || maxMessages < 0) {
    throw new RangeError(`maxMessages must be an integer >= 0, got ${String(maxMessages)}`);
  }
  const messages: RecordedMessage[] = [];
  let dropped = 0;
  const inspect = (event: InspectionEvent): void => {
    if (event.type !== '@xstate.event') return;
    const type = event.event.type;
    const to = actorName(event.actorRef);
    // The note is used up even when the message is filtered out.
    const noted = event.sourceRef ? undefined : options.senders?.take(to, type);
    if (!options.includeXStateEvents && type.startsWith('xstate.')) return;
    const from = event.sourceRef ? actorName(event.sourceRef) : (noted ?? EXTERNAL_SENDER);
    const message: RecordedMessage = { at: options.now(), from, to, type };
    if (options.filter && !options.filter(message)) return;
    if (messages.length >= maxMessages) {
      dropped++;
      return;
    }
    messages.push(message);
  };
  return {
    inspect,
    messages,
    get dropped() {
      return dropped;
    },
    toMermaidSequence: (diagramOptions) => toMermaidSequence(messages, { dropped, ...diagramOptions }),
    clear: () => {
      messages.length = 0;
      dropped = 0;
    },
  };
}

export interface SequenceDiagramOptions {
  /** Draw at most this many messages (the first ones). Default: all given. */
  limit?: number;
  /** Messages that were not recorded at all, added to the "not shown" note. */
  dropped?: number;
  /** Show the virtual time on each message. Default true. */
  showTime?: boolean;
}

/** Words Mermaid's sequence grammar reserves; a participant with such a name gets an alias. */
const SEQUENCE_RESERVED = new Set([
  'participant', 'actor', 'as', 'note', 'over', 'left', 'right', 'of', 'loop', 'alt', 'else', 'opt', 'par', 'and',
  'rect', 'end', 'activate', 'deactivate', 'autonumber', 'critical', 'break', 'box', 'title', 'link', 'links',
  'create', 'destroy', 'option',
]);

const ENTITIES: Readonly<Record<string, string>> = { '#': '#35;', ';': '#59;', '>': '#gt;' };

function sequenceText(text: string): string {
  // ';' and '#' are syntax in Mermaid message text, and '>' could make an arrow.
  // One pass, so the ';' of an inserted entity code is not escaped again.
  return text.replace(/[\r\n]+/g, ' ').replace(/[#;>]/g, (c) => ENTITIES[c]);
}

/** "1000 ms", "0.01 ms": virtual ms with at most 3 decimals. */
export function formatMs(ms: number): string {
  return `${Number(ms.toFixed(3))} ms`;
}

/**
 * A Mermaid `sequenceDiagram` of `messages`: one participant per actor in order of first
 * appearance, one arrow per message, numbered, labelled "[time] event type".
 */
export function toMermaidSequence(messages: readonly RecordedMessage[], options: SequenceDiagramOptions = {}): string {
  const limit = options.limit ?? messages.length;
  const shown = messages.slice(0, Math.max(0, limit));
  const notShown = messages.length - shown.length + (options.dropped ?? 0);
  const showTime = options.showTime ?? true;

  const aliases = new Map<string, string>();
  const used = new Set<string>();
  const lines = ['sequenceDiagram', '  autonumber'];
  const participant = (name: string): string => {
    let alias = aliases.get(name);
    if (alias !== undefined) return alias;
    const plain = /^[A-Za-z][A-Za-z0-9_]*$/.test(name) && !SEQUENCE_RESERVED.has(name.toLowerCase()) && !used.has(name);
    alias = name;
    for (let n = aliases.size + 1; !plain && (alias === name || used.has(alias)); n++) alias = `p${n}`;
    aliases.set(name, alias);
    used.add(alias);
    lines.push(plain ? `  participant ${alias}` : `  participant ${alias} as ${sequenceText(name)}`);
    return alias;
  };
  for (const m of shown) {
    participant(m.from);
    participant(m.to);
  }
  for (const m of shown) {
    const label = showTime ? `[${formatMs(m.at)}] ${m.type}` : m.type;
    lines.push(`  ${aliases.get(m.from)}->>${aliases.get(m.to)}: ${sequenceText(label)}`);
  }
  if (notShown > 0 && aliases.size > 0) {
    const all = [...aliases.values()];
    const span = all.length > 1 ? `${all[0]},${all[all.length - 1]}` : all[0];
    lines.push(`  Note over ${span}: … ${notShown} more message${notShown === 1 ? '' : 's'} not shown`);
  }
  return `${lines.join('\n')}\n`;
}
