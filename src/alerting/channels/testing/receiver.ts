import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OutgoingMessage } from '../../types.js';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A real HTTP receiver on 127.0.0.1, port 0, that records every request it gets. */
export interface Receiver {
  url: string;
  received: Received[];
  handler: Handler;
  close(): Promise<void>;
}

const answerOk: Handler = (_req, res) => res.end('ok');

export async function startReceiver(handler: Handler = answerOk): Promise<Receiver> {
  const received: Received[] = [];
  const receiver: Receiver = { url: '', received, handler, close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      receiver.handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

export function testMessage(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    kind: 'trigger',
    incidentId: 42,
    dedupKey: 'service_down:api',
    severity: 'critical',
    subject: 'api is down',
    text: 'all 3 endpoints failing since 10:00 UTC',
    links: { acknowledge: 'https://bulwark.example/ack?t=abc', resolve: 'https://bulwark.example/resolve?t=abc' },
    idempotencyKey: 'incident-42-step-1-oncall',
    fields: { service: 'api', status: 'down' },
    ...overrides,
  };
}

export const signal = (): AbortSignal => new AbortController().signal;
