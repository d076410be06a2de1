/**
 * quickstart — what `npm start` runs.
 *
 * A 4 GiB Linux guest with an 8 GiB hv-balloon memdev (QEMU: -m 4G,maxmem=44G
 * -object memory-backend-ram,id=mem0,size=8G -device hv-balloon,memdev=mem0,status-report=on):
 * it boots and negotiates the Dynamic Memory protocol, waits out QEMU's 50 s post-init period,
 * shrinks to 2 GiB by ballooning, grows to 10 GiB (unballoon first, then hot-add past its boot
 * size), and after a reboot is back at 4 GiB. Printed as a timeline and a table.
 */
import { createVm, type Vm } from 'hv-balloon-sim';

const MiB = 2 ** 20;

/** Advance virtual time in small steps until `done()` holds (or `limitMs` passes); returns the time taken. */
function runUntil(vm: Vm, done: () => boolean, limitMs: number): number {
  const start = vm.now();
  while (!done() && vm.now() - start < limitMs) vm.run(10);
  return vm.now() - start;
}

export function quickstart(write: (line: string) => void = (l) => process.stdout.write(l + '\n')): Array<Record<string, string>> {
  const vm = createVm({
    seed: 1,
    machine: { memory: '4G', maxmem: '44G' },
    device: { id: 'hvb', memdev: '8G', statusReport: true },
    guest: { profile: 'linux' },
  });
  const t = (): string => `${(vm.now() / 1000).toFixed(2).padStart(7)}s`;
  const actualMiB = (): number => vm.queryBalloon().actual / MiB;
  const rows: Array<Record<string, string>> = [];
  const record = (phase: string, tookMs: number): void => {
    rows.push({
      phase,
      'virtual time': `${(vm.now() / 1000).toFixed(2)} s`,
      took: `${(tookMs / 1000).toFixed(2)} s`,
      'actual (MiB)': String(actualMiB()),
      'guest free (MiB)': String(Math.round((vm.memory.freePages() * 4096) / MiB)),
      'device state': vm.deviceState() ?? '-',
    });
  };
  vm.trace$.subscribe((r) => {
    if (r.kind === 'guest' && r.event.type === 'log' && r.event.level !== 'debug') write(`${t()}  guest: hv_balloon: ${r.event.text}`);
    if (r.kind === 'device' && r.event.type === 'warning') write(`${t()}  qemu: ${r.event.text}`);
    if (r.kind === 'qmp-event' && r.event.event !== 'HV_BALLOON_STATUS_REPORT') write(`${t()}  QMP event ${r.event.event}`);
  });

  write('hv-balloon-sim quickstart: a 4 GiB Linux guest, an 8 GiB memdev, QEMU hv-balloon with status-report=on');
  const boot = runUntil(vm, () => vm.deviceState() === 'S_IDLE', 120_000);
  write(`${t()}  device reached S_IDLE (QEMU waits 50 s after the capabilities exchange)`);
  record('boot + DM negotiation', boot);

  write(`${t()}  (qemu) balloon 2048`);
  vm.hmp('balloon 2048');
  const shrink = runUntil(vm, () => actualMiB() === 2048 && vm.deviceState() === 'S_IDLE', 120_000);
  write(`${t()}  (qemu) info balloon -> ${vm.hmp('info balloon').trim()}`);
  record('shrink to 2 GiB', shrink);

  write(`${t()}  (qemu) balloon 10240`);
  vm.hmp('balloon 10240');
  const grow = runUntil(vm, () => actualMiB() === 10240 && vm.deviceState() === 'S_IDLE', 120_000);
  write(`${t()}  (qemu) info balloon -> ${vm.hmp('info balloon').trim()}`);
  record('grow to 10 GiB (unballoon + hot-add)', grow);

  const status = vm.execute({ execute: 'query-hv-balloon-status-report' });
  write(`${t()}  QMP query-hv-balloon-status-report -> ${JSON.stringify(status)}`);

  write(`${t()}  QMP system_reset`);
  vm.execute({ execute: 'system_reset' });
  const reboot = runUntil(vm, () => vm.deviceState() === 'S_IDLE' && actualMiB() === 4096, 120_000);
  write(`${t()}  (qemu) info balloon -> ${vm.hmp('info balloon').trim()}`);
  record('reboot: back to boot size', reboot);

  write('');
  const columns = Object.keys(rows[0]!);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => r[c]!.length)));
  write(columns.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  write(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) write(columns.map((c, i) => r[c]!.padEnd(widths[i]!)).join('  '));
  write('');
  write(`DM messages: ${Object.entries(vm.messageCounts()).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  vm.dispose();
  return rows;
}

if (require.main === module) quickstart();
