/**
 * Every message QEMU's hv-balloon prints (warn_report / error_report in hw/hyperv/hv-balloon.c),
 * with the numbers filled in as QEMU's format strings would, and the per-kind counters the device
 * keeps in its context. The texts are QEMU's; only the `%p` host pointer differs (see
 * docs/divergences.md: the simulator has no host pointers and prints the guest address instead).
 */
import type { HvBalloonStateName } from './states';
import { stateNumber } from './states';

export type WarningLevel = 'warning' | 'error';

export type WarningKind =
  | 'openInvalidState'
  | 'unexpectedVersionRequest'
  | 'unexpectedCapabilitiesReport'
  | 'unexpectedBalloonResponse'
  | 'unexpectedUnballoonResponse'
  | 'unexpectedHotAddResponse'
  | 'messageTooShort'
  | 'balloonResponseRangeCount'
  | 'unknownMessage'
  | 'removedPageNotFound'
  | 'removedPageSmallSection'
  | 'removedPageNotRam'
  | 'removedPagesUnalignedHostAddr'
  | 'removedPageUnsupportedPageSize'
  | 'removedPageFailedDiscard'
  | 'moreRemovedThanPending'
  | 'hotAddCountHigher'
  | 'postingFailed'
  | 'nothingBallooned'
  | 'backendAlreadyReturned'
  | 'hotAddStartUnaligned';

export const WARNING_KINDS: readonly WarningKind[] = [
  'openInvalidState',
  'unexpectedVersionRequest',
  'unexpectedCapabilitiesReport',
  'unexpectedBalloonResponse',
  'unexpectedUnballoonResponse',
  'unexpectedHotAddResponse',
  'messageTooShort',
  'balloonResponseRangeCount',
  'unknownMessage',
  'removedPageNotFound',
  'removedPageSmallSection',
  'removedPageNotRam',
  'removedPagesUnalignedHostAddr',
  'removedPageUnsupportedPageSize',
  'removedPageFailedDiscard',
  'moreRemovedThanPending',
  'hotAddCountHigher',
  'postingFailed',
  'nothingBallooned',
  'backendAlreadyReturned',
  'hotAddStartUnaligned',
];

/** One printed message. `repeat` > 1 stands for QEMU printing the same warning once per page. */
export interface DeviceWarning {
  kind: WarningKind;
  level: WarningLevel;
  text: string;
  /** How many times QEMU prints it (per-page warnings are recorded once, with the page count here). */
  repeat: number;
}

/** How many messages of each kind the device printed (per-page warnings count every page). */
export type WarningCounters = Readonly<Record<WarningKind, number>>;

export function emptyWarningCounters(): WarningCounters {
  const counters = {} as Record<WarningKind, number>;
  for (const kind of WARNING_KINDS) counters[kind] = 0;
  return counters;
}

/** The counters after `warnings` were printed. Returns the same object when there are none. */
export function countWarnings(counters: WarningCounters, warnings: readonly DeviceWarning[]): WarningCounters {
  if (warnings.length === 0) return counters;
  const next = { ...counters };
  for (const w of warnings) next[w.kind] += w.repeat;
  return next;
}

/** The handled guest->host messages QEMU names in "unexpected ... in %d state". */
export type HandledMessageName =
  | 'DM_VERSION_REQUEST'
  | 'DM_CAPABILITIES_REPORT'
  | 'DM_STATUS_REPORT'
  | 'DM_BALLOON_RESPONSE'
  | 'DM_UNBALLOON_RESPONSE'
  | 'DM_MEM_HOT_ADD_RESPONSE';

const UNEXPECTED_KIND: Readonly<Record<Exclude<HandledMessageName, 'DM_STATUS_REPORT'>, WarningKind>> = {
  DM_VERSION_REQUEST: 'unexpectedVersionRequest',
  DM_CAPABILITIES_REPORT: 'unexpectedCapabilitiesReport',
  DM_BALLOON_RESPONSE: 'unexpectedBalloonResponse',
  DM_UNBALLOON_RESPONSE: 'unexpectedUnballoonResponse',
  DM_MEM_HOT_ADD_RESPONSE: 'unexpectedHotAddResponse',
};

/** QEMU's own spelling in its warnings: it says DM_HOT_ADD_RESPONSE, not DM_MEM_HOT_ADD_RESPONSE. */
function qemuName(name: HandledMessageName): string {
  return name === 'DM_MEM_HOT_ADD_RESPONSE' ? 'DM_HOT_ADD_RESPONSE' : name;
}

const warning = (kind: WarningKind, text: string, repeat = 1): DeviceWarning => ({ kind, level: 'warning', text, repeat });
const error = (kind: WarningKind, text: string): DeviceWarning => ({ kind, level: 'error', text, repeat: 1 });

