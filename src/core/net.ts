import { createServer, type Server } from 'node:net';
import { BulwarkError } from './errors.js';

/** A TCP port on 127.0.0.1 that was free a moment ago: for servers that cannot be told to listen on port 0 (PostgreSQL, sshd). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

/** `host:port`, `[ipv6]:port` or `:port` (all interfaces) as the configuration and `--listen` write it. */
export function splitListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen);
  if (!match) throw new BulwarkError('USAGE', `invalid listen address "${listen}"`, { hint: 'use host:port, e.g. 127.0.0.1:9180' });
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port: Number(match[3]) };
}

/** A server's listen address and where the user set it, for the error they read when it cannot listen. */
export interface ListenSite {
  /** What failed to listen: "service web", "the front door of database main", "the API". */
  what: string;
  /** The configuration key (or option) the user wrote: `services.web.listen`, `databases.main.postgres.listen`, `--listen`. */
  key: string;
  listen: string;
}

/**
 * The error of a server that cannot listen. `bulwark up` exits 1 on it ("failed
 * to start"), as for any other start failure; the input was fine. A taken
 * address is most often the same configuration already running in another
 * `bulwark up`, so the hint says that first.
 */
export function listenFailed(err: NodeJS.ErrnoException, site: ListenSite): BulwarkError {
  const reason = err.code === 'EADDRINUSE' ? 'the address is already in use'
    : err.code === 'EACCES' ? 'permission denied'
      : err.code === 'EADDRNOTAVAIL' ? 'the address is not one of this machine\'s'
        : err.message;
  const hint = err.code === 'EADDRINUSE'
    ? `another bulwark up is probably running with this configuration; stop it, or change ${site.key} (or stop whatever else holds ${site.listen})`
    : `change ${site.key}`;
  return new BulwarkError('LISTEN_FAILED', `${site.what} cannot listen on ${site.listen} (${site.key}): ${reason}`, {
    hint, cause: err, context: { listen: site.listen, key: site.key, errno: err.code },
  });
}

/** Listens on `site.listen`; a failure is `listenFailed` for that site. */
export function listenOn(server: Server, site: ListenSite, backlog?: number): Promise<void> {
  const { host, port } = splitListen(site.listen);
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(listenFailed(err, site));
    server.once('error', onError);
    server.listen({ port, host, ...(backlog === undefined ? {} : { backlog }) }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
