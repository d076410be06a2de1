/**
 * If a part of the VM throws (a bug in the simulator), the process must not crash: the VM stops,
 * and every later command answers with an error that says what failed.
 */
import { createVm, QmpError } from '../../index';

describe('a part that throws', () => {
  it('stops the simulation cleanly and every later command reports the failure', () => {
    const vm = createVm({ machine: { memory: '4G' }, device: {}, guest: { profile: 'linux' } });
    const failures: string[] = [];
    vm.trace$.subscribe((r) => r.kind === 'failure' && failures.push(r.message));
    vm.run(60_000);
    // Sabotage the host side of memory: the device's next discard throws inside its action.
    vm.memory.discard = () => {
      throw new Error('injected discard failure');
    };
    vm.hmp('balloon 2048');
    vm.run(1_000);
    expect(failures).toEqual(['injected discard failure']);
    expect(() => vm.queryBalloon()).toThrow(QmpError);
    expect(vm.execute({ execute: 'query-balloon' })).toEqual({
      error: { class: 'GenericError', desc: 'the simulation has stopped: a part failed (injected discard failure)' },
    });
    expect(() => vm.run(1_000)).toThrow('the simulation has stopped');
  });
});
