/**
 * One demo API server of `bulwark demo`, run as its own process so that a user can
 * crash it with `kill -9`. Answers `GET /health` and `GET /`, and takes
 * `POST /chaos {"mode":"fail"|"slow"|"ok"}` to answer 500 or slowly (2 s).
 *
 * Usage: demo-server --name N --zone Z --region R [--port P]. Prints one JSON line
 * `{"ready":true,"port":P,"pid":PID}` once it listens; exits when its stdin closes,
 * so it never outlives the `bulwark demo` that started it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

export type ChaosMode = 'ok' | 'fail' | 'slow';
const SLOW_MS = 2_000;

const { values } = parseArgs({
  options: { name: { type: 'string' }, zone: { type: 'string' }, region: { type: 'string' }, port: { type: 'string', default: '0' } },
});
const name = values.name ?? 'demo';
const zone = values.zone ?? 'local';
const region = values.region ?? 'local';
let mode: ChaosMode = 'ok';
const started = Date.now();

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-demo-server': name });
  res.end(text);
}

/** `/health` and `/` obey the chaos mode, so health checks see what users see. */
function answer(res: ServerResponse, status: number, body: unknown): void {
  if (mode === 'fail') return send(res, 500, { error: 'chaos: this server is failing on purpose', server: name, zone });
  if (mode === 'slow') {
    const timer = setTimeout(() => send(res, status, body), SLOW_MS);
    res.once('close', () => clearTimeout(timer));
    return;
  }
  send(res, status, body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 4096) throw new Error('body too large');
  }
  return text;
}

async function chaos(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let requested: unknown;
  try {
    requested = (JSON.parse(await readBody(req)) as { mode?: unknown }).mode;
  } catch {
    requested = undefined;
  }
  if (requested !== 'ok' && requested !== 'fail' && requested !== 'slow') {
    return send(res, 400, { error: 'expected a JSON body {"mode": "fail" | "slow" | "ok"}' });
  }
  mode = requested;
  send(res, 200, { server: name, zone, mode });
}

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'POST' && path === '/chaos') return void chaos(req, res);
  req.resume();
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'GET /, GET /health or POST /chaos' });
  if (path === '/health') return answer(res, 200, { status: 'pass' });
  if (path === '/') {
    return answer(res, 200, { server: name, zone, region, pid: process.pid, uptimeSeconds: Math.round((Date.now() - started) / 1000) });
  }
  send(res, 404, { error: 'not found: try GET /, GET /health or POST /chaos' });
});

server.listen(Number(values.port), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ ready: true, port, pid: process.pid })}\n`);
});

// The parent holds our stdin: when it goes away (even SIGKILLed), so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => undefined); // Ctrl-C reaches the whole group: the parent decides when we stop.