/** The warnings, by kind, with QEMU's wording. */
export const warnings = {
  // QEMU hv_balloon_vmdev_open_channel
  openInvalidState: (state: HvBalloonStateName) =>
    warning('openInvalidState', `guest trying to open a DM channel in invalid ${stateNumber(state)} state`),
  // QEMU hv_balloon_handle_*: the state check comes before the size check
  unexpected: (name: Exclude<HandledMessageName, 'DM_STATUS_REPORT'>, state: HvBalloonStateName) =>
    warning(UNEXPECTED_KIND[name], `unexpected ${qemuName(name)} in ${stateNumber(state)} state`),
  // QEMU hv_balloon_handle_msg_size
  messageTooShort: (name: HandledMessageName, msglen: number, minSize: number) =>
    warning('messageTooShort', `${qemuName(name)} message too short (${msglen} vs ${minSize}), ignoring`),
  balloonResponseRangeCount: () => warning('balloonResponseRangeCount', 'DM_BALLOON_RESPONSE too short for the range count'),
  unknownMessage: (typeId: number) => warning('unknownMessage', `unknown DM message ${typeId}`),
  // QEMU hv_balloon_handle_remove_ranges; `pages` > 1 is that many per-page warnings from `page` on
  removedPageNotFound: (page: number, pages: number) =>
    warning('removedPageNotFound', `guest reported removed page ${page} not found in RAM`, pages),
  removedPageSmallSection: (page: number) =>
    warning('removedPageSmallSection', `guest reported removed page ${page} in a section smaller than page size`),
  removedPageNotRam: (page: number) =>
    warning('removedPageNotRam', `guest reported removed page ${page} in a section that is not an ordinary RAM`),
  removedPagesUnalignedHostAddr: (guestAddress: number) =>
    warning('removedPagesUnalignedHostAddr', `guest reported removed pages at an unaligned host addr 0x${guestAddress.toString(16)}`),
  // QEMU hv_balloon_handle_remove_host_addr_node: one warning per page of a hugepage-backed block
  removedPageUnsupportedPageSize: (pageSize: number, pages: number) =>
    warning('removedPageUnsupportedPageSize', `guest reported removed page backed by unsupported page size ${pageSize}`, pages),
  removedPageFailedDiscard: () => warning('removedPageFailedDiscard', 'guest reported removed page failed discard'),
  moreRemovedThanPending: (removed: number, pending: number) =>
    warning('moreRemovedThanPending', `guest reported more pages removed than currently pending (${removed} vs ${pending})`),
  hotAddCountHigher: (pageCount: number, requested: number) =>
    warning('hotAddCountHigher', `DM_HOT_ADD_RESPONSE page count higher than requested (${pageCount} vs ${requested})`),
  // QEMU error_report calls
  postingFailed: (what: 'balloon' | 'unballoon' | 'hot add', result: number) =>
    error('postingFailed', `error ${result} when posting ${what} msg, expect problems`),
  nothingBallooned: () => error('nothingBallooned', 'trying to unballoon but nothing seems to be ballooned'),
  backendAlreadyReturned: () =>
    error(
      'backendAlreadyReturned',
      'some parts of the memory backend were already returned by the guest. this should not happen, please reboot the guest and try again',
    ),
  // QEMU asserts here (the process aborts); the simulator reports it and stays up, see docs/divergences.md
  hotAddStartUnaligned: (start: number, align: number) =>
    error(
      'hotAddStartUnaligned',
      `assertion failed: hot-add range start ${start} is not aligned to ${align} pages (QEMU aborts here)`,
    ),
} as const;

/** The size QEMU checks each handled message against (sizeof its struct, include/hw/hyperv/dynmem-proto.h). */
export const MIN_MESSAGE_SIZE: Readonly<Record<HandledMessageName, number>> = {
  DM_VERSION_REQUEST: 16,
  DM_CAPABILITIES_REPORT: 32,
  DM_STATUS_REPORT: 48,
  DM_BALLOON_RESPONSE: 16,
  DM_UNBALLOON_RESPONSE: 8,
  DM_MEM_HOT_ADD_RESPONSE: 16,
};

/** Linux/QEMU errno values the send path returns. */
const ENOSPC = 28;
const EINVAL = 22;

/**
 * errno-style value printed for a failed send: QEMU prints the negative errno vmbus_channel_send
 * returned: -ENOSPC for a full ring, -EINVAL when the channel is not open (QEMU hw/hyperv/vmbus.c
 * vmbus_channel_send refuses a channel whose rings are gone). Our ChannelEndpoint returns -1 for
 * a full ring and 0 when closed.
 */
export function sendResultForMessage(result: number): number {
  if (result < 0) return -ENOSPC;
  return result === 0 ? -EINVAL : result;
}
