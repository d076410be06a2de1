/** `encode <json>`: a DM message as JSON (what `decode` prints) to hex. */

import type { Command } from 'commander';
import { encode } from '../../../protocol/codec';
import { bytesToHex } from '../../../protocol/hex';
import { messageFromJson } from '../../../protocol/json';
import { encodeInbandPacket } from '../../../protocol/vmbus-packet';
import { CliError } from '../cli-error';
import type { CliIo } from '../cli-io';

interface EncodeOptions {
  packet?: boolean;
}

export function registerEncodeCommand(program: Command, io: CliIo): void {
  program
    .command('encode')
    .description('encode a Dynamic Memory message given as JSON (the form decode prints) and print its hex')
    .argument('<json...>', 'the message as JSON; quote it for the shell')
    .option('--packet', 'wrap the message in a VMBus in-band packet whose transaction id is the message transId')
    .addHelpText(
      'after',
      '\nExample:\n  hv-balloon-sim encode \'{"type": "DM_BALLOON_REQUEST", "transId": 0, "numPages": 585728}\'',
    )
    .action((parts: string[], options: EncodeOptions) => {
      // Several arguments are rejoined, so an unquoted $(decode ...) still works.
      const text = parts.join(' ');
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new CliError(`bad JSON: ${error instanceof Error ? error.message : String(error)}`);
      }
      const message = messageFromJson(value);
      const bytes = encode(message);
      const out = options.packet ? encodeInbandPacket(bytes, { transactionId: BigInt(message.transId) }) : bytes;
      io.stdout(`${bytesToHex(out)}\n`);
    });
}
