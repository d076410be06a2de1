/**
 * The guest's DM driver (the Linux hv_balloon driver, or the Windows or malicious profile), driven
 * by a host your test scripts: for people who write their own DM host (a VMM's balloon device)
 * and want to see what the guest does with their packets. The real driver, VMBus channel, vCPU and
 * memory-controller statecharts and the real guest-memory model on one virtual clock; the host
 * end of the channel is a ScriptableHost. By default it answers the handshake as QEMU does, so a
 * test starts from an initialized driver and scripts the rest.
 *
 *   const bed = createGuestTestbed({ machine: { memory: '4G' }, guest: { profile: 'linux' } });
 *   bed.runUntil(() => bed.summary().dmState === 'Initialized');
 *   bed.host.send({ type: 'DM_BALLOON_REQUEST', transId: bed.host.nextTransId(), numPages: 1024 });
 *   bed.runUntil(() => bed.host.last('DM_BALLOON_RESPONSE') !== undefined);
 */
import { createActor, type Actor } from 'xstate';
import { MessageBus } from '../actors/message-bus';
import { VirtualClock } from '../actors/virtual-clock';
import { normalizeVmConfig, type VmConfig, type VmConfigInput } from '../actors/vm/vm-config';
import { dmGuestDriverMachine, summarizeGuestDriver, type DmGuestDriverEmitted, type DmGuestDriverSummary, type LogLevel } from '../machines/dm-guest-driver.machine';
import { MachineMemory } from '../machines/machine-memory';
import { memoryControllerMachine } from '../machines/memory-controller.machine';
import type { PostedEvent } from '../machines/outbox';
import type { PartInbox } from '../machines/part-events';
import { vcpuMachine } from '../machines/vcpu.machine';
import { vmbusChannelMachine } from '../machines/vmbus-channel.machine';
import { ChannelLink } from '../machines/vmbus-ring';
import type { DmMessage, DmVersion } from '../protocol/messages';
import { runUntil } from './run-until';
import { ScriptedEnd } from './scripted-end';

export interface ScriptableHostOptions {
  /** Answer DM_VERSION_REQUEST and DM_CAPABILITIES_REPORT as QEMU's device does (default true). */
  autoHandshake?: boolean;
  /** Which versions the auto-handshake accepts. Default QEMU's rule: 0x3 <= (major << 16 | minor) <= 0x20000. */
  acceptVersion?: (version: DmVersion) => boolean;
  /** Whether the auto-handshake accepts the capabilities (default true). */
  acceptCaps?: boolean;
  /** Ask the guest for status reports (QEMU status-report=on; default true). */
  statusReport?: boolean;
  /** Refuse the guest's channel open (QEMU refuses it outside its wait-for-open states). */
  refuseOpen?: boolean;
}

/** QEMU hv-balloon.c: a version is accepted when 0x3 <= version <= 0x20000 (DYNMEM_PROTOCOL_VERSION_WIN10). */
function qemuAcceptsVersion(version: DmVersion): boolean {
  const value = ((version.major << 16) | version.minor) >>> 0;
  return value >= 0x3 && value <= 0x20000;
}

/** The host end of the channel, scripted by the test. */
export class ScriptableHost extends ScriptedEnd<ScriptableHost> {
  /** device.* events the channel sent the host (open requests, resets, close), in order. */
  readonly channelEvents: string[] = [];
  private transId = 0;

  /** @internal The testbed builds it. */
  constructor(
    link: ChannelLink,
    clock: VirtualClock,
    private readonly bus: MessageBus,
    private readonly options: ScriptableHostOptions,
  ) {
    super(link.endpoint('host', bus.outboxFor('device')), clock);
  }

  /** A fresh transaction id for a host-initiated message (1, 2, ...). */
  nextTransId(): number {
    return ++this.transId;
  }

  /** @internal What the channel tells the host. */
  receive(event: PartInbox['device']): void {
    this.channelEvents.push(event.type);
    if (event.type === 'device.open-request') {
      this.bus.post(
        'device',
        'channel',
        this.options.refuseOpen === true ? { type: 'channel.open-refused', reason: 'refused by the test' } : { type: 'channel.open-accepted' },
      );
    } else if (event.type === 'device.notify' && this.autoRead) {
      this.drain();
    }
  }

  protected override answerBuiltIn(message: DmMessage): void {
    if (this.options.autoHandshake === false) return;
    // QEMU echoes the guest's trans_id in its version and capabilities responses.
    if (message.type === 'DM_VERSION_REQUEST') {
      const accepted = (this.options.acceptVersion ?? qemuAcceptsVersion)(message.version);
      this.send({ type: 'DM_VERSION_RESPONSE', transId: message.transId, isAccepted: accepted });
    } else if (message.type === 'DM_CAPABILITIES_REPORT') {
      this.send({
        type: 'DM_CAPABILITIES_RESPONSE',
        transId: message.transId,
        isAccepted: this.options.acceptCaps ?? true,
        hotRemove: true,
        suppressPressureReports: this.options.statusReport === false,
      });
    }
  }
}

