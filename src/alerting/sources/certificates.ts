import { readFileSync } from 'node:fs';
import { formatDurationShort, type BulwarkConfig } from '../../config/index.js';
import { readCertificate } from '../../core/certificates.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Signal } from '../types.js';
import { labels, tierOf, type RuleLike } from './common.js';
import { PolledSource } from './polled.js';

/** `certificate_expiring` for a rule that reaches a source without `within` (resolved rules always have one). */
const DEFAULT_CERTIFICATE_WITHIN_MS = 14 * 86_400_000;

export interface CertificateSourceOptions {
  rules: readonly RuleLike[];
  config: BulwarkConfig;
  log: Logger;
  now: () => number;
  intervalMs?: number;
  /** Reads a certificate file; node:fs by default. */
  readFile?: (path: string) => Buffer;
}

/**
 * certificate_expiring: the certificates services terminate TLS with, read
 * from their files each poll (a renewal clears the alert at the next one). A
 * certificate ending within the rule's `within` fires, as does a file that
 * cannot be read or parsed: the gateway keeps serving what it loaded before,
 * and will not start with it.
 */
export class CertificateSource extends PolledSource {
  private config: BulwarkConfig;

  constructor(private readonly options: CertificateSourceOptions) {
    super({
      conditions: ['certificate_expiring'], intervalMs: options.intervalMs ?? 60_000,
      log: options.log, failure: 'reading the TLS certificates', now: options.now,
    }, options.rules);
    this.config = options.config;
  }

  protected override configure(config: BulwarkConfig): void {
    this.config = config;
  }

  protected evaluate(now: number): Promise<Signal[]> {
    const read = this.options.readFile ?? ((path: string) => readFileSync(path));
    const signals = Object.entries(this.config.services).flatMap(([service, s]) => {
      const rules = this.index.for('certificate_expiring', 'services', service);
      if (rules.length === 0 || !s.tls) return [];
      return s.tls.certificates.flatMap((c) => {
        const state = certificateState(c.cert, `services.${service}.tls.certificates`, read);
        const tier = tierOf(this.config, 'service', service);
        return rules.map((rule) => certificateSignal(rule, { service, file: c.cert, tier }, state, now));
      });
    });
    return Promise.resolve(signals);
  }
}

type CertificateState = { ok: true; notAfterMs: number } | { ok: false; error: string };

function certificateState(file: string, keyPath: string, read: (path: string) => Buffer): CertificateState {
  try {
    const x509 = readCertificate(file, keyPath, read);
    return { ok: true, notAfterMs: Date.parse(x509.validTo) };
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}

function certificateSignal(rule: RuleLike, facts: { service: string; file: string; tier: string | undefined }, state: CertificateState, at: number): Signal {
  const base = { rule: rule.name, subject: `certificate/${facts.service}/${facts.file}`, at, labels: labels({ service: facts.service, file: facts.file, tier: facts.tier }) };
  if (!state.ok) return { ...base, firing: true, summary: `the TLS certificate of ${facts.service} cannot be read: ${state.error}` };
  const within = rule.thresholds.withinMs ?? DEFAULT_CERTIFICATE_WITHIN_MS;
  const left = state.notAfterMs - at;
  const ends = new Date(state.notAfterMs).toISOString();
  const summary = left <= 0
    ? `the TLS certificate ${facts.file} of ${facts.service} expired at ${ends}`
    : `the TLS certificate ${facts.file} of ${facts.service} expires in ${formatDurationShort(Math.floor(left / 60_000) * 60_000)}, at ${ends} (${left <= within ? 'within' : 'more than'} ${formatDurationShort(within)})`;
  return { ...base, firing: left <= within, summary };
}
