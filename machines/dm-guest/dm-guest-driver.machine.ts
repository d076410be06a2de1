/**
 * The guest end of the Hyper-V Dynamic Memory protocol: the Linux driver (drivers/hv/hv_balloon.c),
 * with a Windows-like and a malicious profile (machines/dm-guest/profiles.ts).
 *
 * Two parallel regions:
 * - `connection`: waitingForOffer -> opening -> connected { version -> capabilities ->
 *   initialized { status | work | malice } } | failed | closed. This is Linux balloon_probe /
 *   balloon_connect_vsp: one 5 s budget for the whole version negotiation (2.0 -> 1.0 -> 0.3),
 *   another 5 s for the capabilities exchange; on failure the channel is closed and the driver
 *   stays silent.
 * - `receive`: the channel callback (Linux balloon_onchannelcallback). It reads the inbound ring
 *   one packet at a time, decodes it and dispatches it as a typed event; an unballoon request is
 *   handled right there (Linux balloon_down runs in the callback), so nothing else is read until
 *   its pages are freed and it is answered.
 *
 * Inside `initialized`: `status` is the hv_balloon kernel thread (a report about every second,
 * the first `pressure_report_delay` post_status calls swallowed); `work` runs balloon-up and
 * hot-add one at a time with Linux work-item semantics; `malice` fires the malicious profile's
 * timed misbehaviours.
 *
 * Effects (ring writes, memory allocation, posts to other parts) run in named actions (one file
 * per concern in this folder); an effect whose outcome decides the next state reports it back as
 * an internal event (self.send), so every decision is a guarded transition. Guest work costs
 * virtual time on the vCPU ('vcpu.run' -> 'job.done'). The hot-add bookkeeping is a mutable model
 * (HotAddRegions) referenced from context.
 */
import { and, not, stateIn } from 'xstate';
import { balloonDownActions, balloonDownGuards } from './balloon-down-actions';
import { balloonUpActions } from './balloon-up-actions';
import { balloonUpGuards } from './balloon-up-guards';
import { balloonUpOneStepActions } from './balloon-up-one-step';
import { EIO, EPROTO, ETIMEDOUT, freshContext } from './driver-context';
import { driverGuards } from './driver-guards';
import { driverSetup } from './driver-setup';
import type { DmGuestDriverContext } from './driver-types';
import { handshakeActions } from './handshake-actions';
import { hotAddActions } from './hot-add-actions';
import { loneBalloonRequestActions, loneBalloonRequestGuards } from './lone-balloon-request';
import { maliceActions } from './malice-actions';
import { resolveGuestProfile } from './profiles';
import { receiveActions } from './receive-actions';
import { statusActions } from './status-actions';

