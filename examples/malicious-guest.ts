/**
 * malicious-guest — a guest that lies to QEMU's hv-balloon device on purpose, and what QEMU does.
 *
 * The guest runs the 'malicious' profile: a Linux driver that, following a seeded plan, reports
 * pages outside RAM, ROM and MMIO pages, pages twice, overlapping ranges, truncated messages and
 * wrong range counts in its balloon responses, sends messages the host does not expect in its
 * state, and claims more hot-added pages than it was given (docs/guest-profiles.md lists them;
 * QEMU's answers are in docs/host-device.md). Each run boots the guest, lets the timed
 * misbehaviours fire during QEMU's 50 s post-init wait, then `balloon 2048` (4 GiB -> 2 GiB),
 * `balloon 6144` (unballoon, then hot-add) and `balloon 4096`. It prints every misbehaviour next to
 * the warning QEMU printed for it, the device's warning counters, and its accounting after each
 * command: the removed-page counters equal the pages in their trees, `actual` counts only pages
 * the host really freed, QEMU's target maths clamp the removed pages to the guest's RAM, and the
 * device keeps answering queries and carrying out commands.
 *
 * Part 1 uses the default plan (every misbehaviour once, at points drawn from the seed). Part 2 is
 * a guest claiming 64 GiB of pages above its RAM in its first response: more than the guest has,
 * so QEMU's clamp decides, and the lie ends up hurting only the guest.
 *
 * QEMU command line it corresponds to:
 *   qemu-system-x86_64 -m 4G,maxmem=40G -object memory-backend-ram,id=mem0,size=4G \
 *     -device vmbus-bridge -device hv-balloon,id=hvb,memdev=mem0,status-report=on
 *   (qemu) balloon 2048
 *   (qemu) balloon 6144
 *   (qemu) balloon 4096
 *
 * Run: npx ts-node --transpile-only examples/malicious-guest.ts [seed]
 */
import { createVm, type GuestProfileConfig, type Vm } from 'hv-balloon-sim';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const PAGE = 4096;

export type MaliciousPlan = NonNullable<Extract<GuestProfileConfig, { profile: 'malicious' }>['plan']>;

/** One of QEMU's warnings (trace$ kind 'device', type 'warning'). */
export interface QemuWarning {
  timeMs: number;
  kind: string;
  text: string;
  /** How many times QEMU prints it (once per page for pages it cannot find). */
  repeat: number;
}

/** One misbehaviour (trace$ kind 'guest', type 'misbehaviour') and the warnings QEMU printed for it. */
export interface MisbehaviourReport {
  timeMs: number;
  kind: string;
  text: string;
  warnings: QemuWarning[];
}

export interface TreeTotals {
  pages: number;
  ranges: number;
}

/** The device's accounting after one command. */
export interface Accounting {
  command: string;
  /** query-balloon actual, bytes: (ram_total - removed_both) pages. */
  actualBytes: number;
  /** Boot RAM + hot-added, pages (QEMU ram_total). */
  ramTotalPages: number;
  removedGuestCtr: number;
  removedBothCtr: number;
  trees: { globalGuest: TreeTotals; globalBoth: TreeTotals; ourGuest: TreeTotals; ourBoth: TreeTotals };
  /** QEMU's target maths: ram_total - min(removed_guest + removed_both, ram_total), pages. */
  currentPages: number;
  /** removed_guest_ctr and removed_both_ctr each equal the pages in their two trees. */
  countersMatchTrees: boolean;
  deviceState: string;
}

export interface MaliciousGuestResult {
  seed: number;
  misbehaviours: MisbehaviourReport[];
  /** Warnings no single misbehaviour caused (only moreRemovedThanPending is expected: the fake pages' sum). */
  otherWarnings: QemuWarning[];
  /** The device's warning counters (vm.counters().device.warnings), kinds printed at least once. */
  warningCounters: Record<string, number>;
  /** After balloon 2048, balloon 6144 and balloon 4096. */
  accounting: Accounting[];
  /** The device still answers: query-hv-balloon-status-report and query-memory-devices at the end. */
  statusReport: { committed: number; available: number };
  memoryDevices: unknown[];
  messages: Record<string, number>;
}

export interface MaliciousGuestOptions {
  seed?: number;
  /** The misbehaviours; default: every one once, at seeded points. */
  plan?: MaliciousPlan;
  write?: (line: string) => void;
}

/**
 * Which QEMU warnings a misbehaviour causes (QEMU hv-balloon.c). Repeated pages cause none: QEMU's
 * range trees merge them silently. An overlapping range also claims as many pages after the range
 * it overlaps; past the end of RAM those are "not found in RAM". moreRemovedThanPending is not
 * listed: it follows from all the fake pages together (QEMU counts them as removed, so the guest's
 * real pages overshoot what QEMU still expects) and is printed as a consequence.
 */
