import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { createSecureContext, type SecureContext, type SecureVersion } from 'node:tls';
import type { ServiceTlsConfig } from '../../config/index.js';
import { nameCovers, readCertificatePair, type CertificatePair } from '../../core/certificates.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';

/** Renewal tools write the certificate and then the key: one reload after both, not a failed one between. */
const SETTLE_MS = 150;
/** A missed file event (a directory replaced, a network file system) is caught by re-reading this often. */
const POLL_MS = 30_000;

interface Served {
  pair: CertificatePair;
  /** `server_names`, else the certificate's own names. */
  names: string[];
  context: SecureContext;
}

export interface CertificateStoreEvents {
  /** New files were loaded: new connections get them. */
  reloaded: [{ names: string[][] }];
  /** New files could not be used: the previous certificates stay. */
  failed: [{ error: string }];
}

/**
 * A TLS listener's certificates, chosen by SNI, reloaded when their files
 * change. Existing connections keep the context they shook hands with; a
 * broken renewal (missing file, a key that is not the certificate's) is
 * logged and the certificates in use stay until the files are right.
 */
export class CertificateStore extends EventEmitter<CertificateStoreEvents> {
  private served: Served[];
  private fingerprint: string;
  private lastFailure = '';
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private onDefault: ((pair: CertificatePair) => void) | undefined;

  /** Loads every certificate now; a problem throws CERTIFICATE_INVALID naming the file and the key. */
  constructor(private readonly service: string, private readonly config: ServiceTlsConfig, private readonly log: Logger) {
    super();
    this.served = this.load();
    this.fingerprint = fingerprintOf(this.served);
  }

  get minVersion(): SecureVersion {
    return this.config.min_version;
  }

  /** What the listener presents to a client that sends no SNI name, or one no certificate covers. */
  get defaultPair(): CertificatePair {
    return this.served[0]!.pair;
  }

  /** The context for a client's SNI name: the first certificate that covers it, else the default. */
  contextFor(servername: string | undefined): SecureContext {
    if (servername) {
      for (const s of this.served) if (s.names.some((n) => nameCovers(n, servername))) return s.context;
    }
    return this.served[0]!.context;
  }

  /** Starts watching the files; `onDefault` gets the new default certificate (for tls.Server#setSecureContext). */
  watch(onDefault: (pair: CertificatePair) => void): void {
    this.onDefault = onDefault;
    const dirs = new Map<string, Set<string>>();
    for (const c of this.config.certificates) {
      for (const file of [c.cert, c.key]) dirs.set(dirname(file), (dirs.get(dirname(file)) ?? new Set()).add(basename(file)));
    }
    for (const dir of dirs.keys()) {
      try {
        // The directory, not the file: an atomic rename or a swapped symlink (Kubernetes secrets) replaces the file's inode.
        const watcher = watch(dir, { persistent: false }, () => this.soon());
        watcher.on('error', (err) => this.log.warn({ dir, err: err.message }, 'watching certificate files failed; they are still re-read every 30 s'));
        this.watchers.push(watcher);
      } catch (err) {
        this.log.warn({ dir, err: errorMessage(err) }, 'cannot watch the certificate directory; the files are re-read every 30 s');
      }
    }
    this.poll = setInterval(() => this.reload(), POLL_MS);
    this.poll.unref();
  }

  close(): void {
    for (const w of this.watchers.splice(0)) w.close();
    clearTimeout(this.timer);
    clearInterval(this.poll);
    this.onDefault = undefined;
  }

  /** Re-reads the files; loads them if they changed and are usable. Returns whether the certificates changed. */
  reload(): boolean {
    let next: Served[];
    try {
      next = this.load();
    } catch (err) {
      const error = errorMessage(err);
      // Once per distinct problem: a broken file re-read every 30 s would otherwise flood the log.
      if (error !== this.lastFailure) {
        this.lastFailure = error;
        this.log.error({ service: this.service, err: error }, 'new TLS certificate files cannot be used; the certificates in use stay until they are fixed');
        this.emit('failed', { error });
      }
      return false;
    }
    this.lastFailure = '';
    const fingerprint = fingerprintOf(next);
    if (fingerprint === this.fingerprint) return false;
    this.served = next;
    this.fingerprint = fingerprint;
    this.onDefault?.(next[0]!.pair);
    const names = next.map((s) => s.names);
    this.log.info({ service: this.service, certificates: next.map((s) => ({ cert: s.pair.certFile, names: s.names, expires: new Date(s.pair.notAfterMs).toISOString() })) }, 'TLS certificates reloaded');
    this.emit('reloaded', { names });
    return true;
  }

  private soon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.reload(), SETTLE_MS);
    this.timer.unref();
  }

  private load(): Served[] {
    return this.config.certificates.map((c, i) => {
      const pair = readCertificatePair(c.cert, c.key, `services.${this.service}.tls.certificates[${i}]`);
      const context = createSecureContext({ cert: pair.cert, key: pair.key, minVersion: this.config.min_version });
      return { pair, names: c.server_names?.map((n) => n.toLowerCase()) ?? pair.names, context };
    });
  }
}

function fingerprintOf(served: readonly Served[]): string {
  return served.map((s) => `${s.pair.x509.fingerprint256}/${s.pair.key.toString('base64')}`).join('|');
}
