/**
 * What a host reads from a VM's balloon device, whichever model it is: the balloon's actual size
 * (query-balloon, both models) and how much the guest holds in the balloon. The Linux and Windows
 * DM drivers count ballooned pages in the committed memory they report (Linux hv_balloon.c
 * get_pages_committed: "the host expects the pressure information to include the ballooned out
 * pages"), so a host takes them back out to see the demand; QEMU's hv-balloon knows them as its
 * removed-page counters. A device without status reports gives no demand (null).
 */
import type { AnyActorRef } from 'xstate';
import { PAGE_SIZE } from '../../protocol/constants';
import type { DeviceSnapshotLike } from '../../machines/hv-balloon-device/queries';
import type { Vm } from '../vm/create-vm';

export interface DeviceProbe {
  /** query-balloon actual in bytes; null when the device does not answer. */
  actualBytes(): number | null;
  /** Bytes the guest holds in the balloon now. */
  balloonedBytes(): number;
  /**
   * A balloon, unballoon or hot-add transaction is under way: the VM may still move toward the
   * target it was working on, whatever the target is now.
   */
  midOperation(): boolean;
}

/** QEMU hv-balloon's states inside a balloon, unballoon or hot-add transaction. */
const OPERATION_STATE = /^S_(BALLOON|UNBALLOON|HOT_ADD)_/;

export function probeFor(vm: Vm, model: string): DeviceProbe {
  const actualBytes = (): number | null => {
    try {
      return vm.queryBalloon().actual;
    } catch {
      return null;
    }
  };
  if (model === 'hv-balloon') {
    return {
      actualBytes,
      balloonedBytes: () => {
        const device = vm.root.system.get('device') as AnyActorRef | undefined;
        const c = (device?.getSnapshot() as DeviceSnapshotLike | undefined)?.context;
        return c ? (c.removedGuestCtr + c.removedBothCtr) * PAGE_SIZE : 0;
      },
      midOperation: () => OPERATION_STATE.test(vm.deviceState() ?? ''),
    };
  }
  // Other models (virtio-balloon): the guest's reported figures do not include the balloon, and the
  // guest follows the current target page by page (no transaction runs on toward an old one).
  return { actualBytes, balloonedBytes: () => 0, midOperation: () => false };
}
