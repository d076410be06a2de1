/**
 * The 1 TiB run: a 1032 GiB Linux guest asked down to 8 GiB, then given 256 GiB back. Ballooning
 * 1 TiB is 2 MiB ranges, 510 to a message: the run where the cost per DM message shows. The Linux
 * guest stops at its balloon floor and the memory the kernel keeps (query-balloon says 21.9 GiB),
 * as Linux does; QEMU then waits in S_IDLE. The vm-balloon-1t benchmark and the golden traces run
 * this same VM and the same commands.
 */
import type { Scenario } from '../scenario/scenario';
import type { VmConfigInput } from '../vm/vm-config';

const GiB = 2 ** 30;

export const TERABYTE_VM: VmConfigInput = {
  seed: 1,
  machine: { memory: '1032G' },
  device: { id: 'hvb' },
  guest: { profile: 'linux' },
};

/** Virtual ms of the balloon command: the device is idle from 51.05 s (QEMU's 50 s post-init wait). */
export const TERABYTE_BALLOON_AT_MS = 55_000;
export const TERABYTE_TARGET_BYTES = 8 * GiB;
/** The balloon is done by 341 s; the give-back comes later. */
export const TERABYTE_GIVE_BACK_AT_MS = 400_000;
export const TERABYTE_GIVE_BACK_TARGET_BYTES = 264 * GiB;

export const TERABYTE_SCENARIO: Scenario = {
  name: 'terabyte-1032g',
  description: 'A 1032 GiB Linux guest ballooned towards 8 GiB (it stops at its floor), then 256 GiB target given back.',
  vm: TERABYTE_VM,
  steps: [
    { at: TERABYTE_BALLOON_AT_MS, qmp: { execute: 'balloon', arguments: { value: TERABYTE_TARGET_BYTES } } },
    { at: TERABYTE_GIVE_BACK_AT_MS, qmp: { execute: 'query-balloon' } },
    { at: TERABYTE_GIVE_BACK_AT_MS, qmp: { execute: 'balloon', arguments: { value: TERABYTE_GIVE_BACK_TARGET_BYTES } } },
    { at: TERABYTE_GIVE_BACK_AT_MS + 20_000, qmp: { execute: 'query-balloon' } },
  ],
  until: TERABYTE_GIVE_BACK_AT_MS + 20_000,
};
