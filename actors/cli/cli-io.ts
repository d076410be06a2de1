/**
 * Where a command writes. main() passes the process streams; specs pass collectors, so commands
 * run in-process without spawning node. A command writes through this, never console.log.
 */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processIo: CliIo = {
  stdout: (text) => {
    process.stdout.write(text);
  },
  stderr: (text) => {
    process.stderr.write(text);
  },
};
