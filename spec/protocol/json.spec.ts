/** The JSON form: what messageToJson prints, messageFromJson reads back; anything else is refused by field. */

import fc from 'fast-check';
import { messageFromJson, messageToJson } from '../../protocol/json';
import { anyMessage } from './arbitraries';
import { errorOf } from './protocol-error';


test('every message survives JSON text: messageFromJson(parse(stringify(messageToJson(m)))) deep-equals m', () => {
  fc.assert(
    fc.property(anyMessage, (message) => {
      const text = JSON.stringify(messageToJson(message));
      expect(messageFromJson(JSON.parse(text))).toEqual(message);
    }),
  );
});

test('u64 values print as decimal strings and byte blobs as lowercase hex', () => {
  expect(
    messageToJson({
      type: 'DM_INFO_MESSAGE',
      transId: 3,
      info: [
        { type: 'MAX_PAGE_COUNT', maxPageCount: (1n << 64n) - 1n },
        { type: 'UNKNOWN', infoType: 7, data: Uint8Array.of(0xab, 0x01) },
      ],
    }),
  ).toEqual({
    type: 'DM_INFO_MESSAGE',
    transId: 3,
    info: [
      { type: 'MAX_PAGE_COUNT', maxPageCount: '18446744073709551615' },
      { type: 'UNKNOWN', infoType: 7, data: 'ab01' },
    ],
  });
});

test('a hot-add request without region prints no region key', () => {
  const json = messageToJson({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 8, range: { startPage: 1, pageCount: 2 } });
  expect(Object.keys(json)).toEqual(['type', 'transId', 'range']);
});

test('u64 fields also accept safe integers', () => {
  const message = messageFromJson({
    type: 'DM_STATUS_REPORT',
    transId: 0,
    numAvail: 74565,
    numCommitted: '344865',
    pageFileSize: 0,
    zeroFree: '0',
    pageFileWrites: 0,
    ioDiff: 0,
  });
  expect(message).toMatchObject({ numAvail: 74565n, numCommitted: 344865n });
});

const balloonResponse = (ranges: unknown): Record<string, unknown> => ({ type: 'DM_BALLOON_RESPONSE', transId: 5, morePages: false, ranges });

test.each<[string, unknown, string, string]>([
  ['a string page count', balloonResponse([{ startPage: 1, pageCount: 2 }, { startPage: 1, pageCount: 'x' }]), 'FIELD_OUT_OF_RANGE', 'ranges[1].pageCount: expected an integer'],
  ['a start page past 40 bits', balloonResponse([{ startPage: 2 ** 40, pageCount: 1 }]), 'FIELD_OUT_OF_RANGE', 'ranges[0].startPage: expected an integer 0..1099511627775'],
  ['ranges that are not an array', balloonResponse({}), 'FIELD_OUT_OF_RANGE', 'ranges: expected an array'],
  ['a range that is not an object', balloonResponse([5]), 'FIELD_OUT_OF_RANGE', 'ranges[0]: expected an object'],
  ['a misspelt key', { type: 'DM_VERSION_RESPONSE', transId: 1, isaccepted: true }, 'UNKNOWN_FIELD', 'isaccepted: unknown field'],
  ['an extra key inside a range', balloonResponse([{ startPage: 1, pageCount: 2, pages: 3 }]), 'UNKNOWN_FIELD', 'ranges[0].pages: unknown field'],
  ['an unknown type name', { type: 'DM_HELLO', transId: 1 }, 'UNKNOWN_TYPE', 'type: expected one of DM_ERROR'],
  ['no type at all', { transId: 1 }, 'UNKNOWN_TYPE', 'got nothing'],
  ['a u64 with a sign', { type: 'DM_INFO_MESSAGE', transId: 0, info: [{ type: 'MAX_PAGE_COUNT', maxPageCount: '-1' }] }, 'FIELD_OUT_OF_RANGE', 'info[0].maxPageCount: expected an integer 0..2^64-1'],
  ['a u64 number beyond 2^53', { type: 'DM_INFO_MESSAGE', transId: 0, info: [{ type: 'MAX_PAGE_COUNT', maxPageCount: 2 ** 60 }] }, 'FIELD_OUT_OF_RANGE', 'a decimal string above 2^53'],
  ['bad hex data', { type: 'DM_INFO_MESSAGE', transId: 0, info: [{ type: 'UNKNOWN', infoType: 1, data: 'abc' }] }, 'FIELD_OUT_OF_RANGE', 'info[0].data: expected hex digits'],
  ['an unknown info entry type', { type: 'DM_INFO_MESSAGE', transId: 0, info: [{ type: 'COLOUR' }] }, 'FIELD_OUT_OF_RANGE', 'info[0].type'],
  ['a number for a flag', { type: 'DM_VERSION_REQUEST', transId: 1, version: { major: 2, minor: 0 }, isLastAttempt: 1 }, 'FIELD_OUT_OF_RANGE', 'isLastAttempt: expected true or false, got 1'],
  ['a region of null', { type: 'DM_MEM_HOT_ADD_REQUEST', transId: 1, range: { startPage: 1, pageCount: 1 }, region: null }, 'FIELD_OUT_OF_RANGE', 'region: expected an object'],
  ['an array instead of a message', [], 'FIELD_OUT_OF_RANGE', 'message: expected an object'],
])('%s is refused, naming the field', (_what, json, code, text) => {
  const error = errorOf(() => messageFromJson(json));
  expect(error.code).toBe(code);
  expect(error.message).toContain(text);
});
