/** The malicious profile's timed misbehaviours: messages a well-behaved guest never sends. */
import { encode } from '../../protocol/codec';
import type { DmMessage } from '../../protocol/messages';
import { countMisbehaviours, misbehaviourEvents, nextTransId, transmit, VERSION_SEQUENCE } from './driver-context';
import { driverSetup } from './driver-setup';

export const maliceActions = {
  performTimedMisbehaviour: driverSetup.enqueueActions(({ context, enqueue }) => {
    const m = context.malice;
    const entry = m?.timed[m.timedIndex];
    if (m === null || entry === undefined) return;
    const transId = nextTransId(context.transId);
    let message: DmMessage;
    let text: string;
    switch (entry.kind) {
      case 'unsolicitedUnballoonResponse':
        message = { type: 'DM_UNBALLOON_RESPONSE', transId };
        text = 'sends a DM_UNBALLOON_RESPONSE nobody asked for';
        break;
      case 'unsolicitedHotAddResponse':
        message = { type: 'DM_MEM_HOT_ADD_RESPONSE', transId, pageCount: entry.pages, result: 1 };
        text = `sends an unsolicited DM_MEM_HOT_ADD_RESPONSE claiming ${entry.pages} pages`;
        break;
      case 'versionRequestAfterInit':
        message = { type: 'DM_VERSION_REQUEST', transId, version: VERSION_SEQUENCE[0]!, isLastAttempt: false };
        text = 'sends a DM_VERSION_REQUEST after the handshake';
        break;
      case 'capsReportAfterInit':
        message = {
          type: 'DM_CAPABILITIES_REPORT',
          transId,
          caps: { balloon: true, hotAdd: true, hotAddAlignment: context.profile.hotAddAlignment, hotRemove: false },
          minPageCount: 0n,
          maxPageNumber: 0xffff_ffff_ffff_ffffn,
        };
        text = 'sends a DM_CAPABILITIES_REPORT after the handshake';
        break;
    }
    const bytes = encode(message);
    for (const e of misbehaviourEvents(context, entry.kind, text)) enqueue.emit(e);
    enqueue.assign(countMisbehaviours(1));
    enqueue.assign({ transId, malice: { ...m, timedIndex: m.timedIndex + 1 } });
    enqueue(function sendMisbehaviour() {
      transmit(context, bytes);
    });
  }),
};
