/** Dynamic Memory settings are checked with Hyper-V's rules; each refusal names the field. */
import { validateDynamicMemory, type DynamicMemorySettings } from '../../../machines/policy/dynamic-memory';

const M = 2 ** 20;
const G = 2 ** 30;
const ok: DynamicMemorySettings = { startupBytes: 4 * G, minimumBytes: G, maximumBytes: 16 * G, bufferPercent: 20, weight: 5000 };

describe('Dynamic Memory settings', () => {
  it('accepts minimum <= startup <= maximum with a buffer 5..2000 and a weight 1..10000', () => {
    expect(validateDynamicMemory(ok, 'dm')).toEqual(ok);
    expect(() => validateDynamicMemory({ ...ok, minimumBytes: 4 * G, maximumBytes: 4 * G, bufferPercent: 5, weight: 1 }, 'dm')).not.toThrow();
    expect(() => validateDynamicMemory({ ...ok, bufferPercent: 2000, weight: 10000 }, 'dm')).not.toThrow();
  });

  it.each([
    [{ minimumBytes: 5 * G }, 'dm.minimum', /must not exceed startup RAM \(4G\)/],
    [{ maximumBytes: 2 * G }, 'dm.maximum', /must be at least startup RAM \(4G\)/],
    [{ bufferPercent: 4 }, 'dm.buffer', /from 5 to 2000, got 4/],
    [{ bufferPercent: 2001 }, 'dm.buffer', /got 2001/],
    [{ weight: 0 }, 'dm.weight', /from 1 to 10000, got 0/],
    [{ weight: 10001 }, 'dm.weight', /got 10001/],
    [{ weight: 2.5 }, 'dm.weight', /got 2.5/],
    [{ startupBytes: 4 * G + M }, 'dm.startup', /not a multiple of 2 MiB/],
    [{ minimumBytes: 16 * M }, 'dm.minimum', /below Hyper-V's lowest minimum RAM, 32M/],
    [{ maximumBytes: 2 * 2 ** 40 }, 'dm.maximum', /above Hyper-V's highest maximum RAM, 1T/],
  ])('refuses %j (%s)', (change, field, message) => {
    let error: unknown;
    try {
      validateDynamicMemory({ ...ok, ...change }, 'dm');
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ field });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message.startsWith(`${field}: `)).toBe(true);
  });
});
