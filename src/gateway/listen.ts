import type { Server } from 'node:net';
import { splitListen } from '../api/index.js';
import { BulwarkError } from '../core/errors.js';

/** Listens on a service's address; a taken port becomes an error that says which service and what to do. */
export function listenService(server: Server, name: string, listen: string): Promise<void> {
  const { host, port } = splitListen(listen);
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(new BulwarkError('USAGE', `service ${name} cannot listen on ${listen}: ${err.code === 'EADDRINUSE' ? 'the address is already in use' : err.message}`, {
      hint: `change services.${name}.listen, or stop what holds the port`, cause: err,
    }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
