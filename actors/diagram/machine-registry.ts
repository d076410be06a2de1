/**
 * The machines the `diagram` command knows, by the short name users type. One entry per part of
 * the VM; docs/diagrams/<name>.md is generated from each (`hv-balloon-sim diagram --all`).
 */
import type { AnyStateMachine } from 'xstate';

/**
 * The machine modules, loaded when a diagram is drawn, not with this list: the CLI registers
 * `diagram` (and its help text, the names below) at every start-up, and the machines are the
 * heaviest modules there (the cli-startup benchmark).
 */
const machines = () => ({
  ...(require('../../machines/dm-guest-driver.machine') as typeof import('../../machines/dm-guest-driver.machine')),
  ...(require('../../machines/hv-balloon-device.machine') as typeof import('../../machines/hv-balloon-device.machine')),
  ...(require('../../machines/memory-controller.machine') as typeof import('../../machines/memory-controller.machine')),
  ...(require('../../machines/vcpu.machine') as typeof import('../../machines/vcpu.machine')),
  ...(require('../../machines/vmbus-channel.machine') as typeof import('../../machines/vmbus-channel.machine')),
  ...(require('../../machines/virtio-balloon/virtio-balloon-device.machine') as typeof import('../../machines/virtio-balloon/virtio-balloon-device.machine')),
  ...(require('../../machines/virtio-balloon/virtio-balloon-driver.machine') as typeof import('../../machines/virtio-balloon/virtio-balloon-driver.machine')),
  ...(require('../../machines/policy/hyperv-policy.machine') as typeof import('../../machines/policy/hyperv-policy.machine')),
});

export interface RegisteredMachine {
  /** The name on the command line and of the generated file. */
  name: string;
  /** One line for listings and the diagram page. */
  title: string;
  /** Source file, relative to the repository root. */
  source: string;
  machine: AnyStateMachine;
}

/** In the order the diagrams are listed: the host, the channel, the guest, then the machine parts. */
export const MACHINES: readonly RegisteredMachine[] = [
  {
    name: 'device',
    title: "the hv-balloon device (host side), as QEMU's hw/hyperv/hv-balloon.c runs it",
    source: 'machines/hv-balloon-device.machine.ts',
    get machine() {
      return machines().hvBalloonDeviceMachine;
    },
  },
  {
    name: 'channel',
    title: 'the VMBus channel that carries DM packets between the device and the guest driver',
    source: 'machines/vmbus-channel.machine.ts',
    get machine() {
      return machines().vmbusChannelMachine;
    },
  },
  {
    name: 'guest',
    title: "the guest's DM driver, as Linux drivers/hv/hv_balloon.c runs it (two parallel regions: connection and receive)",
    source: 'machines/dm-guest/dm-guest-driver.machine.ts',
    get machine() {
      return machines().dmGuestDriverMachine;
    },
  },
  {
    name: 'memctl',
    title: 'the memory controller: hot-added blocks wait, then go online',
    source: 'machines/memory-controller.machine.ts',
    get machine() {
      return machines().memoryControllerMachine;
    },
  },
  {
    name: 'vcpu',
    title: 'the vCPU that runs guest work and charges it virtual time',
    source: 'machines/vcpu.machine.ts',
    get machine() {
      return machines().vcpuMachine;
    },
  },
  {
    name: 'virtio-device',
    title: "the virtio-balloon device (host side), as QEMU's hw/virtio/virtio-balloon.c runs it",
    source: 'machines/virtio-balloon/virtio-balloon-device.machine.ts',
    get machine() {
      return machines().virtioBalloonDeviceMachine;
    },
  },
  {
    name: 'virtio-guest',
    title: "the guest's virtio_balloon driver, as Linux drivers/virtio/virtio_balloon.c runs it (two parallel regions: balloon and stats)",
    source: 'machines/virtio-balloon/virtio-balloon-driver.machine.ts',
    get machine() {
      return machines().virtioBalloonDriverMachine;
    },
  },
  {
    name: 'hyperv-policy',
    title: "a host's Hyper-V-like memory policy: balances VMs by demand, buffer and weight (docs/host.md)",
    source: 'machines/policy/hyperv-policy.machine.ts',
    get machine() {
      return machines().hypervPolicyMachine;
    },
  },
];

export function machineNames(): string[] {
  return MACHINES.map((m) => m.name);
}

export function findMachine(name: string): RegisteredMachine | undefined {
  return MACHINES.find((m) => m.name === name);
}
