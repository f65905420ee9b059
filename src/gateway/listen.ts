import type { Server } from 'node:net';
import { splitListen } from '../api/index.js';
import { BulwarkError } from '../core/errors.js';

/**
 * Node's default accept queue is 511. A burst of new connections beyond what is
 * accepted meanwhile is left half-open in SYN-RECV, and its clients wait for the
 * kernel's SYN-ACK retries (about a minute) before anything, even a timeout,
 * happens. HAProxy sizes its backlog from maxconn; Linux caps this at somaxconn.
 */
export const LISTEN_BACKLOG = 4096;

/** Listens on a service's address; a taken port becomes an error that says which service and what to do. */
export function listenService(server: Server, name: string, listen: string): Promise<void> {
  const { host, port } = splitListen(listen);
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(new BulwarkError('USAGE', `service ${name} cannot listen on ${listen}: ${err.code === 'EADDRINUSE' ? 'the address is already in use' : err.message}`, {
      hint: `change services.${name}.listen, or stop what holds the port`, cause: err,
    }));
    server.once('error', onError);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
