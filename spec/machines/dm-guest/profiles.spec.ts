/** Profile selection and validation: clear errors naming the field and the value; defaults. */
import { GuestProfileError, resolveGuestProfile, validateGuestProfile } from '../../../machines/dm-guest/profiles';

function errorOf(value: unknown): GuestProfileError {
  try {
    validateGuestProfile(value);
  } catch (e) {
    if (e instanceof GuestProfileError) return e;
    throw e;
  }
  throw new Error('expected a GuestProfileError');
}

describe('guest profiles', () => {
  it('accepts a bare name and fills the Linux defaults', () => {
    const p = resolveGuestProfile(validateGuestProfile('linux'), 1);
    expect(p).toMatchObject({
      name: 'linux',
      memoryBlockPages: 32_768,
      hotAddAlignment: 7,
      hibernation: false,
      pressureReportDelay: 45,
      balloonAllocation: 'units',
      statusFields: 'linux',
      maxBalloonRequestPages: null,
      malicious: null,
    });
  });

  it('Windows defaults: 512 MiB reserve, 585,728-page request limit, 2 GiB page file, no report delay', () => {
    expect(resolveGuestProfile({ profile: 'windows' }, 1)).toMatchObject({
      balloonAllocation: 'contiguous',
      statusFields: 'windows',
      reservePages: 512 * 256,
      maxBalloonRequestPages: 585_728,
      pageFilePages: 2048 * 256,
      pressureReportDelay: 0,
    });
  });

  it('derives the alignment from the memory block size', () => {
    expect(resolveGuestProfile({ profile: 'linux', memoryBlockMiB: 2048 }, 1).hotAddAlignment).toBe(11);
    expect(resolveGuestProfile({ profile: 'linux', memoryBlockMiB: 1 }, 1).hotAddAlignment).toBe(0);
  });

  it.each([
    [{ profile: 'solaris' }, 'guest.profile', 'guest.profile must be one of linux, windows, malicious, got "solaris"'],
    [42, 'guest', 'guest must be a profile name (linux, windows, malicious) or an object { profile, ... }, got 42'],
    [{ profile: 'linux', memoryBlockMiB: 100 }, 'guest.memoryBlockMiB', 'guest.memoryBlockMiB must be a power of two from 1 to 32768 (MiB), got 100'],
    [{ profile: 'linux', memoryBlockMiB: 65_536 }, 'guest.memoryBlockMiB', 'guest.memoryBlockMiB must be a power of two from 1 to 32768 (MiB), got 65536'],
    [{ profile: 'linux', hibernation: 'yes' }, 'guest.hibernation', 'guest.hibernation must be true or false, got "yes"'],
    [{ profile: 'windows', reserveMiB: -1 }, 'guest.reserveMiB', 'guest.reserveMiB must be an integer from 0 to 1048576, got -1'],
    [{ profile: 'linux', reserveMiB: 512 }, 'guest.reserveMiB', 'guest.reserveMiB is not an option of the linux profile (options: profile, memoryBlockMiB, hibernation, pressureReportDelay, memory)'],
    [{ profile: 'malicious', seed: 1.5 }, 'guest.seed', 'guest.seed must be a safe integer, got 1.5'],
    [{ profile: 'malicious', plan: {} }, 'guest.plan', 'guest.plan must be an array of misbehaviours, got an object'],
    [{ profile: 'malicious', plan: [{ kind: 'eatMemory' }] }, 'guest.plan[0].kind', undefined],
    [{ profile: 'malicious', plan: [{ kind: 'romPages', response: 0 }] }, 'guest.plan[0].response', 'guest.plan[0].response must be an integer from 1 to 9007199254740991, got 0'],
    [{ profile: 'malicious', plan: [{ kind: 'romPages', atMs: 5 }] }, 'guest.plan[0].atMs', undefined],
    [{ profile: 'malicious', plan: [{ kind: 'mmioPages', range: { startPage: 1, pageCount: 0 } }] }, 'guest.plan[0].range.pageCount', undefined],
    [{ profile: 'malicious', plan: [{ kind: 'versionRequestAfterInit', atMs: -3 }] }, 'guest.plan[0].atMs', 'guest.plan[0].atMs must be a number of ms from 0 to 1000000000000, got -3'],
  ])('rejects %j naming %s', (value, field, message) => {
    const e = errorOf(value);
    expect(e.field).toBe(field);
    if (message !== undefined) expect(e.message).toBe(message);
    expect(e.message).toContain(field);
  });

  it('validates typed configs too (resolve re-checks)', () => {
    expect(() => resolveGuestProfile({ profile: 'linux', memoryBlockMiB: 3 }, 1)).toThrow(GuestProfileError);
  });

  it('resolves a malicious plan with its own seed, or the driver seed', () => {
    expect(resolveGuestProfile({ profile: 'malicious', seed: 9 }, 1).malicious!.seed).toBe(9);
    expect(resolveGuestProfile({ profile: 'malicious' }, 5).malicious!.seed).toBe(5);
    expect(resolveGuestProfile({ profile: 'malicious', plan: [] }, 5).malicious!.plan).toEqual([]);
  });
});
