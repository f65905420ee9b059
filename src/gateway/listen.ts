import type { Server } from 'node:net';
import { listenOn } from '../core/net.js';
import { databaseOfKey } from './database-services.js';

/**
 * Node's default accept queue is 511. A burst of new connections beyond what is
 * accepted meanwhile is left half-open in SYN-RECV, and its clients wait for the
 * kernel's SYN-ACK retries (about a minute) before anything, even a timeout,
 * happens. HAProxy sizes its backlog from maxconn; Linux caps this at somaxconn.
 */
export const LISTEN_BACKLOG = 4096;

/**
 * Listens on a service's address. A failure names the key the user wrote: a
 * database's front door is the gateway service `db:NAME` inside, and
 * `databases.NAME.postgres.listen` in their file.
 */
export function listenService(server: Server, name: string, listen: string): Promise<void> {
  return listenOn(server, { ...listenSiteOf(name), listen }, LISTEN_BACKLOG);
}

/** What a gateway service key is to the user, and the key of its `listen` in the configuration. */
function listenSiteOf(name: string): { what: string; key: string } {
  const database = databaseOfKey(name);
  return database === undefined
    ? { what: `service ${name}`, key: `services.${name}.listen` }
    : { what: `the front door of database ${database}`, key: `databases.${database}.postgres.listen` };
}