const CAUSES: Record<string, readonly string[]> = {
  outsideRam: ['removedPageNotFound'],
  romPages: ['removedPageNotRam'],
  mmioPages: ['removedPageNotRam'],
  duplicatePages: [],
  overlappingRanges: ['removedPageNotFound'],
  truncatedMessage: ['messageTooShort'],
  rangeCountMismatch: ['balloonResponseRangeCount'],
  unsolicitedUnballoonResponse: ['unexpectedUnballoonResponse'],
  unsolicitedHotAddResponse: ['unexpectedHotAddResponse'],
  versionRequestAfterInit: ['unexpectedVersionRequest'],
  capsReportAfterInit: ['unexpectedCapabilitiesReport'],
  inflatedHotAddCount: ['hotAddCountHigher'],
};

/** The pages a misbehaviour put on the wire: its text names them as 0x<start page>+<count>. */
function claimedRange(m: MisbehaviourReport): { start: number; count: number } | null {
  const match = /0x([0-9a-f]+)\+(\d+)/i.exec(m.text);
  return match ? { start: parseInt(match[1]!, 16), count: Number(match[2]) } : null;
}

/**
 * Gives each warning to the misbehaviour that caused it: a per-page warning ("guest reported
 * removed page N ...") to the one whose pages include N; any other to the earliest one of a kind
 * that causes it and has no such warning yet.
 */
function attribute(misbehaviours: MisbehaviourReport[], warnings: QemuWarning[]): QemuWarning[] {
  const other: QemuWarning[] = [];
  for (const w of warnings) {
    const causes = misbehaviours.filter((m) => m.timeMs <= w.timeMs && (CAUSES[m.kind] ?? []).includes(w.kind));
    const page = /removed page (\d+)/.exec(w.text);
    const owner = page
      ? causes.find((m) => {
          const r = claimedRange(m);
          return r !== null && Number(page[1]) >= r.start && Number(page[1]) < r.start + r.count;
        })
      : causes.find((m) => !m.warnings.some((x) => x.kind === w.kind));
    if (owner) owner.warnings.push(w);
    else other.push(w);
  }
  return other;
}

interface DeviceCountersView {
  state: string;
  removedGuestCtr: number;
  removedBothCtr: number;
  trees: Record<'globalGuest' | 'globalBoth' | 'ourGuest' | 'ourBoth', TreeTotals>;
  ourRange: { added: number } | null;
  warnings: Record<string, number>;
}

function deviceCounters(vm: Vm): DeviceCountersView {
  return vm.counters().device as DeviceCountersView;
}

/** Runs until the device is idle again, then a little longer for the guest to finish. */
function settle(vm: Vm): void {
  const end = vm.now() + 120_000;
  do vm.run(500);
  while (vm.deviceState() !== 'S_IDLE' && vm.now() < end);
  vm.run(1_000);
}

function accounting(vm: Vm, command: string): Accounting {
  const d = deviceCounters(vm);
  const tree = (t: TreeTotals): TreeTotals => ({ pages: t.pages, ranges: t.ranges });
  const ramTotalPages = vm.config.memoryBytes / PAGE + (d.ourRange?.added ?? 0);
  return {
    command,
    actualBytes: vm.queryBalloon().actual,
    ramTotalPages,
    removedGuestCtr: d.removedGuestCtr,
    removedBothCtr: d.removedBothCtr,
    trees: { globalGuest: tree(d.trees.globalGuest), globalBoth: tree(d.trees.globalBoth), ourGuest: tree(d.trees.ourGuest), ourBoth: tree(d.trees.ourBoth) },
    currentPages: ramTotalPages - Math.min(d.removedGuestCtr + d.removedBothCtr, ramTotalPages),
    countersMatchTrees:
      d.removedGuestCtr === d.trees.globalGuest.pages + d.trees.ourGuest.pages && d.removedBothCtr === d.trees.globalBoth.pages + d.trees.ourBoth.pages,
    deviceState: d.state,
  };
}

