/** Issue #9, item 8: QMP `balloon` takes an int64; QEMU's input visitor refuses 2^63 and beyond. */
import { createVm } from '../../actors/vm/create-vm';

describe('balloon value outside int64', () => {
  it.each([2 ** 63, 2 ** 64, -(2 ** 63) - 4096, 1e300])('refuses %d with the type error, and the target stays', (value) => {
    const vm = createVm({ machine: { memory: '1G' }, device: {} });
    expect(vm.execute({ execute: 'balloon', arguments: { value } })).toEqual({
      error: { class: 'GenericError', desc: "Invalid parameter type for 'value', expected: integer" },
    });
    vm.run(60_000);
    expect(vm.queryBalloon()).toEqual({ actual: 2 ** 30 });
    vm.dispose();
  });

  it('still takes the largest int64 a double holds exactly', () => {
    const vm = createVm({ machine: { memory: '1G' }, device: {} });
    expect(vm.execute({ execute: 'balloon', arguments: { value: 2 ** 63 - 1024 } })).toEqual({ return: {} });
    vm.dispose();
  });
});
