import { createServer } from 'node:net';

/** Listen on `port` of 127.0.0.1 and close again: the port it got, or undefined when it is taken. */
function probe(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const got = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => resolve(got));
    });
  });
}

export async function isPortFree(port: number): Promise<boolean> {
  return (await probe(port)) !== undefined;
}

/** `preferred` when it is free on 127.0.0.1, else a free port the kernel picks. */
export async function preferPort(preferred: number): Promise<number> {
  if (await isPortFree(preferred)) return preferred;
  const port = await probe(0);
  if (port === undefined) throw new Error('no free port on 127.0.0.1');
  return port;
}