export function maliciousGuest(options: MaliciousGuestOptions = {}): MaliciousGuestResult {
  const seed = options.seed ?? 3;
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const vm = createVm({
    seed,
    machine: { memory: '4G', maxmem: '40G' },
    device: { id: 'hvb', memdev: '4G', statusReport: true },
    guest: options.plan ? { profile: 'malicious', plan: options.plan } : { profile: 'malicious' },
  });
  try {
    const misbehaviours: MisbehaviourReport[] = [];
    const warnings: QemuWarning[] = [];
    const t = (ms: number): string => `${(ms / 1000).toFixed(3).padStart(8)}s`;
    vm.trace$.subscribe((r) => {
      if (r.kind === 'guest' && r.event.type === 'misbehaviour') {
        misbehaviours.push({ timeMs: r.time, kind: r.event.kind, text: r.event.text, warnings: [] });
        write(`${t(r.time)}  guest  ${r.event.text}`);
      }
      if (r.kind === 'device' && r.event.type === 'warning') {
        warnings.push({ timeMs: r.time, kind: r.event.kind, text: r.event.text, repeat: r.event.repeat });
        write(`${t(r.time)}  qemu   ${r.event.level}: ${r.event.text}${r.event.repeat > 1 ? `  [printed ${r.event.repeat} times, once per page]` : ''}`);
      }
    });

    const steps: Accounting[] = [];
    settle(vm);
    for (const mib of [2048, 6144, 4096]) {
      write(`${t(vm.now())}  (qemu) balloon ${mib}`);
      vm.balloon(mib * MiB);
      settle(vm);
      write(`${t(vm.now())}  (qemu) info balloon -> ${vm.hmp('info balloon').trim()}`);
      steps.push(accounting(vm, `balloon ${mib}`));
    }
    const otherWarnings = attribute(misbehaviours, warnings);
    const result: MaliciousGuestResult = {
      seed,
      misbehaviours,
      otherWarnings,
      warningCounters: Object.fromEntries(Object.entries(deviceCounters(vm).warnings).filter(([, n]) => n > 0)),
      accounting: steps,
      statusReport: vm.queryHvBalloonStatusReport(),
      memoryDevices: vm.queryMemoryDevices(),
      messages: vm.messageCounts() as Record<string, number>,
    };
    summary(result, write);
    return result;
  } finally {
    vm.dispose();
  }
}

function summary(r: MaliciousGuestResult, write: (line: string) => void): void {
  write('');
  write('What the guest did -> what QEMU printed:');
  for (const m of r.misbehaviours) {
    const said =
      m.warnings.length === 0
        ? '(nothing: QEMU\'s range trees merge pages it already has silently, and count them once)'
        : m.warnings.map((w) => (w.repeat > 1 ? `"${w.text}" x${w.repeat}` : `"${w.text}"`)).join(', ');
    write(`  ${m.kind.padEnd(28)} -> ${said}`);
  }
  for (const w of r.otherWarnings) write(`  ${'(consequence)'.padEnd(28)} -> "${w.text}"`);
  if (r.otherWarnings.some((w) => w.kind === 'moreRemovedThanPending')) {
    write('  (QEMU counts the fake pages as removed, so the guest\'s real pages overshoot what QEMU still expects)');
  }
  write('');
  write(`Device warning counters (vm.counters().device.warnings): ${Object.entries(r.warningCounters).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  write('');
  write('Accounting after each command (pages of 4 KiB):');
  const header = ['after', 'actual', 'ram_total', 'removed guest', 'removed both', "QEMU's current", 'ctr = trees', 'state'];
  const rows = r.accounting.map((a) => [
    a.command,
    `${a.actualBytes / MiB} MiB`,
    String(a.ramTotalPages),
    String(a.removedGuestCtr),
    String(a.removedBothCtr),
    String(a.currentPages) + (a.removedGuestCtr + a.removedBothCtr > a.ramTotalPages ? ' (clamped)' : ''),
    a.countersMatchTrees ? 'yes' : 'NO',
    a.deviceState,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [header, ...rows]) write('  ' + row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  write("  (actual = ram_total - removed both: only pages QEMU really freed; QEMU's current = ram_total - min(guest + both, ram_total))");
  write(`  query-hv-balloon-status-report: committed ${(r.statusReport.committed / MiB).toFixed(0)} MiB, available ${(r.statusReport.available / MiB).toFixed(0)} MiB`);
}

if (require.main === module) {
  const arg = process.argv[2];
  const seed = arg === undefined ? 3 : Number(arg);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    process.stderr.write(`malicious-guest: the seed must be a whole number >= 0, got ${JSON.stringify(arg)}\n`);
    process.exit(2);
  }
  const write = (line: string): void => void process.stdout.write(line + '\n');
  write(`hv-balloon-sim: a malicious guest against QEMU's hv-balloon (4 GiB boot RAM, 4 GiB memdev, status-report=on)`);
  write('');
  write(`== Part 1: every misbehaviour once, at points drawn from seed ${seed}`);
  maliciousGuest({ seed, write });
  write('');
  write('== Part 2: the first balloon response claims 16,777,215 pages (64 GiB) above RAM, more than the guest has');
  maliciousGuest({ seed, write, plan: [{ kind: 'outsideRam', response: 1, range: { startPage: 2 ** 36, pageCount: 2 ** 24 - 1 } }] });
  write('');
  write("  QEMU's target maths clamp the removed pages to ram_total, so it sees a guest of size 0 ('current'), while actual");
  write('  still counts only the 2 GiB it really freed. balloon 6144 then unballoons 4 GiB of the fake pages first (QEMU');
  write('  returns the guest-only tree before the pages it freed) and hot-adds the rest: actual 4096, not 6144. The device');
  write('  stays consistent and keeps working; the lie costs only the guest.');
}
