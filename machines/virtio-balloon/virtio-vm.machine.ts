/**
 * The root statechart of a VM with a virtio-balloon device (systemId 'vm'): it invokes the memory
 * controller, the vCPU, the device and the driver, probes the driver once the guest has booted far
 * enough to find the device, and resets every part on system_reset (after which the driver probes
 * again). hv-balloon's root is actors/vm/vm.machine.ts; this one has no VMBus channel.
 */
import { setup, type AnyStateMachine } from 'xstate';
import { memoryControllerMachine, type MemoryControllerInput } from '../memory-controller.machine';
import type { Outbox } from '../outbox';
import type { JobDoneEvent } from '../part-events';
import { vcpuMachine, type VcpuInput } from '../vcpu.machine';
import { virtioBalloonDeviceMachine, type VirtioBalloonDeviceInput } from './virtio-balloon-device.machine';
import { virtioBalloonDriverMachine, type VirtioBalloonDriverInput } from './virtio-balloon-driver.machine';

export interface VirtioVmPartInputs {
  memctl: MemoryControllerInput;
  vcpu: VcpuInput;
  device: VirtioBalloonDeviceInput;
  guest: VirtioBalloonDriverInput;
}

export interface VirtioVmRootInput {
  outbox: Outbox;
  parts: VirtioVmPartInputs;
  /** Virtual ms from power-on (or reset) until the guest's virtio_balloon driver probes. */
  probeDelayMs: number;
}

type VirtioVmRootEvent =
  | { type: 'vm.stop' }
  | { type: 'vm.cont' }
  | { type: 'vm.system-reset' }
  | { type: 'vm.quit' }
  | JobDoneEvent
  | { type: 'vm.guest-error'; message: string };

export function createVirtioVmMachine(): AnyStateMachine {
  return setup({
    types: {
      input: {} as VirtioVmRootInput,
      context: {} as VirtioVmRootInput,
      events: {} as VirtioVmRootEvent,
    },
    actors: {
      device: virtioBalloonDeviceMachine,
      guest: virtioBalloonDriverMachine,
      memctl: memoryControllerMachine,
      vcpu: vcpuMachine,
    },
    actions: {
      // QEMU qemu_system_reset: every device is reset; the guest kernel boots again.
      resetParts: ({ context }) => {
        for (const part of ['device', 'memctl', 'vcpu', 'guest'] as const) context.outbox.post(part, { type: 'system.reset' });
        context.outbox.post('guest', { type: 'virtio.probe' }, context.probeDelayMs);
      },
      // The PCI device is enumerated at boot; the driver binds and probes.
      probeAtBoot: ({ context }) => context.outbox.post('guest', { type: 'virtio.probe' }, context.probeDelayMs),
    },
  }).createMachine({
    id: 'vm',
    context: ({ input }) => input,
    invoke: [
      { src: 'memctl', id: 'memctl', systemId: 'memctl', input: ({ context }) => context.parts.memctl },
      { src: 'vcpu', id: 'vcpu', systemId: 'vcpu', input: ({ context }) => context.parts.vcpu },
      { src: 'device', id: 'device', systemId: 'device', input: ({ context }) => context.parts.device },
      { src: 'guest', id: 'guest', systemId: 'guest', input: ({ context }) => context.parts.guest },
    ],
    entry: 'probeAtBoot',
    initial: 'running',
    states: {
      running: {
        on: { 'vm.stop': 'paused', 'vm.system-reset': { actions: 'resetParts' }, 'vm.quit': 'shutdown' },
      },
      paused: {
        on: { 'vm.cont': 'running', 'vm.system-reset': { actions: 'resetParts' }, 'vm.quit': 'shutdown' },
      },
      shutdown: { type: 'final' },
    },
  }) as unknown as AnyStateMachine;
}
