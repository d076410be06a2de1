/** `decode <hex>`: DM message bytes (or a whole VMBus packet) to JSON. */

import type { Command } from 'commander';
import { decode } from '../../../protocol/codec';
import { messageToJson, type JsonValue } from '../../../protocol/json';
import { decodePacket } from '../../../protocol/vmbus-packet';
import { CliError } from '../cli-error';
import type { CliIo } from '../cli-io';

interface DecodeOptions {
  packet?: boolean;
}

export function registerDecodeCommand(program: Command, io: CliIo): void {
  program
    .command('decode')
    .description('decode a Dynamic Memory message from hex and print it as JSON')
    .argument('<hex...>', 'the message bytes in hex; spaces between bytes and a 0x prefix are fine')
    .option('--packet', 'the hex is a whole VMBus packet: print its descriptor too and decode its payload')
    .addHelpText('after', '\nExample:\n  hv-balloon-sim decode 01001000010000000000020000000000')
    .action((parts: string[], options: DecodeOptions) => {
      const bytes = parseHexInput(parts);
      let output: JsonValue;
      if (options.packet) {
        const packet = decodePacket(bytes);
        const { payload, transactionId, ...descriptor } = packet;
        output = {
          packet: { ...descriptor, transactionId: String(transactionId), payloadBytes: payload.length },
          message: messageToJson(decode(payload)),
        };
      } else {
        output = messageToJson(decode(bytes));
      }
      io.stdout(`${JSON.stringify(output, null, 2)}\n`);
    });
}

/**
 * Hex as people paste it: one or more arguments, optional 0x per group, any whitespace between.
 * Throws CliError naming the bad input.
 */
export function parseHexInput(parts: readonly string[]): Uint8Array {
  const input = parts.join(' ').trim();
  const digits = input
    .split(/\s+/)
    .map((group) => group.replace(/^0x/i, ''))
    .join('');
  const shown = JSON.stringify(input.length > 60 ? `${input.slice(0, 57)}...` : input);
  if (digits.length === 0) throw new CliError(`bad hex ${shown}: no hex digits`);
  const bad = /[^0-9a-fA-F]/.exec(digits);
  if (bad) throw new CliError(`bad hex ${shown}: ${JSON.stringify(bad[0])} is not a hex digit`);
  if (digits.length % 2 !== 0) throw new CliError(`bad hex ${shown}: odd number of hex digits (${digits.length}), two make a byte`);
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
