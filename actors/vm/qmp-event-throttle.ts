/**
 * QEMU monitor_qapi_event_queue's rate limit for one QMP event (HV_BALLOON_STATUS_REPORT,
 * BALLOON_CHANGE: one per second): the first event goes out at once; within the window the latest
 * replaces a pending one, which goes out when the window ends and opens the next window.
 */
import type { QmpEvent } from '../qmp/qmp-types';
import type { TimerHandle, VirtualClock } from '../virtual-clock';

export class QmpEventThrottle {
  private timer: TimerHandle | undefined;
  private pending: QmpEvent | undefined;

  constructor(
    private readonly clock: VirtualClock,
    private readonly windowMs: number,
    private readonly publish: (event: QmpEvent) => void,
  ) {}

  offer(event: QmpEvent): void {
    if (this.timer === undefined) {
      this.publish(event);
      this.armWindow();
    } else {
      this.pending = event;
    }
  }

  private armWindow(): void {
    this.timer = this.clock.setTimeout(() => {
      const pending = this.pending;
      this.pending = undefined;
      this.timer = undefined;
      if (pending) {
        this.publish(pending);
        this.armWindow();
      }
    }, this.windowMs);
  }
}
