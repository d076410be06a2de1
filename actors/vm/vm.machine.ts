/**
 * The VM's root statechart: it invokes every part of the machine with its systemId (device,
 * channel, guest, memctl, vcpu), keeps QEMU's run state (running / paused / shutdown) and turns
 * a system reset into `system.reset` for every part. Parts never talk through the root: they post
 * to each other on the message bus. A VM without an hv-balloon device has no DM channel and no
 * DM driver, as in QEMU, so the root is built for the parts the configuration has.
 */
import { setup, type AnyStateMachine } from 'xstate';
import type { DmGuestDriverInput } from '../../machines/dm-guest-driver.machine';
import { dmGuestDriverMachine } from '../../machines/dm-guest-driver.machine';
import type { HvBalloonDeviceInput } from '../../machines/hv-balloon-device.machine';
import { hvBalloonDeviceMachine } from '../../machines/hv-balloon-device.machine';
import type { MemoryControllerInput } from '../../machines/memory-controller.machine';
import { memoryControllerMachine } from '../../machines/memory-controller.machine';
import type { Outbox } from '../../machines/outbox';
import type { PartId } from '../../machines/part-events';
import type { VcpuInput } from '../../machines/vcpu.machine';
import { vcpuMachine } from '../../machines/vcpu.machine';
import type { VmbusChannelInput } from '../../machines/vmbus-channel.machine';
import { vmbusChannelMachine } from '../../machines/vmbus-channel.machine';

export interface VmPartInputs {
  device: HvBalloonDeviceInput | null;
  channel: VmbusChannelInput | null;
  guest: DmGuestDriverInput | null;
  memctl: MemoryControllerInput;
  vcpu: VcpuInput;
}

export interface VmRootInput {
  outbox: Outbox;
  parts: VmPartInputs;
}

export type VmRootEvent =
  | { type: 'vm.stop' }
  | { type: 'vm.cont' }
  | { type: 'vm.quit' }
  | { type: 'vm.system-reset' }
  | { type: 'job.done'; tag: string; costMs: number }
  | { type: 'vm.guest-error'; message: string };

export interface VmRootContext {
  outbox: Outbox;
  parts: VmPartInputs;
  resets: number;
}

/** Order of the reset: the device frees the hot-add range before memory returns to its boot layout. */
const RESET_ORDER: readonly Exclude<PartId, 'vm'>[] = ['device', 'memctl', 'vcpu', 'guest', 'channel'];

export function createVmMachine(withDevice: boolean): AnyStateMachine {
  const invoke = [
    { src: 'memctl' as const, id: 'memctl', systemId: 'memctl', input: ({ context }: { context: VmRootContext }) => context.parts.memctl },
    { src: 'vcpu' as const, id: 'vcpu', systemId: 'vcpu', input: ({ context }: { context: VmRootContext }) => context.parts.vcpu },
    ...(withDevice
      ? [
          { src: 'device' as const, id: 'device', systemId: 'device', input: ({ context }: { context: VmRootContext }) => context.parts.device! },
          { src: 'channel' as const, id: 'channel', systemId: 'channel', input: ({ context }: { context: VmRootContext }) => context.parts.channel! },
          { src: 'guest' as const, id: 'guest', systemId: 'guest', input: ({ context }: { context: VmRootContext }) => context.parts.guest! },
        ]
      : []),
  ];
  return setup({
    types: {
      input: {} as VmRootInput,
      context: {} as VmRootContext,
      events: {} as VmRootEvent,
    },
    actors: {
      device: hvBalloonDeviceMachine,
      channel: vmbusChannelMachine,
      guest: dmGuestDriverMachine,
      memctl: memoryControllerMachine,
      vcpu: vcpuMachine,
    },
    actions: {
      // QEMU qemu_system_reset: every device is reset; the hv-balloon reset hook frees the hot-add range.
      resetParts: ({ context }) => {
        for (const part of RESET_ORDER) {
          if (part !== 'memctl' && part !== 'vcpu' && !withDevice) continue;
          context.outbox.post(part, { type: 'system.reset' });
        }
      },
      // QEMU: at machine start every device gets a cold reset (hv-balloon: S_WAIT_RESET -> S_POST_RESET_CLOSED).
      powerOnReset: ({ context }) => {
        if (withDevice) context.outbox.post('device', { type: 'device.reset' });
      },
    },
  }).createMachine({
    id: 'vm',
    context: ({ input }) => ({ outbox: input.outbox, parts: input.parts, resets: 0 }),
    invoke,
    entry: 'powerOnReset',
    initial: 'running',
    states: {
      running: {
        on: {
          // QEMU stop: vCPUs and QEMU_CLOCK_VIRTUAL stand still; the runtime stops advancing the clock.
          'vm.stop': 'paused',
          'vm.system-reset': { actions: 'resetParts' },
          'vm.quit': 'shutdown',
        },
      },
      paused: {
        on: {
          'vm.cont': 'running',
          'vm.system-reset': { actions: 'resetParts' },
          'vm.quit': 'shutdown',
        },
      },
      shutdown: { type: 'final' },
    },
  }) as unknown as AnyStateMachine;
}

const vmMachines = new Map<boolean, AnyStateMachine>();

/**
 * The root machine for a VM with or without a device, built once per process: a machine is a
 * definition that every VM's actor only reads (its state lives in the actor), and building one
 * (and XState's per-machine caches of transitions and events) for every VM was a third of what
 * making and disposing a small VM costs (1.39 -> 0.94 ms of CPU for the sweep-1000 benchmark's VM),
 * which a sweep of thousands of short runs pays every run.
 */
export function vmMachine(withDevice: boolean): AnyStateMachine {
  let machine = vmMachines.get(withDevice);
  if (!machine) vmMachines.set(withDevice, (machine = createVmMachine(withDevice)));
  return machine;
}