export const dmGuestDriverMachine = driverSetup
  .extend({
    guards: {
      ...driverGuards,
      ...balloonDownGuards,
      ...balloonUpGuards,
      ...loneBalloonRequestGuards,
      workIdle: stateIn('#dmGuestDriver.connection.connected.initialized.work.idle'),
      receiveIdle: stateIn('#dmGuestDriver.receive.idle'),
      // balloonDown's job is done and draining would take the next packet straight back into balloonDown.
      balloonDownContinues: and(['receiveJobDone', 'nextIsUnballoonRequest', 'initialized', not('hibernating')]),
    },
    actions: { ...handshakeActions, ...receiveActions, ...balloonDownActions, ...statusActions, ...balloonUpActions, ...balloonUpOneStepActions, ...loneBalloonRequestActions, ...hotAddActions, ...maliceActions },
  })
  .createMachine({
  id: 'dmGuestDriver',
  type: 'parallel',
  context: ({ input }) =>
    freshContext(
      { endpoint: input.endpoint, memory: input.memory, outbox: input.outbox, seed: input.seed },
      resolveGuestProfile(input.profile, input.seed),
    ),
  on: {
    // Reboot: the module is loaded afresh; the channel will be offered again.
    'system.reset': {
      target: ['#dmGuestDriver.connection.waitingForOffer', '#dmGuestDriver.receive.idle'],
      actions: 'forgetEverything',
    },
    'guest.log': { actions: 'emitLog' },
  },
  states: {
    connection: {
      initial: 'waitingForOffer',
      states: {
        waitingForOffer: {
          on: { 'guest.channel-offered': { target: 'opening', actions: 'openChannel' } },
        },
        opening: {
          on: {
            'guest.channel-opened': [
              { guard: 'openSucceeded', target: 'connected' },
              { target: 'failed', actions: { type: 'fail', params: { reason: 'the DM channel could not be opened', errno: EIO } } },
            ],
          },
        },
        connected: {
          initial: 'version',
          on: {
            'guest.channel-closed': { target: 'closed', actions: 'recordChannelClosed' },
          },
          states: {
            version: {
              entry: { type: 'sendVersionRequest', params: { attempt: 0 } },
              // One 5 s budget for all attempts: later requests are sent without leaving this state.
              after: {
                handshakeTimeout: {
                  target: '#dmGuestDriver.connection.failed',
                  actions: [{ type: 'fail', params: { reason: 'version negotiation timed out', errno: ETIMEDOUT } }, 'closeChannel'],
                },
              },
              on: {
                'guest.version-response': [
                  { guard: 'accepted', target: 'capabilities', actions: 'recordProtocolVersion' },
                  {
                    guard: 'hasNextVersion',
                    actions: {
                      type: 'sendVersionRequest',
                      params: ({ context }: { context: DmGuestDriverContext }) => ({ attempt: context.connection.versionAttempt + 1 }),
                    },
                  },
                  {
                    target: '#dmGuestDriver.connection.failed',
                    actions: [{ type: 'fail', params: { reason: 'no protocol version was accepted', errno: EPROTO } }, 'closeChannel'],
                  },
                ],
                'guest.send-failed': {
                  target: '#dmGuestDriver.connection.failed',
                  actions: [{ type: 'fail', params: { reason: 'the version request could not be sent', errno: EPROTO } }, 'closeChannel'],
                },
              },
            },
            capabilities: {
              entry: 'sendCapabilitiesReport',
              after: {
                handshakeTimeout: {
                  target: '#dmGuestDriver.connection.failed',
                  actions: [{ type: 'fail', params: { reason: 'capabilities exchange timed out', errno: ETIMEDOUT } }, 'closeChannel'],
                },
              },
              on: {
                'guest.caps-response': [
                  { guard: 'accepted', target: 'initialized', actions: 'recordHostCaps' },
                  {
                    target: '#dmGuestDriver.connection.failed',
                    actions: [
                      'logCapsRejected',
                      { type: 'fail', params: { reason: 'capabilities not accepted by host', errno: EPROTO } },
                      'closeChannel',
                    ],
                  },
                ],
                'guest.send-failed': {
                  target: '#dmGuestDriver.connection.failed',
                  actions: [{ type: 'fail', params: { reason: 'the capabilities report could not be sent', errno: EPROTO } }, 'closeChannel'],
                },
              },
            },
            initialized: {
              type: 'parallel',
              entry: 'markInitialized',
              states: {
                status: {
                  initial: 'sleeping',
                  states: {
                    // The hv_balloon thread: sleep up to 1 s (an unballoon wakes it early), then post_status
                    // and sleep again, in one step. The 1 s wait is a delayed event with an id
                    // (status-actions.ts): a give-back stream's step (continueBalloonDown) wakes the
                    // thread and restarts the wait itself; completions left by another step wake it
                    // here (statusWakeups), in the step that left them.
                    sleeping: {
                      entry: 'wakeStatusThread',
                      exit: 'stopStatusWait',
                      on: { 'guest.status-period': { actions: 'postStatusAndWait' } },
                      always: { guard: 'statusWakeups', actions: 'wakeStatusThread' },
                    },
                  },
                },
                work: {
                  initial: 'idle',
                  on: {
                    'guest.balloon-request': [
                      { guard: 'hibernating', actions: 'logIgnoreBalloonUp' },
                      { guard: 'requestTooLarge', actions: 'logIgnoreOversizedRequest' },
                      { actions: 'queueBalloonRequest' },
                    ],
                    'guest.hot-add-request': { actions: 'queueHotAddRequest' },
                    'guest.block-onlined': { actions: ['onlineBlock', 'completeOnlineWait'] },
                  },
                  states: {
                    idle: {
                      // A balloon request that finds the work item idle is queued and taken in one
                      // step (the same as queueing it and then `nextIsBalloon`: the queue was empty).
                      // The usual one is taken in the interrupt's step: `receive` reads, queues, starts
                      // and allocates it, and this goes straight to `charging` (lone-balloon-request.ts).
                      on: {
                        'guest.interrupt': { guard: and(['receiveIdle', 'loneBalloonRequest']), target: 'balloonUp.charging' },
                        'guest.balloon-request': [
                          { guard: 'hibernating', actions: 'logIgnoreBalloonUp' },
                          { guard: 'requestTooLarge', actions: 'logIgnoreOversizedRequest' },
                          { target: 'balloonUp', actions: ['queueBalloonRequest', 'startBalloonUp'] },
                        ],
                      },
                      always: [
                        { guard: 'nextIsBalloon', target: 'balloonUp', actions: 'startBalloonUp' },
                        { guard: 'nextIsHotAdd', target: 'hotAdd' },
                      ],
                    },
                    // Linux balloon_up. The transitions into it start the transaction (startBalloonUp),
                    // so the interrupt's step can enter `charging` directly.
                    balloonUp: {
                      initial: 'allocating',
                      states: {
                        allocating: {
                          entry: 'allocateBalloonMessage',
                          always: [
                            { guard: 'nothingIn2MiBUnits', target: 'allocating', reenter: true, actions: 'switchTo4KiBUnits' },
                            { target: 'charging', actions: ['prepareBalloonMessage', 'chargeBalloonMessage'] },
                          ],
                        },
                        // The allocation costs vCPU time before the message goes out. When it is done, a
                        // message that goes out is sent, and the next allocated and charged (or the
                        // transaction ended), in one step: what `sending` and `allocating` would do, in
                        // their order (balloon-up-guards.ts, balloon-up-one-step.ts). Otherwise step by step.
                        // The transitions into it charge the message (chargeBalloonMessage), so that a
                        // request taken in the interrupt's step enters it charged (lone-balloon-request.ts).
                        charging: {
                          on: {
                            'job.done': [
                              // Stays in `charging`: the action charges the next message itself.
                              { guard: 'sendsAndAllocatesNext', actions: 'sendAndChargeNextMessage' },
                              { guard: 'sendsLastMessage', target: '#dmGuestDriver.connection.connected.initialized.work.idle', actions: 'sendLastMessage' },
                              { guard: 'workJobDone', target: 'sending' },
                            ],
                          },
                        },
                        sending: {
                          entry: 'sendBalloonResponse',
                          always: [
                            // Linux balloon_up: -EAGAIN -> msleep(20), then post_status, then retry with a fresh trans_id.
                            { guard: 'ringFull', target: 'ringFull', actions: 'countRingFull' },
                            {
                              guard: 'sendFailed',
                              target: '#dmGuestDriver.connection.connected.initialized.work.idle',
                              actions: ['recordTransId', 'freeBalloonMessage', 'logBalloonResponseFailed', 'postStatus', 'endBalloonUp'],
                            },
                            {
                              guard: 'lastMessage',
                              target: '#dmGuestDriver.connection.connected.initialized.work.idle',
                              actions: ['recordMessageSent', 'postStatus', 'endBalloonUp'],
                            },
                            { target: 'allocating', actions: ['recordMessageSent', 'postStatus'] },
                          ],
                        },
                        ringFull: {
                          after: { ringFullRetry: { target: 'sending', actions: 'postStatus' } },
                        },
                      },
                    },
                    hotAdd: {
                      entry: ['takeHotAddRequest', 'startHotAdd'],
                      initial: 'deciding',
                      states: {
                        deciding: {
                          always: [{ guard: 'chunksToAdd', target: 'charging' }, { target: 'responding' }],
                        },
                        charging: {
                          entry: 'chargeBlockAdd',
                          on: { 'job.done': { guard: 'workJobDone', target: 'adding' } },
                        },
                        adding: {
                          entry: 'addNextBlock',
                          always: [
                            { guard: 'blockAdded', target: 'waitingOnline' },
                            // Linux: -EEXIST means the address map precludes hot-add: disable it for good.
                            { guard: 'blockExists', target: 'responding', actions: ['logBlockAddFailed', 'disableHotAdd'] },
                            { target: 'responding', actions: 'logBlockAddFailed' },
                          ],
                        },
                        // Linux waits up to 5 s for MEM_ONLINE (any block's completion since the re-arm ends the wait).
                        waitingOnline: {
                          always: { guard: 'onlineCompleted', target: 'chunkDone' },
                          after: { onlineWait: 'chunkDone' },
                        },
                        chunkDone: {
                          entry: 'postStatus',
                          always: [{ guard: 'chunksToAdd', target: 'charging' }, { target: 'responding' }],
                        },
                        responding: {
                          entry: ['answerHotAdd', 'finishHotAdd'],
                          always: '#dmGuestDriver.connection.connected.initialized.work.idle',
                        },
                      },
                    },
                  },
                },
                malice: {
                  initial: 'choosing',
                  states: {
                    choosing: {
                      always: [{ guard: 'timedMisbehaviourLeft', target: 'waiting' }, { target: 'done' }],
                    },
                    waiting: {
                      after: { nextMisbehaviour: { target: 'choosing', actions: 'performTimedMisbehaviour' } },
                    },
                    done: {},
                  },
                },
              },
            },
          },
        },
        // The probe failed: the channel is closed and the driver stays unbound until a reset.
        failed: {},
        // The channel went away under the driver.
        closed: {},
      },
    },
    receive: {
      initial: 'idle',
      states: {
        idle: {
          on: {
            'guest.interrupt': [
              // The usual DM_BALLOON_REQUEST, alone in the ring, in one step (lone-balloon-request.ts).
              {
                guard: and(['workIdle', 'loneBalloonRequest']),
                actions: 'takeLoneBalloonRequest',
              },
              { guard: 'channelListening', target: 'draining' },
            ],
          },
        },
        draining: {
          entry: 'readPacket',
          // Linux balloon_onchannelcallback: read until the ring is empty, switch on hdr.type.
          always: [
            { guard: 'ringEmpty', target: 'idle' },
            { guard: 'badPacket', target: 'draining', reenter: true, actions: 'logBadPacket' },
            {
              // Linux balloon_down runs in the callback; in hibernation mode it is ignored instead.
              guard: and([{ type: 'messageIs', params: { type: 'DM_UNBALLOON_REQUEST' as const } }, 'initialized', not('hibernating')]),
              target: 'balloonDown',
              actions: 'beginBalloonDown',
            },
            {
              guard: and([{ type: 'messageIs', params: { type: 'DM_VERSION_RESPONSE' as const } }, 'inVersionNegotiation']),
              target: 'draining',
              reenter: true,
              actions: ['countMessage', 'raiseVersionResponse'],
            },
            {
              guard: and([{ type: 'messageIs', params: { type: 'DM_CAPABILITIES_RESPONSE' as const } }, 'inCapabilitiesExchange']),
              target: 'draining',
              reenter: true,
              actions: ['countMessage', 'raiseCapsResponse'],
            },
            {
              guard: and([{ type: 'messageIs', params: { type: 'DM_BALLOON_REQUEST' as const } }, 'initialized']),
              target: 'draining',
              reenter: true,
              actions: ['countMessage', 'raiseBalloonRequest'],
            },
            {
              guard: and([{ type: 'messageIs', params: { type: 'DM_MEM_HOT_ADD_REQUEST' as const } }, 'initialized']),
              target: 'draining',
              reenter: true,
              actions: ['countMessage', 'raiseHotAddRequest'],
            },
            {
              guard: { type: 'messageIs', params: { type: 'DM_INFO_MESSAGE' as const } },
              target: 'draining',
              reenter: true,
              actions: ['countMessage', 'recordInfo'],
            },
            { target: 'draining', reenter: true, actions: ['countMessage', 'dropMessage'] },
          ],
        },
        // Linux balloon_down: free the ranges (vCPU time), wake the status thread, answer the last part.
        // The next request of a stream is taken in the step that finishes this one (balloon-down-actions.ts).
        balloonDown: {
          entry: 'postBalloonDownJob',
          on: {
            'job.done': [
              // Stays in balloonDown: the next request's job is posted as the entry would post it,
              // without leaving and re-entering the state (one snapshot fewer per request).
              { guard: 'balloonDownContinues', actions: ['continueBalloonDown', 'postBalloonDownJob'] },
              { guard: 'receiveJobDone', target: 'draining', actions: 'finishBalloonDown' },
            ],
          },
        },
      },
    },
  },
});
