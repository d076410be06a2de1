/** A QMP session's capabilities negotiation (QEMU monitor/qmp.c), without sockets. */
import { QmpSession } from '../../../actors/qmp/qmp-dispatcher';
import { FakeVm, GiB } from './fake-vm';

const notFound = (desc: string) => ({ error: { class: 'CommandNotFound', desc } });

describe('QMP session: capabilities negotiation', () => {
  it('refuses every command before qmp_capabilities with the negotiation hint', () => {
    const vm = new FakeVm();
    const session = new QmpSession(vm);
    expect(session.negotiated).toBe(false);
    expect(session.execute({ execute: 'query-balloon' })).toEqual(notFound("Expecting capabilities negotiation with 'qmp_capabilities'"));
    expect(session.execute({ execute: 'no-such-command', id: 3 })).toEqual({
      ...notFound("Expecting capabilities negotiation with 'qmp_capabilities'"),
      id: 3,
    });
    expect(vm.calls).toEqual([]);
  });

  it('still checks the request shape before negotiation', () => {
    const session = new QmpSession(new FakeVm());
    expect(session.execute([1, 2])).toEqual({ error: { class: 'GenericError', desc: 'QMP input must be a JSON object' } });
    expect(session.execute({ execute: 'qmp_capabilities', arguments: { x: 1 } })).toEqual({
      error: { class: 'GenericError', desc: "Parameter 'x' is unexpected" },
    });
    expect(session.negotiated).toBe(false);
  });

  it('negotiates once, then runs commands, then refuses a second negotiation', () => {
    const session = new QmpSession(new FakeVm());
    expect(session.execute({ execute: 'qmp_capabilities' })).toEqual({ return: {} });
    expect(session.negotiated).toBe(true);
    expect(session.execute({ execute: 'query-balloon', id: 'x1' })).toEqual({ return: { actual: 4 * GiB }, id: 'x1' });
    expect(session.execute({ execute: 'qmp_capabilities' })).toEqual(notFound('Capabilities negotiation is already complete, command ignored'));
    expect(session.execute({ execute: 'no-such-command' })).toEqual(notFound('The command no-such-command has not been found'));
  });

  it('accepts the oob capability; exec-oob is then known but none of our commands allow it', () => {
    const session = new QmpSession(new FakeVm());
    expect(session.execute({ 'exec-oob': 'query-status' })).toEqual({
      error: { class: 'GenericError', desc: "QMP input member 'exec-oob' is unexpected" },
    });
    expect(session.execute({ execute: 'qmp_capabilities', arguments: { enable: ['oob'] } })).toEqual({ return: {} });
    expect(session.execute({ 'exec-oob': 'query-status', id: 9 })).toEqual({
      error: { class: 'GenericError', desc: 'The command query-status does not support OOB' },
      id: 9,
    });
  });

  it('refuses an unknown capability and stays in negotiation', () => {
    const session = new QmpSession(new FakeVm());
    expect(session.execute({ execute: 'qmp_capabilities', arguments: { enable: ['telepathy'] } })).toEqual({
      error: { class: 'GenericError', desc: "Parameter 'enable[0]' does not accept value 'telepathy'" },
    });
    expect(session.negotiated).toBe(false);
  });

  it('passes the owner hooks through to commands', () => {
    const onQuit = jest.fn();
    const session = new QmpSession(new FakeVm(), { onQuit });
    session.execute({ execute: 'qmp_capabilities' });
    session.execute({ execute: 'quit' });
    expect(onQuit).toHaveBeenCalledTimes(1);
  });
});
