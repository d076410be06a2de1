import {
  balloonBytesPerMinute,
  balloonReferenceWork,
  COST_KINDS,
  costOf,
  costTableMarkdown,
  DEFAULT_COST_TABLE,
  resolveCostTable,
  unballoonReferenceWork,
  unballoonSeconds,
  virtioDeflateSeconds,
  virtioInflateBytesPerMinute,
} from '../../machines/cost-model';

describe('cost model calibration', () => {
  test('the default table balloons at the 230 GB/min of the QEMU hv-balloon commit message', () => {
    expect(balloonBytesPerMinute()).toBeCloseTo(230e9, -6);
    expect(costOf(balloonReferenceWork(230e9))).toBeCloseTo(60_000, 0);
  });

  test('the default table unballoons 200 GB in about 1 s', () => {
    expect(unballoonSeconds(200e9)).toBeCloseTo(1, 6);
    expect(costOf(unballoonReferenceWork(200e9))).toBeCloseTo(1000, 0);
  });

  test('a full Linux balloon response (510 units of 2 MiB) costs what 1020 MiB at 230 GB/min takes, give or take the message', () => {
    const ms = costOf([
      { kind: 'rangeAllocated', count: 510 },
      { kind: 'pageAllocated', count: 510 * 512 },
      { kind: 'messageSent', count: 1 },
    ]);
    const atRate = ((1020 * 1024 ** 2) / 230e9) * 60_000;
    expect(Math.abs(ms - atRate) / atRate).toBeLessThan(0.01);
  });

  test('every figure has a source, and those not derived from the references say they are assumptions', () => {
    for (const kind of COST_KINDS) {
      const e = DEFAULT_COST_TABLE[kind];
      expect(e.nsPerUnit).toBeGreaterThanOrEqual(0);
      expect(e.source).toMatch(/^(derived: |assumption: )/);
    }
    expect(DEFAULT_COST_TABLE.pageAllocated.source).toMatch(/^derived/);
    expect(DEFAULT_COST_TABLE.pageFreed.source).toMatch(/^derived/);
    expect(costTableMarkdown().split('\n')).toHaveLength(2 + COST_KINDS.length);
  });
});

describe('virtio-balloon in the same table', () => {
  test('its mechanisms are assumptions, none fitted to the seed\'s virtio figures', () => {
    for (const kind of ['pfnQueued', 'pfnHandled', 'bufferRoundTrip'] as const) {
      expect(DEFAULT_COST_TABLE[kind].source).toMatch(/^assumption: /);
    }
  });

  test('summed per PFN and per round trip, they give the seed\'s 70 GB/min and ~2.5 min for 200 GB within 25 %', () => {
    const rate = virtioInflateBytesPerMinute() / 1e9;
    expect(rate).toBeGreaterThanOrEqual(70 * 0.75);
    expect(rate).toBeLessThanOrEqual(70 * 1.25);
    const seconds = virtioDeflateSeconds(200e9);
    expect(seconds).toBeGreaterThanOrEqual(150 * 0.75);
    expect(seconds).toBeLessThanOrEqual(150 * 1.25);
  });

  test('adding them left hv-balloon\'s calibration as it was', () => {
    expect(DEFAULT_COST_TABLE.pageAllocated.nsPerUnit).toBeCloseTo((60e9 - 96 * 10_000 - 109_673 * 2_000 - 216 * 10_000) / 56_152_344, 3);
  });
});

describe('costOf', () => {
  test('sums ns per unit and rounds to 1 µs', () => {
    expect(costOf([{ kind: 'messageHandled', count: 3 }], { messageHandled: 1234 })).toBe(0.004);
    expect(costOf([])).toBe(0);
    expect(costOf([{ kind: 'pageOnlined', count: 0 }])).toBe(0);
  });

  test('overrides from the VM config replace single figures and take a resolved table too', () => {
    const table = resolveCostTable({ messageSent: 1_000_000 });
    expect(table.messageSent).toMatchObject({ nsPerUnit: 1_000_000, source: 'override from the VM config' });
    expect(table.pageAllocated).toBe(DEFAULT_COST_TABLE.pageAllocated);
    expect(costOf([{ kind: 'messageSent', count: 2 }], table)).toBe(2);
    expect(costOf([{ kind: 'messageSent', count: 2 }], { messageSent: 1_000_000 })).toBe(2);
  });

  test('bad overrides and bad work items are refused with the field named', () => {
    expect(() => resolveCostTable({ messageSent: -1 })).toThrow('costModel.messageSent must be a finite number of ns >= 0, got -1');
    expect(() => resolveCostTable({ pageAllocatedd: 1 } as never)).toThrow(/costModel.pageAllocatedd is not a cost kind/);
    expect(() => costOf([{ kind: 'pageFreed', count: 1.5 }])).toThrow('work pageFreed count must be a non-negative integer, got 1.5');
    expect(() => costOf([{ kind: 'nap', count: 1 } as never])).toThrow(/work.kind must be a cost kind/);
  });
});
