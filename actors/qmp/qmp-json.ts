/**
 * QMP's JSON as QEMU speaks it. Input is a stream of JSON texts with no framing: several per line,
 * or one split across packets. QmpJsonStreamer splits the stream the way QEMU 8.2's json-streamer
 * does (a message ends when its braces and brackets balance, or one of them goes negative) and
 * parses each message with QEMU's error reasons ("expected separator in dict", ...). A stray
 * character is answered once: like QEMU's json-lexer.c (IN_RECOVERY), the lexer then skips input
 * up to the next structural character ([ ] { } , :) or control character other than tab.
 * Output is QEMU's compact-but-spaced form: `{"return": {"actual": 4294967296}, "id": "x1"}`.
 */

/** One message read from the stream: a parsed JSON value, or why it could not be parsed. */
export type QmpInput = { kind: 'value'; value: unknown } | { kind: 'error'; reason: string };

type Token =
  | { type: '{' | '}' | '[' | ']' | ',' | ':' }
  | { type: 'string'; value: string; error?: string }
  | { type: 'number'; value: number }
  | { type: 'keyword'; text: string };

// QEMU json-streamer.c limits a message's nesting to 1024 and its size to 64 MiB; our size limit is
// far below because a QMP command is a few hundred bytes (docs/divergences.md).
export const MAX_NESTING = 1024;
export const MAX_MESSAGE_CHARS = 1 << 20;

/** QEMU json-streamer.c's texts for its limits; they are replied without the "JSON parse error" prefix. */
export const SIZE_LIMIT_REASON = 'JSON token size limit exceeded';
export const NESTING_LIMIT_REASON = 'JSON nesting depth limit exceeded';

/** The `desc` of the error reply to a bad message, as QEMU's monitor words it. */
export function parseErrorDesc(reason: string): string {
  return reason === SIZE_LIMIT_REASON || reason === NESTING_LIMIT_REASON ? reason : `JSON parse error, ${reason}`;
}

/** Where the lexer's error recovery stops skipping (QEMU json-lexer.c IN_RECOVERY). */
function endsRecovery(ch: string): boolean {
  return '[]{},:'.includes(ch) || (ch < ' ' && ch !== '\t');
}

export class QmpJsonStreamer {
  private buffer = '';
  private pos = 0;
  private tokens: Token[] = [];
  private braces = 0;
  private brackets = 0;
  private messageChars = 0;
  /** The lexer is skipping input after a stray character (QEMU json-lexer.c IN_RECOVERY). */
  private lexerRecovering = false;

  /** Feeds text (any split); returns the messages it completed, in order. */
  feed(text: string): QmpInput[] {
    this.buffer = this.buffer.slice(this.pos) + text;
    this.pos = 0;
    const out: QmpInput[] = [];
    while (this.pos < this.buffer.length) {
      if (this.lexerRecovering) {
        if (!endsRecovery(this.buffer[this.pos]!)) {
          this.pos++;
          continue;
        }
        this.lexerRecovering = false;
      }
      const start = this.pos;
      const lexed = this.lexOne();
      if (lexed === 'more') {
        if (this.buffer.length - this.pos + this.messageChars > MAX_MESSAGE_CHARS) {
          // An endless string or number: drop it rather than buffer without bound, and skip the
          // rest of it as the lexer skips after a stray character.
          this.buffer = '';
          this.pos = 0;
          this.reset();
          this.lexerRecovering = true;
          out.push({ kind: 'error', reason: SIZE_LIMIT_REASON });
        }
        break;
      }
      if (lexed === 'space') continue;
      if (!('type' in lexed)) {
        // QEMU json-streamer.c: a lexer error ends the message with one error; then the lexer recovers.
        this.reset();
        this.lexerRecovering = true;
        out.push({ kind: 'error', reason: lexed.error });
        continue;
      }
      this.messageChars += this.pos - start;
      this.push(lexed, out);
    }
    return out;
  }

