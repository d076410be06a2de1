/**
 * QEMU's flat view of the low 4 GiB, as hv-balloon sees it when a guest reports pages there.
 *
 * 0xC0000-0xFFFFF after SeaBIOS has programmed PAM: pc.ram behind read-only aliases. hv-balloon
 * checks the underlying region, so pages a guest reports there are ordinary RAM to it: "both",
 * discarded, no warning (QEMU hv_balloon_handle_remove_ranges, pam.c init_pam). The BIOS image
 * at the top of 4 GiB stays ROM.
 */
import { createVm } from '../../actors/vm/create-vm';
import type { VmTraceRecord } from '../../actors/vm/create-vm';

const GiB = 1024 ** 3;

function run(range: { startPage: number; pageCount: number }): { warnings: string[]; bothCtr: number; actual: number } {
  const vm = createVm({
    machine: { memory: '4G' },
    device: { statusReport: false },
    guest: { profile: 'malicious', plan: [{ kind: 'romPages', response: 1, range }] },
  });
  const warnings: string[] = [];
  vm.trace$.subscribe((r: VmTraceRecord) => {
    if (r.kind === 'device' && r.event.type === 'warning') warnings.push(r.event.text);
  });
  try {
    vm.run(55_000);
    vm.balloon(4 * GiB - 2 * 1024 * 1024);
    vm.run(10_000);
    const device = vm.counters().device!;
    return { warnings, bothCtr: device.removedBothCtr, actual: vm.queryBalloon().actual };
  } finally {
    vm.dispose();
  }
}

describe('PAM-shadowed RAM at 0xC0000-0xFFFFF', () => {
  it('pages reported there are "both" to QEMU, discarded without a warning', () => {
    const r = run({ startPage: 0xc0, pageCount: 32 });
    // Only the count warning any extra pages bring (the request was for 512): nothing about the pages.
    expect(r.warnings).toEqual(['guest reported more pages removed than currently pending (544 vs 512)']);
    // The 512-page 2 MiB unit the guest really gave plus the 32 shadowed pages.
    expect(r.bothCtr).toBe(512 + 32);
    expect(r.actual).toBe(4 * GiB - (512 + 32) * 4096);
  });

  it('the BIOS image below 4 GiB stays ROM: "not an ordinary RAM", per page', () => {
    const r = run({ startPage: 0xfffc0, pageCount: 4 });
    expect(r.warnings).toEqual([
      'guest reported removed page 1048512 in a section that is not an ordinary RAM',
      'guest reported more pages removed than currently pending (516 vs 512)',
    ]);
    expect(r.bothCtr).toBe(512);
  });
});

describe("the PCI hole as QEMU's flat view has it", () => {
  function warningsFor(range: { startPage: number; pageCount: number }): string[] {
    const vm = createVm({
      machine: { memory: '4G' },
      device: { statusReport: false },
      guest: { profile: 'malicious', plan: [{ kind: 'mmioPages', response: 1, range }] },
    });
    const warnings: string[] = [];
    vm.trace$.subscribe((r: VmTraceRecord) => {
      if (r.kind === 'device' && r.event.type === 'warning') warnings.push(r.event.repeat > 1 ? `${r.event.text} (x${r.event.repeat})` : r.event.text);
    });
    try {
      vm.run(55_000);
      vm.balloon(4 * GiB - 4 * 1024 * 1024);
      vm.run(10_000);
      return warnings.filter((w) => !w.startsWith('guest reported more pages removed'));
    } finally {
      vm.dispose();
    }
  }

  it('unpopulated hole addresses are absent: "not found in RAM", once per page', () => {
    expect(warningsFor({ startPage: 0xe0000, pageCount: 3 })).toEqual(['guest reported removed page 917504 not found in RAM (x3)']);
  });

  it('the HPET page is a section smaller than a page', () => {
    expect(warningsFor({ startPage: 0xfed00, pageCount: 1 })).toEqual(['guest reported removed page 1043712 in a section smaller than page size']);
  });

  it('the IOAPIC page is MMIO: "not an ordinary RAM"', () => {
    expect(warningsFor({ startPage: 0xfec00, pageCount: 1 })).toEqual(['guest reported removed page 1043456 in a section that is not an ordinary RAM']);
  });
});
