import type { ServerOptions } from 'node:https';
import type { CertificateStore } from './certificate-store.js';

/**
 * node:https options for a listener that serves `store`'s certificates: SNI
 * picks one per connection; the default one is also the server's own context,
 * for clients that send no name. `handshakeMs` bounds a handshake as the
 * header read timeout bounds a request head (Node's default is 120 s).
 */
export function tlsServerOptions(store: CertificateStore, handshakeMs: number): ServerOptions {
  const first = store.defaultPair;
  return {
    cert: first.cert,
    key: first.key,
    minVersion: store.minVersion,
    handshakeTimeout: handshakeMs,
    SNICallback: (servername, done) => done(null, store.contextFor(servername)),
  };
}

/** Keeps a server's default certificate in step with the store's files. */
export function followCertificates(server: { setSecureContext(options: ServerOptions): void; once(event: 'close', listener: () => void): unknown }, store: CertificateStore): void {
  store.watch((pair) => server.setSecureContext({ cert: pair.cert, key: pair.key, minVersion: store.minVersion }));
  server.once('close', () => store.close());
}

/** The `Strict-Transport-Security` value for a service's `hsts` setting; undefined when off. */
export function hstsHeader(hsts: boolean | { max_age: number; include_subdomains: boolean; preload: boolean }): string | undefined {
  if (hsts === false) return undefined;
  const setting = hsts === true ? { max_age: 365 * 86_400_000, include_subdomains: false, preload: false } : hsts;
  return [`max-age=${Math.floor(setting.max_age / 1000)}`, setting.include_subdomains ? 'includeSubDomains' : '', setting.preload ? 'preload' : ''].filter(Boolean).join('; ');
}