  /** Characters held for an unfinished message (0 when the stream is between messages). */
  get pending(): number {
    return this.buffer.length - this.pos + this.messageChars;
  }

  private push(token: Token, out: QmpInput[]): void {
    this.tokens.push(token);
    if (token.type === '{') this.braces++;
    else if (token.type === '}') this.braces--;
    else if (token.type === '[') this.brackets++;
    else if (token.type === ']') this.brackets--;
    if (this.braces < 0 || this.brackets < 0 || (this.braces === 0 && this.brackets === 0)) {
      const tokens = this.tokens;
      this.reset();
      out.push(parseTokens(tokens));
    } else if (this.braces + this.brackets > MAX_NESTING) {
      this.reset();
      out.push({ kind: 'error', reason: NESTING_LIMIT_REASON });
    } else if (this.messageChars > MAX_MESSAGE_CHARS) {
      this.reset();
      out.push({ kind: 'error', reason: SIZE_LIMIT_REASON });
    }
  }

  private reset(): void {
    this.tokens = [];
    this.braces = 0;
    this.brackets = 0;
    this.messageChars = 0;
  }

  /** Reads one token at `pos`; 'more' when the token may continue in the next chunk. */
  private lexOne(): Token | 'space' | 'more' | { error: string } {
    const text = this.buffer;
    const ch = text[this.pos]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      this.pos++;
      return 'space';
    }
    if (ch === '{' || ch === '}' || ch === '[' || ch === ']' || ch === ',' || ch === ':') {
      this.pos++;
      return { type: ch };
    }
    // QEMU's JSON also takes 'single-quoted' strings.
    if (ch === '"' || ch === "'") return this.lexString(ch);
    if (ch === '-' || (ch >= '0' && ch <= '9')) {
      let end = this.pos;
      while (end < text.length && /[0-9+\-.eE]/.test(text[end]!)) end++;
      if (end === text.length) return 'more';
      const literal = text.slice(this.pos, end);
      this.pos = end;
      if (!/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(literal)) return { error: `invalid number '${literal}'` };
      return { type: 'number', value: Number(literal) };
    }
    if (/[a-zA-Z]/.test(ch)) {
      let end = this.pos;
      while (end < text.length && /[a-zA-Z]/.test(text[end]!)) end++;
      if (end === text.length) return 'more';
      const word = text.slice(this.pos, end);
      this.pos = end;
      return { type: 'keyword', text: word };
    }
    this.pos++;
    return { error: `stray '${ch}'` };
  }

  private lexString(quote: string): Token | 'more' | { error: string } {
    const text = this.buffer;
    let i = this.pos + 1;
    let value = '';
    let error: string | undefined;
    for (;;) {
      if (i >= text.length) return 'more';
      const c = text[i]!;
      if (c === quote) break;
      if (c < ' ') {
        this.pos = i + 1;
        return { error: 'control character in string' };
      }
      if (c !== '\\') {
        value += c;
        i++;
        continue;
      }
      if (i + 1 >= text.length) return 'more';
      const esc = text[i + 1]!;
      const simple = SIMPLE_ESCAPES[esc];
      if (simple !== undefined) {
        value += simple;
        i += 2;
        continue;
      }
      if (esc !== 'u') {
        error ??= 'invalid escape sequence in string';
        i += 2;
        continue;
      }
      if (i + 6 > text.length) return 'more';
      const hex = text.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        error ??= `\\u${hex} is not a valid Unicode character`;
        i += 2;
        continue;
      }
      const unit = parseInt(hex, 16);
      i += 6;
      if (unit >= 0xd800 && unit <= 0xdbff) {
        // A high surrogate may pair with a \uDC00-\uDFFF that has not arrived yet.
        const following = text.slice(i, i + 6);
        if (following.length < 6 && '\\u'.startsWith(following.slice(0, 2))) return 'more';
        const low = /^\\u([dD][c-fC-F][0-9a-fA-F]{2})$/.exec(following);
        if (low) {
          value += String.fromCharCode(unit, parseInt(low[1]!, 16));
          i += 6;
          continue;
        }
      }
      if (unit >= 0xd800 && unit <= 0xdfff) {
        error ??= `\\u${hex} is not a valid Unicode character`;
        continue;
      }
      value += String.fromCharCode(unit);
    }
    this.pos = i + 1;
    return error === undefined ? { type: 'string', value } : { type: 'string', value, error };
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  "'": "'",
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

