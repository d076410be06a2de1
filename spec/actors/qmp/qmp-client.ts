/**
 * A plain `net` QMP client for the server specs: sends raw text, reads the server's output line
 * by line and checks that every line ends with "\r\n" as QEMU's do.
 */
import { connect, type Socket } from 'node:net';

export class QmpTestClient {
  private raw = '';
  private readonly lines: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.raw += chunk;
      let end: number;
      while ((end = this.raw.indexOf('\n')) >= 0) {
        const line = this.raw.slice(0, end + 1);
        this.raw = this.raw.slice(end + 1);
        // A line that does not end with \r\n shows up marked, so the assertion on it fails.
        this.deliver(line.endsWith('\r\n') ? line.slice(0, -2) : `NOT CRLF-TERMINATED: ${line}`);
      }
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.ended = true;
        this.waiting?.(undefined);
        this.waiting = undefined;
        resolve();
      });
    });
    socket.on('error', () => undefined);
  }

  /** Connects to `tcp:HOST:PORT` or `unix:PATH` (as startQmpServer reports its address). */
  static connect(address: string): Promise<QmpTestClient> {
    return new Promise((resolve, reject) => {
      const tcp = /^tcp:(.*):(\d+)$/.exec(address);
      const socket = tcp ? connect(Number(tcp[2]), tcp[1]!) : connect(address.replace(/^unix:/, ''));
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new QmpTestClient(socket));
      });
    });
  }

  /** Connects and reads the greeting. */
  static async open(address: string): Promise<{ client: QmpTestClient; greeting: string }> {
    const client = await QmpTestClient.connect(address);
    return { client, greeting: await client.next() };
  }

  /** Connects, reads the greeting and negotiates capabilities. */
  static async negotiated(address: string): Promise<QmpTestClient> {
    const { client } = await QmpTestClient.open(address);
    await client.command('{"execute": "qmp_capabilities"}');
    return client;
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Sends one line and returns the next line the server writes. */
  command(json: string): Promise<string> {
    this.send(`${json}\n`);
    return this.next();
  }

  /** The next line from the server (without "\r\n"); rejects when the connection closes first. */
  next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      this.waiting = (l) => (l === undefined ? reject(new Error('connection closed')) : resolve(l));
    });
  }

  /** Lines received and not yet read. */
  get unread(): readonly string[] {
    return this.lines;
  }

  close(): Promise<void> {
    this.socket.end();
    this.socket.destroy();
    return this.closed;
  }

  private deliver(line: string): void {
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = undefined;
      waiting(line);
    } else {
      this.lines.push(line);
    }
  }
}
