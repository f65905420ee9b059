import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { AgentResult, Assignment } from '../types.js';

export interface FakeRequest {
  path: string;
  authorization?: string;
  body: { name?: string; zone?: string; results?: AgentResult[] };
}

/**
 * A stand-in for `bulwark up`'s agent API, on 127.0.0.1 port 0: serves
 * `assignments`, records results, and answers `status` instead when set.
 */
export class FakeControlPlane {
  assignments: Assignment[] = [];
  /** When set, every request gets this status (e.g. 503 for an outage, 401 for a bad token). */
  status: number | undefined;
  readonly requests: FakeRequest[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor() {
    this.server = createServer((req, res) => {
      void readBody(req).then((text) => {
        const body = (text ? JSON.parse(text) : {}) as FakeRequest['body'];
        if (this.status !== undefined) {
          res.writeHead(this.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'X', message: `fake status ${this.status}` } }));
          return;
        }
        this.requests.push({ path: req.url ?? '', authorization: req.headers.authorization, body });
        if (req.url === '/api/v1/agents/heartbeat') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ agent: body.name, assignments: this.assignments }));
        } else if (req.url === '/api/v1/agents/results') {
          res.writeHead(202, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ accepted: body.results?.length ?? 0 }));
        } else {
          res.writeHead(404).end();
        }
      });
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  get url(): URL {
    return new URL(`http://127.0.0.1:${this.port}`);
  }

  /** Every result received, in order. */
  results(target?: string): AgentResult[] {
    const all = this.requests.flatMap((r) => r.body.results ?? []);
    return target === undefined ? all : all.filter((r) => r.target === target);
  }

  heartbeats(): number {
    return this.requests.filter((r) => r.path === '/api/v1/agents/heartbeat').length;
  }

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}
