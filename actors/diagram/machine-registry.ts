/**
 * The machines the `diagram` command knows, by the short name users type. One entry per part of
 * the VM; docs/diagrams/<name>.md is generated from each (`hv-balloon-sim diagram --all`).
 */
import type { AnyStateMachine } from 'xstate';
import { dmGuestDriverMachine } from '../../machines/dm-guest-driver.machine';
import { hvBalloonDeviceMachine } from '../../machines/hv-balloon-device.machine';
import { memoryControllerMachine } from '../../machines/memory-controller.machine';
import { vcpuMachine } from '../../machines/vcpu.machine';
import { vmbusChannelMachine } from '../../machines/vmbus-channel.machine';
import { hypervPolicyMachine } from '../../machines/policy/hyperv-policy.machine';
import { virtioBalloonDeviceMachine } from '../../machines/virtio-balloon/virtio-balloon-device.machine';
import { virtioBalloonDriverMachine } from '../../machines/virtio-balloon/virtio-balloon-driver.machine';

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
    machine: hvBalloonDeviceMachine,
  },
  {
    name: 'channel',
    title: 'the VMBus channel that carries DM packets between the device and the guest driver',
    source: 'machines/vmbus-channel.machine.ts',
    machine: vmbusChannelMachine,
  },
  {
    name: 'guest',
    title: "the guest's DM driver, as Linux drivers/hv/hv_balloon.c runs it (two parallel regions: connection and receive)",
    source: 'machines/dm-guest-driver.machine.ts',
    machine: dmGuestDriverMachine,
  },
  {
    name: 'memctl',
    title: 'the memory controller: hot-added blocks wait, then go online',
    source: 'machines/memory-controller.machine.ts',
    machine: memoryControllerMachine,
  },
  {
    name: 'vcpu',
    title: 'the vCPU that runs guest work and charges it virtual time',
    source: 'machines/vcpu.machine.ts',
    machine: vcpuMachine,
  },
  {
    name: 'virtio-device',
    title: "the virtio-balloon device (host side), as QEMU's hw/virtio/virtio-balloon.c runs it",
    source: 'machines/virtio-balloon/virtio-balloon-device.machine.ts',
    machine: virtioBalloonDeviceMachine,
  },
  {
    name: 'virtio-guest',
    title: "the guest's virtio_balloon driver, as Linux drivers/virtio/virtio_balloon.c runs it (two parallel regions: balloon and stats)",
    source: 'machines/virtio-balloon/virtio-balloon-driver.machine.ts',
    machine: virtioBalloonDriverMachine,
  },
  {
    name: 'hyperv-policy',
    title: "a host's Hyper-V-like memory policy: balances VMs by demand, buffer and weight (docs/host.md)",
    source: 'machines/policy/hyperv-policy.machine.ts',
    machine: hypervPolicyMachine,
  },
];

export function machineNames(): string[] {
  return MACHINES.map((m) => m.name);
}

export function findMachine(name: string): RegisteredMachine | undefined {
  return MACHINES.find((m) => m.name === name);
}
