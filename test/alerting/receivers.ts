import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** What a real receiver got: arrival time, headers and body. */
export interface Received {
  at: number;
  headers: IncomingMessage['headers'];
  body: string;
  status: number;
}

/** An HTTP webhook receiver whose answer a test can change (500s, then 200s). */
export class WebhookReceiver {
  readonly received: Received[] = [];
  answer = 200;
  private server: Server | undefined;
  private waiters: Array<() => void> = [];

  async listen(port = 0): Promise<number> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  /** 2xx deliveries per Idempotency-Key: more than one is a duplicate the receiver saw. */
  acceptedByKey(): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.received) {
      if (r.status >= 300) continue;
      const key = String(r.headers['idempotency-key']);
      out.set(key, (out.get(key) ?? 0) + 1);
    }
    return out;
  }

  accepted(): Received[] {
    return this.received.filter((r) => r.status < 300);
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  /** Resolves once `check` holds over what was received. */
  async until<T>(check: (received: Received[]) => T | undefined, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check(this.received);
      if (value !== undefined) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`webhook receiver: condition not met in ${timeoutMs} ms; got ${this.received.length} request(s)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1_000));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const status = this.answer;
    this.received.push({ at: Date.now(), headers: req.headers, body, status });
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'failing on purpose');
    for (const wake of this.waiters.splice(0)) wake();
  }
}

export interface Mail {
  at: number;
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server (the `smtp-server` package), plain text on loopback. */
export class MailReceiver {
  readonly mails: Mail[] = [];
  private server: SMTPServer | undefined;

  async listen(): Promise<number> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        let raw = '';
        stream.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
        stream.on('end', () => {
          this.mails.push({ at: Date.now(), from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw });
          callback();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
    return (this.server.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The decoded text/plain part of a raw message (nodemailer writes quoted-printable). */
export function mailText(raw: string): string {
  const part = /Content-Type: text\/plain[^]*?\r\n\r\n([^]*?)\r\n--/i.exec(raw)?.[1] ?? raw.split('\r\n\r\n').slice(1).join('\r\n\r\n');
  return part.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))).replace(/\r\n/g, '\n');
}

export function mailSubject(raw: string): string {
  const header = /^Subject: ((?:.*)(?:\r\n[ \t].*)*)/m.exec(raw)?.[1] ?? '';
  return header.replace(/\r\n[ \t]/g, ' ');
}

/**
 * An upstream HTTP endpoint that can die and come back. It keeps its port
 * while dead (connections are reset), so no other test on the machine can
 * take the port and answer in its place.
 */
export class Upstream {
  private server: Server | undefined;
  private dead = false;
  port = 0;

  async start(): Promise<number> {
    if (this.server) {
      this.dead = false;
      return this.port;
    }
    this.server = createServer((req, res) => {
      if (this.dead) return req.socket.destroy();
      res.writeHead(200).end('ok');
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  /** Dies: every request from now on has its connection reset. */
  async stop(): Promise<void> {
    this.dead = true;
    this.server?.closeIdleConnections();
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }
}
