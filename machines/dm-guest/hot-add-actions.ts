/**
 * Hot add (Linux hot_add_req, handle_pg_range, hv_mem_hot_add, hv_memory_notifier): add the
 * request's memory blocks one at a time, wait for each to come online, answer with what was added.
 */
import { encode } from '../../protocol/codec';
import {
  countMisbehaviours,
  EEXIST,
  EINVAL,
  line,
  misbehaviourEvents,
  nextTransId,
  ONLINE_JOB_TAG,
  transmit,
  upsert,
} from './driver-context';
import { driverSetup } from './driver-setup';
import type { DmGuestDriverContext } from './driver-types';
import { hotAddResult } from './hot-add-regions';
import { misbehavioursForHotAdd } from './malicious-plan';

/** Pages just onlined cost the vCPU their onlining work (one job; none for no pages). */
function postOnlineJob(context: DmGuestDriverContext, onlined: number): void {
  if (onlined <= 0) return;
  context.parts.outbox.post('vcpu', {
    type: 'vcpu.run',
    job: { owner: 'guest', tag: ONLINE_JOB_TAG, work: [{ kind: 'pageOnlined', count: onlined }] },
  });
}

export const hotAddActions = {
  queueHotAddRequest: driverSetup.enqueueActions(({ context, event, enqueue }) => {
    if (event.type !== 'guest.hot-add-request') return;
    if (context.dmState === 'Hot Add') enqueue.emit(line(context, 'warn', 'Currently hot-adding'));
    enqueue.assign({
      dmState: 'Hot Add',
      work: { ...context.work, queue: upsert(context.work.queue, { kind: 'hotAdd', request: event.request }) },
      stats: { ...context.stats, hotAddRequests: context.stats.hotAddRequests + 1 },
    });
  }),
  takeHotAddRequest: driverSetup.assign(({ context }) => {
    const head = context.work.queue[0];
    if (head?.kind !== 'hotAdd') return {};
    return { work: { ...context.work, queue: context.work.queue.slice(1), hotAddRequest: head.request } };
  }),
  startHotAdd: driverSetup.createAction(({ context }) => {
    const request = context.work.hotAddRequest;
    const model = context.hotAdd;
    if (request === null || !context.work.hotAddEnabled) {
      model.operation = null;
      return;
    }
    const op = model.begin(request);
    // Linux handle_pg_range: pages backed inside an already-online block go to the allocator
    // at once.
    let onlined = 0;
    for (const r of op.onlineNow) onlined += context.parts.memory.onlinePages(r);
    model.countOnlined(onlined);
    postOnlineJob(context, onlined);
  }),
  chargeBlockAdd: driverSetup.enqueueActions(({ context, enqueue }) => {
    const tag = `guest-job-${context.jobSeq + 1}`;
    // Linux hv_mem_hot_add: reinit_completion(&ol_waitevent) just before add_memory.
    enqueue.assign({ jobSeq: context.jobSeq + 1, work: { ...context.work, job: tag, onlineCompleted: false } });
    enqueue(function postBlockAddJob() {
      context.parts.outbox.post('vcpu', { type: 'vcpu.run', job: { owner: 'guest', tag, work: [{ kind: 'blockAdded', count: 1 }] } });
    });
  }),
  /** Add the next block (Linux add_memory); `adding` decides on what it said. */
  addNextBlock: driverSetup.enqueueActions(({ context, enqueue }) => {
    const model = context.hotAdd;
    const block = model.takeChunk();
    // Linux add_memory: a block must start on a memory-block boundary (-EINVAL otherwise).
    let outcome: 'ok' | 'exists' | 'unaligned' = 'unaligned';
    if (block.startPage % model.chunkPages === 0) outcome = context.parts.memory.addMemoryBlock(block);
    if (outcome === 'ok') {
      model.chunkAdded();
      context.parts.outbox.post('memctl', { type: 'memctl.block-added', range: { ...block } });
    } else {
      model.undoChunk();
    }
    enqueue.assign({ work: { ...context.work, blockAdd: { block, outcome } } });
  }),
  logBlockAddFailed: driverSetup.emit(({ context }) =>
    line(context, 'error', `hot_add memory failed error is ${context.work.blockAdd?.outcome === 'exists' ? EEXIST : EINVAL}`),
  ),
  disableHotAdd: driverSetup.assign(({ context }) => ({ work: { ...context.work, hotAddEnabled: false } })),
  // Linux hv_memory_notifier: MEM_ONLINE completes ol_waitevent.
  completeOnlineWait: driverSetup.assign(({ context }) => ({ work: { ...context.work, onlineCompleted: true } })),
  onlineBlock: driverSetup.createAction(({ context, event }) => {
    if (event.type !== 'guest.block-onlined') return;
    const model = context.hotAdd;
    const { backed, outside } = model.onlineBlock(event.range);
    let counted = 0;
    for (const r of backed) counted += context.parts.memory.onlinePages(r);
    // Linux hv_online_page: pages outside every region go online via generic_online_page,
    // without counting in num_pages_onlined.
    let onlined = counted;
    for (const r of outside) onlined += context.parts.memory.onlinePages(r);
    model.countOnlined(counted);
    postOnlineJob(context, onlined);
  }),
  answerHotAdd: driverSetup.enqueueActions(({ context, enqueue }) => {
    const op = context.hotAdd.operation;
    const region = op !== null && op.regionIndex >= 0 ? context.hotAdd.regions[op.regionIndex] : undefined;
    const pageCount = region !== undefined && op !== null ? region.coveredEndPage - op.oldCoveredEnd : 0;
    const disabled = !context.work.hotAddEnabled;
    const result = hotAddResult(pageCount, disabled);
    // Linux hot_add_req: logged when nothing was added or hot-add is (now) disabled.
    if (pageCount === 0 || disabled) {
      enqueue.emit(line(context, context.profile.hibernation ? 'info' : 'error', context.profile.hibernation ? 'Ignore hot-add request!' : 'Memory hot add failed'));
    }
    let wirePages = pageCount;
    const n = context.stats.hotAddResponses + 1;
    if (context.profile.malicious !== null) {
      for (const m of misbehavioursForHotAdd(context.profile.malicious.plan, n)) {
        wirePages = Math.min(0xffff_ffff, wirePages + m.pages);
        const text = `hot-add response #${n} claims ${wirePages} pages, ${pageCount} were added`;
        for (const e of misbehaviourEvents(context, m.kind, text)) enqueue.emit(e);
        enqueue.assign(countMisbehaviours(1));
      }
    }
    const transId = nextTransId(context.transId);
    const bytes = encode({ type: 'DM_MEM_HOT_ADD_RESPONSE', transId, pageCount: wirePages, result });
    enqueue.assign(({ context: c }) => ({
      transId,
      work: { ...c.work, hotAddRequest: null, job: null },
      dmState: 'Initialized' as const,
      stats: { ...c.stats, hotAddResponses: n },
    }));
    enqueue(function sendDmHotAddResponse() {
      transmit(context, bytes); // Linux ignores send errors here
    });
  }),
  finishHotAdd: driverSetup.createAction(({ context }) => {
    // num_pages_added += page_count (the model counts it).
    context.hotAdd.finish();
  }),
};
