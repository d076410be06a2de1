/**
 * A VM with QEMU's virtio-balloon device and Linux's virtio_balloon driver (device model
 * "virtio-balloon"), on the same runtime as the hv-balloon VM: one virtual clock, the message bus,
 * the memory model, the memory controller and the vCPU with its cost model. It answers QMP and HMP
 * as QEMU does for virtio-balloon: `balloon`, `query-balloon`, `info balloon`, the BALLOON_CHANGE
 * event (throttled to 1/s as QEMU's monitor does), `qom-get`/`qom-set` of `guest-stats` and
 * `guest-stats-polling-interval`. createVm builds one when the config's device model says so.
 */
import { createActor, type AnyActorRef } from 'xstate';
import type { MachineMemory } from '../../machines/machine-memory';
import { queryHvBalloonStatusReport } from '../../machines/hv-balloon-device/queries';
import type { VcpuEmitted } from '../../machines/vcpu.machine';
import {
  MAX_STATS_POLL_INTERVAL_S,
  QEMU_STAT_NAMES,
  VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
  VIRTIO_BALLOON_F_STATS_VQ,
} from '../../machines/virtio-balloon/constants';
import type {
  VirtioBalloonDeviceContext,
  VirtioBalloonDeviceEmitted,
  VirtioDeviceCounters,
} from '../../machines/virtio-balloon/virtio-balloon-device.machine';
import type { VirtioBalloonDriverContext, VirtioBalloonDriverEmitted, VirtioDriverCounters } from '../../machines/virtio-balloon/virtio-balloon-driver.machine';
import { createVirtioVmMachine } from '../../machines/virtio-balloon/virtio-vm.machine';
import { VirtioBalloonTransport } from '../../machines/virtio-balloon/virtqueue';
import { PAGE_SIZE } from '../../protocol/constants';
import type { DmMessageTypeName } from '../../protocol/messages';
import { QmpError } from '../qmp/qmp-types';
import type { CreateVmOptions, Vm, VmCounters } from './create-vm';
import { QmpEventThrottle } from './qmp-event-throttle';
import { guestMemory, VmRuntime } from './vm-runtime';
import type { VmConfig } from './vm-config';

/** Virtual ms from power-on until the driver probes. Assumption: like the VMBus offer (1 s). */
export const VIRTIO_PROBE_DELAY_MS = 1000;
/** QEMU monitor_qapi_event_conf: BALLOON_CHANGE is rate-limited to one per second. */
export const BALLOON_CHANGE_RATE_LIMIT_MS = 1000;
/** The QOM type the properties live on (QEMU: the -pci proxy aliases them; errors name the inner device). */
const QOM_PROXY_TYPE = 'virtio-balloon-pci';
const QOM_DEVICE_TYPE = 'virtio-balloon-device';

/** What counters().virtio reports. */
export interface VirtioBalloonCounters {
  deviceState: string;
  numPages: number;
  actual: number;
  device: VirtioDeviceCounters;
  driver: VirtioDriverCounters & { state: string; balloonPages: number };
  /** Buffers and bytes the guest put on each queue. */
  queues: Record<'inflate' | 'deflate' | 'stats', { buffers: number; bytes: number }>;
  features: { statsVq: boolean; deflateOnOom: boolean };
  statsPollingIntervalS: number;
}

export class VirtioBalloonVm extends VmRuntime implements Vm {
  /** virtio-balloon is not a memory device: QEMU prints no alignment warning for it. */
  readonly startupWarnings: readonly string[] = [];
  readonly memory: MachineMemory;
  readonly root: AnyActorRef;
  readonly transport: VirtioBalloonTransport;
  private readonly balloonChanges: QmpEventThrottle;

