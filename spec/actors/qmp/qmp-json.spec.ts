import { QmpJsonStreamer, toQmpJson, type QmpInput } from '../../../actors/qmp/qmp-json';

const value = (v: unknown): QmpInput => ({ kind: 'value', value: v });
const error = (reason: string): QmpInput => ({ kind: 'error', reason });

function feedAll(...chunks: string[]): QmpInput[] {
  const streamer = new QmpJsonStreamer();
  return chunks.flatMap((chunk) => streamer.feed(chunk));
}

describe('QMP input stream: JSON objects without framing', () => {
  it('reads one command per line', () => {
    expect(feedAll('{"execute": "qmp_capabilities"}\n')).toEqual([value({ execute: 'qmp_capabilities' })]);
  });

  it('reads several commands on one line', () => {
    expect(feedAll('{"execute": "stop"}{"execute": "cont"} {"execute": "quit"}')).toEqual([
      value({ execute: 'stop' }),
      value({ execute: 'cont' }),
      value({ execute: 'quit' }),
    ]);
  });

  it('reads a command split across packets, even inside strings, escapes and numbers', () => {
    const text = '{"execute": "balloon", "arguments": {"value": 2147483648}, "id": "a\\"b\\u00e9"}\r\n';
    const expected = [value({ execute: 'balloon', arguments: { value: 2147483648 }, id: 'a"bé' })];
    for (let cut = 1; cut < text.length; cut++) {
      expect(feedAll(text.slice(0, cut), text.slice(cut))).toEqual(expected);
    }
    expect(feedAll(...text.split(''))).toEqual(expected);
  });

  it('reads every JSON value type, and QEMU\'s single-quoted strings', () => {
    expect(feedAll(`{"a": [1, -2.5e3, true, false, null, {}, []], 'b': 'x"y'}`)).toEqual([
      value({ a: [1, -2500, true, false, null, {}, []], b: 'x"y' }),
    ]);
  });

  it('decodes surrogate pairs', () => {
    expect(feedAll('{"s": "\\ud83d\\ude00"}')).toEqual([value({ s: '😀' })]);
  });

  it('hands over top-level non-objects for the dispatcher to refuse', () => {
    expect(feedAll('[1, 2]\n42\n"x"\n')).toEqual([value([1, 2]), value(42), value('x')]);
  });

  it('keeps a "__proto__" key as an ordinary member', () => {
    const [input] = feedAll('{"__proto__": {"polluted": true}}');
    expect(input).toEqual({ kind: 'value', value: expect.anything() });
    const parsed = (input as { value: Record<string, unknown> }).value;
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  describe('errors carry QEMU\'s json-parser reasons', () => {
    it.each([
      ['{"execute": "query-balloon"]', 'expected separator in dict'],
      ['[1 2]', 'expected separator in list'],
      ['{"a" 1}', 'missing : in object pair'],
      ['{1: 2}', 'key is not a string in object'],
      ['{"a": }', 'expecting value'],
      ['{"a": 1, "a": 2}', 'duplicate key'],
      ['{"a": nope}', "invalid keyword 'nope'"],
      ['{"a": "\\q"}', 'invalid escape sequence in string'],
      ['{"a": "\\ud800"}', '\\ud800 is not a valid Unicode character'],
      ['}', 'expecting value'],
      ['{"a": 01}', "invalid number '01'"],
      ['{"a": @}', "stray '@'"],
    ])('%s -> %s', (text, reason) => {
      expect(feedAll(`${text}\n`)[0]).toEqual(error(reason));
    });
  });

  it('goes on with the next command after a malformed one', () => {
    expect(feedAll('{"execute": "query-balloon"]\n{"execute": "query-status"}\n')).toEqual([
      error('expected separator in dict'),
      value({ execute: 'query-status' }),
    ]);
    expect(feedAll('{"a": @}{"execute": "stop"}')).toEqual([error("stray '@'"), error('expecting value'), value({ execute: 'stop' })]);
  });

  it('answers a run of stray bytes once, resynchronising at a structural or control character (QEMU json-lexer.c)', () => {
    expect(feedAll('@#$%^&*@#$%^&*\n{"execute": "stop"}')).toEqual([error("stray '@'"), value({ execute: 'stop' })]);
    expect(feedAll('@'.repeat(100_000), '\n{"execute": "cont"}')).toEqual([error("stray '@'"), value({ execute: 'cont' })]);
    // A control character ends the skipping (clients send one to resynchronise), so each is answered.
    expect(feedAll('\u0001\u0002\u0003\r\n')).toEqual([error("stray '\u0001'"), error("stray '\u0002'"), error("stray '\u0003'")]);
  });

  it('waits for the rest of an unfinished object', () => {
    const streamer = new QmpJsonStreamer();
    expect(streamer.feed('{"execute": "stop", "arguments": {')).toEqual([]);
    expect(streamer.pending).toBeGreaterThan(0);
    expect(streamer.feed('}}')).toEqual([value({ execute: 'stop', arguments: {} })]);
    expect(streamer.pending).toBe(0);
  });

  it('refuses nesting deeper than 1024 and keeps serving', () => {
    expect(feedAll('['.repeat(1025), '{"execute": "stop"}')).toEqual([error('JSON nesting depth limit exceeded'), value({ execute: 'stop' })]);
  });

  it('refuses a message of more than 1 MiB instead of buffering it forever', () => {
    const streamer = new QmpJsonStreamer();
    const out = streamer.feed(`{"id": "${'x'.repeat(1 << 20)}`);
    expect(out).toEqual([error('JSON token size limit exceeded')]);
    expect(streamer.pending).toBe(0);
    // The rest of the endless string is skipped up to the next structural character or line end.
    expect(streamer.feed(`${'y'.repeat(1000)}\n{"execute": "stop"}`)).toEqual([value({ execute: 'stop' })]);
  });
});

describe('QMP output: QEMU\'s compact-but-spaced JSON', () => {
  it('writes replies as a real QEMU session shows them', () => {
    expect(toQmpJson({ return: { actual: 4294967296 }, id: 'x1' })).toBe('{"return": {"actual": 4294967296}, "id": "x1"}');
    expect(toQmpJson({ return: {} })).toBe('{"return": {}}');
    expect(toQmpJson({ return: [] })).toBe('{"return": []}');
    expect(toQmpJson({ return: { status: 'prelaunch', singlestep: false, running: false } })).toBe(
      '{"return": {"status": "prelaunch", "singlestep": false, "running": false}}',
    );
    expect(toQmpJson({ QMP: { version: { qemu: { micro: 0, minor: 2, major: 8 }, package: 'p' }, capabilities: ['oob'] } })).toBe(
      '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 8}, "package": "p"}, "capabilities": ["oob"]}}',
    );
  });

  it('escapes HMP text as QEMU does', () => {
    expect(toQmpJson('invalid char \'l\' in expression\r\nTry "help balloon" for more information\r\n')).toBe(
      '"invalid char \'l\' in expression\\r\\nTry \\"help balloon\\" for more information\\r\\n"',
    );
    expect(toQmpJson('a\\b\t\u0001é😀')).toBe('"a\\\\b\\t\\u0001\\u00E9\\uD83D\\uDE00"');
  });

  it('leaves out undefined members and writes what it cannot represent as null', () => {
    expect(toQmpJson({ a: undefined, b: null, c: Infinity, d: 10n })).toBe('{"b": null, "c": null, "d": 10}');
  });

  it('round-trips through the input parser', () => {
    const reply = { return: { s: 'x"\\\n\u00e9', n: [1.5, -3, 0], b: true }, id: { nested: ['id'] } };
    expect(feedAll(toQmpJson(reply))).toEqual([value(reply)]);
  });
});
