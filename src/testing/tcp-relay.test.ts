import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TcpRelay } from './tcp-relay.js';

let echo: Server;
let echoPort: number;
let relay: TcpRelay;
const sockets: Socket[] = [];

beforeEach(async () => {
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as { port: number }).port;
  relay = await TcpRelay.start(`127.0.0.1:${echoPort}`);
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await relay.close();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

async function open(): Promise<Socket> {
  const socket = connect(relay.port, '127.0.0.1');
  sockets.push(socket);
  await once(socket, 'connect');
  return socket;
}

/** Resolves with the first data, or 'silence' if none arrives within `ms`. */
async function nextData(socket: Socket, ms: number): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    const [data] = (await once(socket, 'data', { signal: controller.signal })) as [Buffer];
    return data.toString();
  } catch {
    return 'silence';
  } finally {
    clearTimeout(timer);
  }
}

describe('TcpRelay', () => {
  it('forwards both ways', async () => {
    const s = await open();
    s.write('hello');
    expect(await nextData(s, 1000)).toBe('hello');
  });

  it('hang: freezes open connections and delivers what was written on restore, late', async () => {
    const s = await open();
    s.write('before');
    expect(await nextData(s, 1000)).toBe('before');
    relay.cut('hang');
    s.write('during');
    expect(await nextData(s, 150)).toBe('silence');
    relay.restore();
    expect(await nextData(s, 1000)).toBe('during');
  });

  it('hang: accepts new connections but connects them only on restore', async () => {
    relay.cut('hang');
    const s = await open();
    s.write('queued');
    expect(await nextData(s, 150)).toBe('silence');
    relay.restore();
    expect(await nextData(s, 1000)).toBe('queued');
  });

  it('reset: resets open connections and new ones', async () => {
    const s = await open();
    const errors: string[] = [];
    s.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? ''));
    const closed = new Promise((resolve) => s.once('close', resolve));
    relay.cut('reset');
    await closed;
    const late = connect(relay.port, '127.0.0.1');
    sockets.push(late);
    late.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? ''));
    await new Promise((resolve) => late.once('close', resolve));
    expect(errors).toEqual(['ECONNRESET', 'ECONNRESET']);
    relay.restore();
    const again = await open();
    again.write('back');
    expect(await nextData(again, 1000)).toBe('back');
  });
});
