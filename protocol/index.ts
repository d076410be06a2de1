/** The public API of the wire layer: message types, constants, codec, VMBus framing, JSON form, errors. */

export * from './messages';
export * from './constants';
export { ProtocolError, type ProtocolErrorCode } from './errors';
export { decode, decodeHeader, encode, messageTypeName, DM_MIN_LENGTH, type DmHeader } from './codec';
export { encodeBalloonResponseUnits, unitsOfRuns } from './balloon-response-units';
export {
  decodePacket,
  encodeInbandPacket,
  pad8,
  ringSpaceFor,
  type InbandPacketOptions,
  type VmbusPacket,
} from './vmbus-packet';
export { messageFromJson, messageToJson, type JsonObject, type JsonValue } from './json';
export { bytesToHex, hexToBytes } from './hex';