export type GuestTestbedConfig = Pick<VmConfigInput, 'machine' | 'guest' | 'workload' | 'seed' | 'costModel' | 'channel' | 'memctl'> & {
  host?: ScriptableHostOptions;
};

type GuestLog = Extract<DmGuestDriverEmitted, { type: 'log' }>;
type GuestMisbehaviour = Extract<DmGuestDriverEmitted, { type: 'misbehaviour' }>;

export interface GuestTestbed {
  readonly clock: VirtualClock;
  readonly bus: MessageBus;
  readonly config: VmConfig;
  /** The driver actor (dmGuestDriverMachine from hv-balloon-sim/machines). */
  readonly driver: Actor<typeof dmGuestDriverMachine>;
  /** Guest memory (free, used, ballooned, hot-added pages). */
  readonly memory: MachineMemory;
  /** The host end: send(), respond(), received, messages(), last(). */
  readonly host: ScriptableHost;
  /** Everything the driver emitted: kernel-log lines and the malicious profile's misbehaviours. */
  readonly emitted: DmGuestDriverEmitted[];
  run(ms: number): void;
  /** Run until `done()` holds, in `stepMs` steps; returns the virtual ms it took. Throws after `limitMs`. */
  runUntil(done: () => boolean, options?: { limitMs?: number; stepMs?: number; what?: string }): number;
  /** Run until the driver has finished the handshake (dmState 'Initialized'); returns the virtual ms. */
  runUntilInitialized(limitMs?: number): number;
  /** The driver's state, statistics, balloon and hot-add figures. */
  summary(): DmGuestDriverSummary;
  /** The driver's kernel-log lines ("hv_balloon: ..."), of one level if given. */
  logs(level?: LogLevel): GuestLog[];
  misbehaviours(): GuestMisbehaviour[];
  dispose(): void;
}

/**
 * Builds the guest side and starts it: the channel is offered after `channel.offerDelay` (1 s by
 * default) and the driver probes. Configuration as for createVm (`machine`, `guest`, `workload`,
 * `seed`, ...) plus `host` for the scriptable host; bad values throw VmConfigError naming the field.
 */
export function createGuestTestbed(config: GuestTestbedConfig = {}): GuestTestbed {
  const { host: hostOptions = {}, ...vmInput } = config;
  const checked = normalizeVmConfig(vmInput);
  const clock = new VirtualClock();
  const bus = new MessageBus(clock);
  const memory = new MachineMemory({ ramBytes: checked.memoryBytes, maxmemBytes: checked.maxmemBytes, slots: checked.slots });
  const link = new ChannelLink(checked.ringBytes);
  const channel = createActor(vmbusChannelMachine, {
    input: { link, outbox: bus.outboxFor('channel'), signalLatencyMs: checked.signalLatencyMs, offerDelayMs: checked.offerDelayMs },
    clock,
  });
  const driver = createActor(dmGuestDriverMachine, {
    input: { endpoint: link.endpoint('guest', bus.outboxFor('guest')), memory, outbox: bus.outboxFor('guest'), profile: checked.guest, seed: checked.seed },
    clock,
  });
  // As createVm wires them: the driver onlines the backed pages of a hot-added block itself (Linux hv_online_page).
  const memctl = createActor(memoryControllerMachine, {
    input: { outbox: bus.outboxFor('memctl'), memory, onlineDelayMs: checked.onlineDelayMs, onlineMode: 'notify-only' },
    clock,
  });
  const vcpu = createActor(vcpuMachine, {
    input: { outbox: bus.outboxFor('vcpu'), memory, workload: checked.workload, seed: checked.seed, costModel: checked.costModel },
    clock,
  });
  const emitted: DmGuestDriverEmitted[] = [];
  driver.on('*', (e) => emitted.push(e));
  const host = new ScriptableHost(link, clock, bus, hostOptions);
  bus.attach('channel', channel);
  bus.attach('guest', driver);
  bus.attach('memctl', memctl);
  bus.attach('vcpu', vcpu);
  bus.attach('device', { send: (e: PostedEvent) => host.receive(e as PartInbox['device']) });
  bus.attach('vm', { send: () => undefined });
  for (const actor of [channel, memctl, vcpu, driver]) actor.start();

  const bed: GuestTestbed = {
    clock,
    bus,
    config: checked,
    driver,
    memory,
    host,
    emitted,
    run: (ms) => clock.advance(ms),
    runUntil: (done, options = {}) => runUntil(clock, done, options),
    runUntilInitialized: (limitMs = 60_000) =>
      runUntil(clock, () => bed.summary().dmState === 'Initialized', { limitMs, what: "the driver's handshake (dmState Initialized)" }),
    summary: () => summarizeGuestDriver(driver.getSnapshot().context),
    logs: (level) => emitted.filter((e): e is GuestLog => e.type === 'log' && (level === undefined || e.level === level)),
    misbehaviours: () => emitted.filter((e): e is GuestMisbehaviour => e.type === 'misbehaviour'),
    dispose() {
      for (const actor of [driver, vcpu, memctl, channel]) actor.stop();
    },
  };
  return bed;
}