  constructor(config: VmConfig, options: CreateVmOptions) {
    super(config, options);
    const virtio = config.virtio!;
    this.balloonChanges = new QmpEventThrottle(this.clock, BALLOON_CHANGE_RATE_LIMIT_MS, (event) => this.publish(event));
    // The same guest memory model as an hv-balloon VM (no memdev: no hugepage slots).
    this.memory = guestMemory(config);
    // QEMU virtio_balloon_get_features: STATS_VQ always; DEFLATE_ON_OOM with deflate-on-oom=on.
    this.transport = new VirtioBalloonTransport((1 << VIRTIO_BALLOON_F_STATS_VQ) | (virtio.deflateOnOom ? 1 << VIRTIO_BALLOON_F_DEFLATE_ON_OOM : 0));
    this.root = createActor(createVirtioVmMachine(), {
      input: {
        outbox: this.bus.outboxFor('vm'),
        probeDelayMs: VIRTIO_PROBE_DELAY_MS,
        parts: {
          memctl: { outbox: this.bus.outboxFor('memctl'), memory: this.memory, onlineDelayMs: config.onlineDelayMs },
          vcpu: { outbox: this.bus.outboxFor('vcpu'), memory: this.memory, workload: config.workload, seed: config.seed, costModel: config.costModel },
          device: {
            transport: this.transport,
            memory: this.memory,
            outbox: this.bus.outboxFor('device'),
            config: virtio,
            ramBytes: config.memoryBytes,
            costModel: config.costModel,
            epochMs: this.epochMs,
          },
          guest: { transport: this.transport, memory: this.memory, outbox: this.bus.outboxFor('guest'), costModel: config.costModel },
        },
      },
      clock: this.clock,
      systemId: 'vm',
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    this.startRoot(['device', 'guest', 'memctl', 'vcpu']);
    this.part('device').on('*', (e: VirtioBalloonDeviceEmitted) => this.onDeviceEmitted(e));
    this.part('guest').on('*', (e: VirtioBalloonDriverEmitted) => {
      if (this.tracing) this.trace({ kind: 'virtio-guest', time: this.clock.now(), event: e });
    });
    // The guest kernel's OOM path: an allocation the workload could not get runs the OOM notifiers.
    this.part('vcpu').on('vcpu.workload-step', (e: VcpuEmitted) => {
      if (e.type === 'vcpu.workload-step' && (e.op === 'allocate' || e.op === 'churn') && e.pages < e.requestedPages) {
        this.bus.post('vm', 'guest', { type: 'virtio.oom' });
      }
    });
  }

  // ---- QMP-shaped control ---------------------------------------------------------------------------
  balloon(bytes: number): void {
    this.requireAlive();
    // QEMU virtio_balloon_to_target takes the byte value (qmp_balloon has refused <= 0 already).
    this.bus.post('vm', 'device', { type: 'virtio.set-target', targetBytes: bytes });
    this.settleNow();
  }
  queryBalloon(): { actual: number } {
    // QEMU virtio_balloon_stat: RAM size minus the guest's last written `actual`.
    const d = this.deviceContext();
    return { actual: (Math.floor(this.config.memoryBytes / PAGE_SIZE) - d.balloon.actual) * PAGE_SIZE };
  }
  queryHvBalloonStatusReport(): { committed: number; available: number } {
    // The command belongs to hv-balloon: with no hv-balloon device QEMU answers as it does here.
    const result = queryHvBalloonStatusReport(undefined);
    if (!result.ok) throw new QmpError('GenericError', result.error.desc);
    return { committed: Number(result.value.committed), available: Number(result.value.available) };
  }
  queryMemoryDevices(): unknown[] {
    return []; // virtio-balloon is not a memory device
  }
  hmpInfoBalloon(): string {
    // QEMU hmp_info_balloon: "balloon: actual=%" PRId64 in MiB.
    return `balloon: actual=${Math.floor(this.queryBalloon().actual / 2 ** 20)}`;
  }
  hmpInfoMemoryDevices(): string {
    return '';
  }
  /** QMP qom-get on the balloon's QOM path. */
  qomGet(path: string, property: string): unknown {
    this.resolveQomPath(path);
    const d = this.deviceContext();
    switch (property) {
      case 'guest-stats': {
        // QEMU balloon_stats_get_all: last-update, then every stat (unset ones are 2^64 - 1).
        const stats: Record<string, number | bigint> = {};
        QEMU_STAT_NAMES.forEach((name, i) => {
          const v = d.stats.values[i]!;
          stats[name] = v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
        });
        return { 'last-update': d.stats.lastUpdate, stats };
      }
      case 'guest-stats-polling-interval':
        return d.stats.pollIntervalS;
      default:
        throw new QmpError('GenericError', `Property '${QOM_PROXY_TYPE}.${property}' not found`);
    }
  }
  /** QMP qom-set on the balloon's QOM path (only the polling interval is writable). */
  qomSet(path: string, property: string, value: unknown): void {
    this.resolveQomPath(path);
    if (property === 'guest-stats') throw new QmpError('GenericError', `Property '${QOM_DEVICE_TYPE}.${property}' is not writable`);
    if (property !== 'guest-stats-polling-interval') throw new QmpError('GenericError', `Property '${QOM_PROXY_TYPE}.${property}' not found`);
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw new QmpError('GenericError', `Invalid parameter type for '${property}', expected: integer`);
    }
    // QEMU balloon_stats_set_poll_interval's checks and texts.
    if (value < 0) throw new QmpError('GenericError', 'timer value must be greater than zero');
    if (value > MAX_STATS_POLL_INTERVAL_S) throw new QmpError('GenericError', 'timer value is too big');
    this.bus.post('vm', 'device', { type: 'virtio.set-stats-interval', seconds: value });
    this.settleNow();
  }
  // ---- observation ------------------------------------------------------------------------------------
  /** No DM messages cross a virtio-balloon VM (see counters().virtio for its queues). */
  messageCounts(): Partial<Record<DmMessageTypeName, number>> {
    return {};
  }
  deviceState(): string | null {
    return this.deviceStateName();
  }
  counters(): VmCounters {
    return {
      virtualTimeMs: this.clock.now(),
      runState: this.state,
      device: null,
      guest: null,
      memory: this.memoryCounters(),
      messages: {},
      virtio: this.virtioCounters(),
    };
  }
  virtioCounters(): VirtioBalloonCounters {
    const d = this.deviceContext();
    const g = this.part('guest').getSnapshot() as { value: unknown; context: VirtioBalloonDriverContext };
    const q = this.transport.queues;
    const queue = (name: 'inflate' | 'deflate' | 'stats') => ({ buffers: q[name].buffersAdded, bytes: q[name].bytesAdded });
    return {
      deviceState: this.deviceStateName(),
      numPages: d.balloon.numPages,
      actual: d.balloon.actual,
      device: { ...d.counters },
      driver: { ...g.context.counters, state: stateName(g.value), balloonPages: g.context.balloon.numPages },
      queues: { inflate: queue('inflate'), deflate: queue('deflate'), stats: queue('stats') },
      features: { statsVq: this.transport.has(VIRTIO_BALLOON_F_STATS_VQ), deflateOnOom: this.transport.has(VIRTIO_BALLOON_F_DEFLATE_ON_OOM) },
      statsPollingIntervalS: d.stats.pollIntervalS,
    };
  }
  /** The driver is done with the host's target: `actual` equals `num_pages` and no step is running. */
  balloonSettled(): boolean {
    const d = this.deviceContext();
    if (d.balloon.actual !== d.balloon.numPages) return false;
    const g = this.part('guest').getSnapshot() as { matches(state: unknown): boolean };
    return g.matches({ probed: { balloon: 'idle' } });
  }
  // ---- internals --------------------------------------------------------------------------------------
  /** Every part is there in a virtio-balloon VM (no channel). */
  private part(id: 'device' | 'guest' | 'memctl' | 'vcpu'): AnyActorRef {
    return this.partRef(id)!;
  }
  private deviceContext(): VirtioBalloonDeviceContext {
    return (this.part('device').getSnapshot() as { context: VirtioBalloonDeviceContext }).context;
  }
  private deviceStateName(): string {
    return stateName((this.part('device').getSnapshot() as { value: unknown }).value);
  }
  /** QEMU qom-get/qom-set paths: the absolute /machine/peripheral/<id>, or the id as a partial path. */
  private resolveQomPath(path: string): void {
    const id = this.config.virtio!.id;
    if (path !== `/machine/peripheral/${id}` && path !== id) throw new QmpError('DeviceNotFound', `Device '${path}' not found`);
  }
  private onDeviceEmitted(e: VirtioBalloonDeviceEmitted): void {
    if (this.tracing) this.trace({ kind: 'virtio-device', time: this.clock.now(), event: e });
    if (e.type === 'balloon-change') this.balloonChanges.offer(this.makeEvent('BALLOON_CHANGE', { actual: e.actual }));
  }
}

/** A state value as one dotted name ("ready.handling"; parallel regions joined with "+"). */
function stateName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>);
    return entries.map(([k, v]) => (typeof v === 'string' ? `${k}.${v}` : `${k}.${stateName(v)}`)).join('+');
  }
  return String(value);
}