class ParseFailure extends Error {}

/** Parses one message's tokens; the first error wins, as in QEMU's json-parser. */
function parseTokens(tokens: readonly Token[]): QmpInput {
  let index = 0;
  const fail = (reason: string): never => {
    throw new ParseFailure(reason);
  };
  const next = (): Token => tokens[index++] ?? fail('premature EOI');
  const peek = (): Token => tokens[index] ?? fail('premature EOI');

  const value = (): unknown => {
    const token = peek();
    switch (token.type) {
      case '{':
        return object();
      case '[':
        return array();
      case 'string':
        index++;
        if (token.error !== undefined) fail(token.error);
        return token.value;
      case 'number':
        index++;
        return token.value;
      case 'keyword':
        index++;
        if (token.text === 'true') return true;
        if (token.text === 'false') return false;
        if (token.text === 'null') return null;
        return fail(`invalid keyword '${token.text}'`);
      default:
        return fail('expecting value');
    }
  };

  const object = (): Record<string, unknown> => {
    index++;
    const result: Record<string, unknown> = {};
    if (peek().type === '}') {
      index++;
      return result;
    }
    for (;;) {
      const keyToken = peek();
      const key = value();
      if (typeof key !== 'string' || keyToken.type !== 'string') fail('key is not a string in object');
      if (next().type !== ':') fail('missing : in object pair');
      const member = value();
      if (Object.hasOwn(result, key as string)) fail('duplicate key');
      // defineProperty: a "__proto__" key stays an ordinary member.
      Object.defineProperty(result, key as string, { value: member, enumerable: true, writable: true, configurable: true });
      const separator = next();
      if (separator.type === '}') return result;
      if (separator.type !== ',') fail('expected separator in dict');
    }
  };

  const array = (): unknown[] => {
    index++;
    const result: unknown[] = [];
    if (peek().type === ']') {
      index++;
      return result;
    }
    for (;;) {
      result.push(value());
      const separator = next();
      if (separator.type === ']') return result;
      if (separator.type !== ',') fail('expected separator in list');
    }
  };

  try {
    const parsed = value();
    if (index < tokens.length) fail('unexpected tokens after the value');
    return { kind: 'value', value: parsed };
  } catch (error) {
    if (error instanceof ParseFailure) return { kind: 'error', reason: error.message };
    throw error;
  }
}

/**
 * A value in QEMU's QMP output form: `{"a": 1, "b": [1, 2]}`. Strings escape `"`, `\`, the
 * usual control characters, and everything outside printable ASCII as \uXXXX (QEMU qjson.c does
 * the same). Members whose value is undefined are left out.
 */
export function toQmpJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'bigint':
      return value.toString();
    case 'string':
      return quote(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(toQmpJson).join(', ')}]`;
      const members: string[] = [];
      for (const [key, member] of Object.entries(value)) {
        if (member !== undefined) members.push(`${quote(key)}: ${toQmpJson(member)}`);
      }
      return `{${members.join(', ')}}`;
    }
    default:
      return 'null';
  }
}

const QUOTE_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

function quote(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const code = text.charCodeAt(i);
    const escaped = QUOTE_ESCAPES[ch];
    if (escaped !== undefined) out += escaped;
    else if (code < 0x20 || code >= 0x7f) out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * A JSON.stringify replacer for values QMP carries as 64-bit integers beyond JavaScript's safe
 * range (virtio-balloon's unset guest-stats are 2^64 - 1): plain JSON gets their exact digits as a
 * string; QMP output (toQmpJson) prints them as numbers, as QEMU does.
 */
export function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
