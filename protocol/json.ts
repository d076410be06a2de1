/**
 * DM messages <-> JSON values, for the CLI, traces and scenario files.
 * u64 fields print as decimal strings (they may exceed 2^53), byte blobs as lowercase hex.
 * `messageFromJson` reads back exactly what `messageToJson` prints (and plain numbers for u64
 * fields), and rejects anything else with a ProtocolError naming the field.
 */

import { fieldsOf, readMessage, type FieldKind } from './fields';
import { bytesToHex } from './hex';
import type { DmCaps, DmInfoEntry, DmMessage, DmVersion, PageRange } from './messages';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A message as JSON: `type`, `transId`, then the body fields in wire order. */
export function messageToJson(message: DmMessage): JsonObject {
  const out: JsonObject = { type: message.type, transId: message.transId };
  const record = message as unknown as Record<string, unknown>;
  for (const field of fieldsOf(message.type)) {
    const value = record[field.name];
    if (value !== undefined) out[field.name] = fieldToJson(field.kind, value);
  }
  return out;
}

/** Parsed JSON to a validated message (throws ProtocolError naming the field at fault). */
export function messageFromJson(value: unknown): DmMessage {
  return readMessage(value, 'json');
}

function fieldToJson(kind: FieldKind, value: unknown): JsonValue {
  switch (kind) {
    case 'bool':
    case 'u32':
      return value as boolean | number;
    case 'u64':
      return String(value);
    case 'version': {
      const v = value as DmVersion;
      return { major: v.major, minor: v.minor };
    }
    case 'caps': {
      const c = value as DmCaps;
      return { balloon: c.balloon, hotAdd: c.hotAdd, hotAddAlignment: c.hotAddAlignment, hotRemove: c.hotRemove };
    }
    case 'range':
    case 'optionalRange':
      return rangeToJson(value as PageRange);
    case 'ranges':
      return (value as PageRange[]).map(rangeToJson);
    case 'info':
      return (value as DmInfoEntry[]).map(infoToJson);
  }
}

function rangeToJson(range: PageRange): JsonObject {
  return { startPage: range.startPage, pageCount: range.pageCount };
}

function infoToJson(entry: DmInfoEntry): JsonObject {
  return entry.type === 'MAX_PAGE_COUNT'
    ? { type: entry.type, maxPageCount: String(entry.maxPageCount) }
    : { type: entry.type, infoType: entry.infoType, data: bytesToHex(entry.data) };
}
