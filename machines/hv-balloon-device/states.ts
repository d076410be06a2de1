/**
 * QEMU hv-balloon's 16 real states (enum State in hw/hyperv/hv-balloon.c; 0 is the S_NO_CHANGE
 * pseudo-state). The numbers appear in QEMU's warnings ("unexpected ... in %d state"), so they are
 * part of the observable behaviour.
 */

export const HV_BALLOON_STATE_NAMES = [
  'S_WAIT_RESET',
  'S_POST_RESET_CLOSED',
  'S_VERSION',
  'S_CAPS',
  'S_POST_INIT_WAIT',
  'S_IDLE',
  'S_BALLOON_POSTING',
  'S_BALLOON_RB_WAIT',
  'S_BALLOON_REPLY_WAIT',
  'S_UNBALLOON_POSTING',
  'S_UNBALLOON_RB_WAIT',
  'S_UNBALLOON_REPLY_WAIT',
  'S_HOT_ADD_SETUP',
  'S_HOT_ADD_RB_WAIT',
  'S_HOT_ADD_POSTING',
  'S_HOT_ADD_REPLY_WAIT',
] as const;

export type HvBalloonStateName = (typeof HV_BALLOON_STATE_NAMES)[number];

/** QEMU's numeric value of a state (S_NO_CHANGE = 0, so S_WAIT_RESET = 1 ... S_HOT_ADD_REPLY_WAIT = 16). */
export function stateNumber(name: HvBalloonStateName): number {
  return HV_BALLOON_STATE_NAMES.indexOf(name) + 1;
}

/** QEMU hv_balloon_recv_channel: nothing is received in S_WAIT_RESET and S_POST_RESET_CLOSED. */
export function isReceivingState(name: HvBalloonStateName): boolean {
  return name !== 'S_WAIT_RESET' && name !== 'S_POST_RESET_CLOSED';
}

/** The states that have a per-state handler in QEMU's state_handlers[] table. */
export const HANDLER_STATES: ReadonlySet<HvBalloonStateName> = new Set<HvBalloonStateName>([
  'S_IDLE',
  'S_BALLOON_POSTING',
  'S_BALLOON_RB_WAIT',
  'S_UNBALLOON_POSTING',
  'S_UNBALLOON_RB_WAIT',
  'S_HOT_ADD_SETUP',
  'S_HOT_ADD_RB_WAIT',
  'S_HOT_ADD_POSTING',
]);

export function isStateName(value: string): value is HvBalloonStateName {
  return (HV_BALLOON_STATE_NAMES as readonly string[]).includes(value);
}

/**
 * The QEMU state name of a device snapshot's value. The chart groups states into compound
 * states (receiving/init/balloon/...), but every leaf key is a QEMU name, so the deepest key is it.
 */
export function leafStateName(value: unknown): HvBalloonStateName | undefined {
  let v: unknown = value;
  for (;;) {
    if (typeof v === 'string') return isStateName(v) ? v : undefined;
    if (v === null || typeof v !== 'object') return undefined;
    const keys = Object.keys(v);
    if (keys.length !== 1) return undefined;
    const key = keys[0]!;
    const inner = (v as Record<string, unknown>)[key];
    if (typeof inner === 'object' && inner !== null && Object.keys(inner).length === 0) {
      return isStateName(key) ? key : undefined;
    }
    v = inner;
  }
}
