/**
 * The driver's lifecycle and handshake actions (Linux balloon_probe, balloon_connect_vsp,
 * version_resp, cap_resp).
 */
import { encode } from '../../protocol/codec';
import { ECONNRESET, freshContext, line, nextTransId, transmit, VERSION_SEQUENCE, versionText } from './driver-context';
import { driverSetup, enqueueWithParams } from './driver-setup';

export const handshakeActions = {
  // ---- lifecycle ----
  forgetEverything: driverSetup.assign(({ context }) => freshContext(context.parts, context.profile)),
  emitLog: driverSetup.emit(({ context, event }) =>
    line(context, event.type === 'guest.log' ? event.level : 'info', event.type === 'guest.log' ? event.text : ''),
  ),
  openChannel: driverSetup.createAction(({ context }) => context.parts.outbox.post('channel', { type: 'channel.open' })),
  closeChannel: driverSetup.createAction(({ context }) => context.parts.outbox.post('channel', { type: 'channel.close' })),
  fail: enqueueWithParams<{ reason: string; errno: number }>(({ context, enqueue }, params) => {
    enqueue.assign({ connection: { ...context.connection, failure: { ...params, atMs: context.parts.outbox.now() } }, dmState: 'Error' });
    enqueue.emit(line(context, 'error', `probe failed with error ${params.errno}: ${params.reason}`));
  }),
  recordChannelClosed: driverSetup.enqueueActions(({ context, enqueue }) => {
    enqueue.assign({
      connection: { ...context.connection, failure: { reason: 'the DM channel was closed', errno: ECONNRESET, atMs: context.parts.outbox.now() } },
      dmState: 'Error',
    });
    enqueue.emit(line(context, 'warn', 'the DM channel was closed; the driver stops'));
  }),

  // ---- handshake ----
  sendVersionRequest: enqueueWithParams<{ attempt: number }>(({ context, enqueue, self }, params) => {
    const transId = nextTransId(context.transId);
    const version = VERSION_SEQUENCE[params.attempt]!;
    const bytes = encode({
      type: 'DM_VERSION_REQUEST',
      transId,
      version,
      // Linux: is_last_attempt only on the 0.3 request.
      isLastAttempt: params.attempt === VERSION_SEQUENCE.length - 1,
    });
    enqueue.assign({ transId, connection: { ...context.connection, versionAttempt: params.attempt } });
    enqueue(function sendDmVersionRequest() {
      const result = transmit(context, bytes);
      if (result <= 0) self.send({ type: 'guest.send-failed', what: 'DM_VERSION_REQUEST', result });
    });
  }),
  recordProtocolVersion: driverSetup.enqueueActions(({ context, enqueue }) => {
    const version = VERSION_SEQUENCE[context.connection.versionAttempt]!;
    enqueue.assign({ connection: { ...context.connection, protocolVersion: version } });
    enqueue.emit(line(context, 'info', `Using Dynamic Memory protocol version ${versionText(version)}`));
  }),
  sendCapabilitiesReport: driverSetup.enqueueActions(({ context, enqueue, self }) => {
    const transId = nextTransId(context.transId);
    const bytes = encode({
      type: 'DM_CAPABILITIES_REPORT',
      transId,
      // Linux: balloon and hot_add even in hibernation mode ("the host currently still requires the bits").
      caps: { balloon: true, hotAdd: true, hotAddAlignment: context.profile.hotAddAlignment, hotRemove: false },
      // Linux: "host does not use these; same as the Windows driver".
      minPageCount: 0n,
      maxPageNumber: 0xffff_ffff_ffff_ffffn,
    });
    enqueue.assign({ transId });
    enqueue(function sendDmCapabilitiesReport() {
      const result = transmit(context, bytes);
      if (result <= 0) self.send({ type: 'guest.send-failed', what: 'DM_CAPABILITIES_REPORT', result });
    });
  }),
  recordHostCaps: driverSetup.assign(({ context, event }) => ({
    connection: {
      ...context.connection,
      hostCaps:
        event.type === 'guest.caps-response' ? { hotRemove: event.hotRemove, suppressPressureReports: event.suppressPressureReports } : null,
    },
  })),
  logCapsRejected: driverSetup.emit(({ context }) => line(context, 'error', 'Capabilities not accepted by host')),
  markInitialized: driverSetup.assign(({ context }) => ({
    connection: { ...context.connection, initializedAt: context.parts.outbox.now() },
    dmState: 'Initialized' as const,
    status: { ...context.status, delayCallsLeft: context.profile.pressureReportDelay, lastSentAt: null },
  })),
};
