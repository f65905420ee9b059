import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import type { CheckContext } from '../types.js';

type AnyServer = NetServer | HttpServer;

/** Listens on 127.0.0.1, port 0; resolves the port. */
export async function listen(server: AnyServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Closes a server and destroys the sockets it still holds open. */
export function track(server: AnyServer): { close(): Promise<void> } {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // TLS servers report the raw TCP socket here, before the handshake.
  server.on('secureConnection', (socket: Socket) => sockets.add(socket));
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port that was just open and is now closed: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A check context whose signal aborts at `timeoutMs`, like the scheduler's. */
export function contextFor(timeoutMs: number): CheckContext {
  return { signal: AbortSignal.timeout(timeoutMs), timeoutMs };
}
