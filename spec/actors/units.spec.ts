import { formatDuration, formatSize, parseDuration, parseSize, UnitsError } from '../../actors/units';

describe('parseSize: sizes as QEMU reads them (binary units, plain number = bytes)', () => {
  it.each([
    ['4096', 4096],
    ['4G', 4 * 2 ** 30],
    ['4g', 4 * 2 ** 30],
    ['512M', 512 * 2 ** 20],
    ['64K', 65536],
    ['1T', 2 ** 40],
    ['1.5G', 1.5 * 2 ** 30],
    ['4GiB', 4 * 2 ** 30],
    ['100B', 100],
    [' 2 M ', 2 * 2 ** 20],
    ['0', 0],
  ])('%j is %d bytes', (text, bytes) => {
    expect(parseSize(text, '--memory')).toBe(bytes);
  });

  it('takes a JSON number as bytes', () => {
    expect(parseSize(8192, 'target')).toBe(8192);
  });

  it.each([
    ['lots', /--memory: invalid size "lots"/],
    ['4X', /--memory: invalid size "4X"/],
    ['-1G', /--memory: invalid size "-1G"/],
    ['', /--memory: invalid size ""/],
    ['1.5', /needs a K, M, G or T suffix/],
    ['0.3K', /not a whole number of bytes/],
    ['16E', /too large/],
    ['4GB', /invalid size "4GB"/],
  ])('refuses %j naming the field and the value', (text, message) => {
    expect(() => parseSize(text, '--memory')).toThrow(message);
  });

  it('throws UnitsError carrying field and value', () => {
    try {
      parseSize('big', 'memdev');
      throw new Error('no error');
    } catch (error) {
      expect(error).toBeInstanceOf(UnitsError);
      expect(error).toMatchObject({ field: 'memdev', value: 'big' });
    }
  });

  it('refuses negative and fractional byte numbers', () => {
    expect(() => parseSize(-1, 'target')).toThrow('target: invalid size -1');
    expect(() => parseSize(1.5, 'target')).toThrow('target: invalid size 1.5');
  });
});

describe('parseDuration: virtual time in ms (ms, s, min, h; plain number = ms)', () => {
  it.each([
    ['250', 250],
    ['250ms', 250],
    ['10s', 10_000],
    ['1.5s', 1500],
    ['2min', 120_000],
    ['1h', 3_600_000],
    [' 3 s ', 3000],
    ['0', 0],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text, 'run')).toBe(ms);
  });

  it('says "min" or "ms" when given the ambiguous "m"', () => {
    expect(() => parseDuration('5m', 'run')).toThrow('run: invalid time "5m" (use "min" for minutes or "ms" for milliseconds)');
  });

  it.each(['soon', '-1s', '10 days', '1e3'])('refuses %j naming the field and the value', (text) => {
    expect(() => parseDuration(text, 'after')).toThrow(`after: invalid time "${text}"`);
  });

  it('takes a JSON number as ms and refuses a negative one', () => {
    expect(parseDuration(1500, 'at')).toBe(1500);
    expect(() => parseDuration(-5, 'at')).toThrow('at: invalid time -5');
  });
});

describe('formatting for people', () => {
  it('prints sizes in the largest exact binary unit', () => {
    expect(formatSize(4 * 2 ** 30)).toBe('4G');
    expect(formatSize(1536 * 2 ** 20)).toBe('1536M');
    expect(formatSize(1000)).toBe('1000');
    expect(parseSize(formatSize(3 * 2 ** 40), 'x')).toBe(3 * 2 ** 40);
  });

  it('prints durations with a readable unit', () => {
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(12_500)).toBe('12.5s');
    expect(formatDuration(200_000)).toBe('3min 20s');
    expect(formatDuration(7_500_000)).toBe('2h 5min');
  });
});
