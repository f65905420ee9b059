import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago: for servers that cannot be told to listen on port 0 (PostgreSQL, sshd). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}
