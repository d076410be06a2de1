/**
 * A walk of the device chart with xstate/graph: every QEMU state is reachable by events the
 * device really receives (channel events, the user's target, the loop's handler step and DM
 * packets with payloads). The walk runs the pure transition function: guards and assign /
 * enqueueActions run (so context and the model's trees evolve), custom actions (the loop's
 * self-sends) do not, so the walk sends `loop.run-handler` itself where the loop would.
 */
import { getShortestPaths } from 'xstate/graph';
import { hvBalloonDeviceMachine, type DeviceEndpoint, type HvBalloonEvent } from '../../../machines/hv-balloon-device.machine';
import { packetEventFor } from '../../../machines/hv-balloon-device/packets';
import { HV_BALLOON_STATE_NAMES, leafStateName } from '../../../machines/hv-balloon-device/states';
import { BOOT_RAM_PAGES, FakeHostMemory } from './fake-host-memory';
import { GiB, LINUX_CAPS } from './harness';

/** An endpoint with room for everything; what the device sends goes nowhere. */
const endpoint: DeviceEndpoint = {
  isOpen: true,
  hasRoomFor: () => true,
  reserve: () => true,
  send: (payload) => payload.length,
  receive: () => undefined,
  receiveDone: () => 0,
};

const lifecycle: HvBalloonEvent[] = [
  { type: 'device.reset' },
  { type: 'device.open-request' },
  { type: 'device.notify' },
  { type: 'device.close-channel' },
  { type: 'system.reset' },
];
const operations: HvBalloonEvent[] = [
  { type: 'device.set-target', targetPages: BOOT_RAM_PAGES - 100 },
  { type: 'device.set-target', targetPages: BOOT_RAM_PAGES + 32_768 },
  { type: 'loop.run-handler' },
  packetEventFor({ type: 'DM_VERSION_REQUEST', transId: 1, version: { major: 2, minor: 0 }, isLastAttempt: false }),
  packetEventFor({ type: 'DM_CAPABILITIES_REPORT', transId: 2, caps: LINUX_CAPS, minPageCount: 0n, maxPageNumber: 0n }),
  packetEventFor({ type: 'DM_BALLOON_RESPONSE', transId: 3, morePages: false, ranges: [{ startPage: 0x1000, pageCount: 100 }] }),
  packetEventFor({ type: 'DM_UNBALLOON_RESPONSE', transId: 4 }),
  packetEventFor({ type: 'DM_MEM_HOT_ADD_RESPONSE', transId: 5, pageCount: 32_768, result: 1 }),
];

// The 50 s timer as the walk sees it: an `after` event (not part of HvBalloonEvent, hence the cast).
const timerEvents = hvBalloonDeviceMachine
  .getStateNodeById('S_POST_INIT_WAIT')
  .ownEvents.filter((type) => type.startsWith('xstate.after.'))
  .map((type) => ({ type }) as unknown as HvBalloonEvent);

describe('hv-balloon device chart: reachability', () => {
  it('reaches every one of QEMU\'s 16 real states (S_NO_CHANGE is "no transition")', () => {
    const paths = getShortestPaths(hvBalloonDeviceMachine, {
      input: {
        endpoint,
        memory: new FakeHostMemory(),
        outbox: { post: () => undefined, now: () => 0 },
        config: { statusReport: true, memdev: { id: 'mem0', sizeBytes: 4 * GiB, addrBytes: 32 * GiB } },
      },
      // The trees live in the model, which every explored branch shares (the walk copies snapshots,
      // not the model). A reset explored from a busy state would empty them under the other branches,
      // so resets and closes are offered only until the device first becomes IDLE.
      events: (s) => {
        const state = leafStateName(s.value);
        const early = state === 'S_WAIT_RESET' || state === 'S_POST_RESET_CLOSED' || state === 'S_VERSION' || state === 'S_CAPS';
        return [...(early ? lifecycle : []), ...operations, ...timerEvents];
      },
      // DM messages carry bigint fields (caps report, status report).
      serializeEvent: (e) => JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
      // S_IDLE's handler acts on context: on a changed target, its direction, and whether pages are
      // ballooned. With the state value alone S_IDLE would be explored once (target unchanged,
      // nothing ballooned) and its branches never taken, so the vertex is the value plus those facts.
      serializeState: (s) =>
        JSON.stringify(s.value) +
        (s.context.targetChanged ? `+target ${s.context.target}` : '') +
        (s.context.removedGuestCtr + s.context.removedBothCtr > 0 ? '+ballooned' : ''),
    });
    const reached = new Set(paths.map((p) => leafStateName(p.state.value)));
    expect([...HV_BALLOON_STATE_NAMES].filter((s) => !reached.has(s))).toEqual([]);

    // The shortest way into hot-add: negotiation, a target (set at any time), the 50 s timer, then
    // four handler steps: IDLE -> HOT_ADD_SETUP -> HOT_ADD_RB_WAIT -> HOT_ADD_POSTING -> HOT_ADD_REPLY_WAIT.
    const toHotAddReply = paths.find((p) => leafStateName(p.state.value) === 'S_HOT_ADD_REPLY_WAIT');
    const steps = toHotAddReply?.steps.map((s) => s.event.type) ?? [];
    expect(steps.slice(-5)).toEqual([
      'xstate.after.postInitWait.S_POST_INIT_WAIT',
      'loop.run-handler',
      'loop.run-handler',
      'loop.run-handler',
      'loop.run-handler',
    ]);
    expect(steps).toContain('device.set-target');
    expect(steps.indexOf('DM_CAPABILITIES_REPORT')).toBeGreaterThan(steps.indexOf('DM_VERSION_REQUEST'));
  });
});
