/**
 * An error meant for the CLI's user: main prints `hv-balloon-sim: <message>` on one line (no stack
 * trace) and exits with `exitCode`. Commands throw it for bad arguments they check themselves.
 */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    /** 2 = bad usage or bad input, the convention for every command. */
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
