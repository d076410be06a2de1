/**
 * `handshake`: the Dynamic Memory handshake of a Linux guest and QEMU,
 * shown through the wire codec: the four messages, their bytes and their fields.
 */

import type { Command } from 'commander';
import { decode, decodeHeader, encode } from '../../../protocol/codec';
import { DYNMEM_PROTOCOL_VERSION_WIN10 } from '../../../protocol/constants';
import { bytesToHex } from '../../../protocol/hex';
import { messageToJson, type JsonValue } from '../../../protocol/json';
import { versionFromValue, type DmMessage } from '../../../protocol/messages';
import { ringSpaceFor } from '../../../protocol/vmbus-packet';
import type { CliIo } from '../cli-io';

type Direction = 'guest -> host' | 'host -> guest';

interface Step {
  direction: Direction;
  note: string;
  message: DmMessage;
  /** A bit-field word worth showing raw: its label and byte offset (a u32 read little-endian). */
  raw?: { label: string; offset: number };
}

/** The four messages of a Linux guest meeting QEMU's hv-balloon (status reports wanted). */
const STEPS: readonly Step[] = [
  {
    direction: 'guest -> host',
    // Linux hv_balloon.c balloon_connect_vsp: first attempt 2.0, fallbacks 1.0 then 0.3.
    note: 'The Linux driver asks for the newest protocol, 2.0 (WIN10); it would fall back to 1.0, then 0.3.',
    message: {
      type: 'DM_VERSION_REQUEST',
      transId: 1,
      version: versionFromValue(DYNMEM_PROTOCOL_VERSION_WIN10),
      isLastAttempt: false,
    },
  },
  {
    direction: 'host -> guest',
    // QEMU hv-balloon.c: accepts 0.3 <= version <= 2.0 and echoes the guest's trans_id.
    note: 'QEMU accepts any version from 0.3 to 2.0 and echoes the request\'s trans_id.',
    message: { type: 'DM_VERSION_RESPONSE', transId: 1, isAccepted: true },
  },
  {
    direction: 'guest -> host',
    // Linux hv_balloon.c: min_page_cnt 0 and max_page_number all ones, "same as the Windows driver".
    note: 'The guest reports balloon + hot-add with 2^7 MiB = 128 MiB hot-add alignment: caps 0x1f.',
    message: {
      type: 'DM_CAPABILITIES_REPORT',
      transId: 2,
      caps: { balloon: true, hotAdd: true, hotAddAlignment: 7, hotRemove: false },
      minPageCount: 0n,
      maxPageNumber: (1n << 64n) - 1n,
    },
    raw: { label: 'caps (bits)', offset: 8 },
  },
  {
    direction: 'host -> guest',
    // QEMU hv-balloon.c: is_accepted and hot_remove always 1; suppress_pressure_reports = !status-report.
    note: 'QEMU accepts; with status-report=on it leaves suppress_pressure_reports clear, so reports are wanted.',
    message: { type: 'DM_CAPABILITIES_RESPONSE', transId: 2, isAccepted: true, hotRemove: true, suppressPressureReports: false },
    raw: { label: 'flags (bits)', offset: 8 },
  },
];

interface HandshakeOptions {
  json?: boolean;
}

export function registerHandshakeCommand(program: Command, io: CliIo): void {
  program
    .command('handshake')
    .description('show the Dynamic Memory handshake (version, capabilities) byte by byte through the codec')
    .option('--json', 'print the steps as JSON')
    .action((options: HandshakeOptions) => {
      io.stdout(options.json ? renderJson() : renderText());
    });
}

interface RenderedStep {
  step: Step;
  bytes: Uint8Array;
  decoded: DmMessage;
}

function renderSteps(): RenderedStep[] {
  // Every shown message makes the full trip: object -> bytes -> object.
  return STEPS.map((step) => {
    const bytes = encode(step.message);
    return { step, bytes, decoded: decode(bytes) };
  });
}

function renderJson(): string {
  const steps: JsonValue[] = renderSteps().map(({ step, bytes, decoded }, i) => ({
    step: i + 1,
    direction: step.direction,
    hex: bytesToHex(bytes),
    message: messageToJson(decoded),
  }));
  return `${JSON.stringify(steps, null, 2)}\n`;
}

function renderText(): string {
  const lines: string[] = [
    'hv-balloon-sim handshake: the Dynamic Memory handshake between a Linux guest and QEMU hv-balloon,',
    'every message encoded to its wire bytes and decoded back by the codec.',
    '',
  ];
  renderSteps().forEach(({ step, bytes, decoded }, i) => {
    const header = decodeHeader(bytes);
    lines.push(`[${i + 1}] ${step.direction}   ${decoded.type}`);
    lines.push(`    ${step.note}`);
    lines.push(`    bytes  ${spacedHex(bytes)}`);
    lines.push(`           ${bytes.length} bytes; as a VMBus in-band packet it takes ${ringSpaceFor(bytes.length)} bytes of ring space`);
    const rows: [string, string][] = [
      ['hdr.type', `${header.typeId} (${decoded.type})`],
      ['hdr.size', String(header.size)],
      ['hdr.trans_id', String(header.transId)],
    ];
    if (step.raw) {
      const word = new DataView(bytes.buffer, bytes.byteOffset).getUint32(step.raw.offset, true);
      rows.push([step.raw.label, `0x${word.toString(16)} = 0b${word.toString(2)}`]);
    }
    const { type: _type, transId: _transId, ...body } = messageToJson(decoded);
    rows.push(...flatten(body, ''));
    lines.push(...table(['field', 'value'], rows).map((line) => `    ${line}`));
    lines.push('');
  });
  lines.push(
    'Next, QEMU waits 50 s of quiet, then balloons or hot-adds toward its target.',
    "Try it yourself:  npm run --silent cli -- decode 0600100000000000 00f0080000000000",
    '                  npm run --silent cli -- encode \'{"type": "DM_BALLOON_REQUEST", "transId": 0, "numPages": 585728}\'',
    '',
  );
  return lines.join('\n');
}

function spacedHex(bytes: Uint8Array): string {
  const hex = bytesToHex(bytes);
  const groups: string[] = [];
  for (let i = 0; i < hex.length; i += 16) groups.push(hex.slice(i, i + 16).replace(/(..)(?!$)/g, '$1 '));
  return groups.join('  ');
}

function flatten(value: JsonValue, path: string): [string, string][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => flatten(item, `${path}[${i}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => flatten(item, path === '' ? key : `${path}.${key}`));
  }
  return [[path, String(value)]];
}

function table(headings: [string, string], rows: readonly [string, string][]): string[] {
  const width = Math.max(headings[0].length, ...rows.map(([field]) => field.length)) + 2;
  return [headings, ...rows].map(([field, value]) => `${field.padEnd(width)}${value}`);
}
