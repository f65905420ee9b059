import { nameCovers, parseCertificate, readCertificatePair, type CertificatePair } from '../../core/certificates.js';
import { BulwarkError } from '../../core/errors.js';
import type { Finding, KeyPath } from '../diagnostics.js';
import type { BulwarkConfig, ServiceConfig } from '../schema.js';
import type { LintFacts } from './context.js';

const DAY_MS = 86_400_000;
/** `check` warns this long before a configured certificate ends (Let's Encrypt renews at 30 days left; 14 leaves room for one failed renewal). */
export const CERTIFICATE_WARN_WITHIN_MS = 14 * DAY_MS;

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

function invalid(err: unknown, path: KeyPath): Finding {
  const e = err instanceof BulwarkError ? err : new BulwarkError('CERTIFICATE_INVALID', String(err));
  return { severity: 'error', rule: 'lint.certificate_invalid', path, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
}

function expiryFinding(pair: CertificatePair, path: KeyPath, now: number): Finding[] {
  const left = pair.notAfterMs - now;
  if (left > CERTIFICATE_WARN_WITHIN_MS) return [];
  const names = pair.names.join(', ') || 'no names';
  const message = left <= 0
    ? `the certificate ${pair.certFile} (${names}) expired on ${day(pair.notAfterMs)}: clients refuse it`
    : `the certificate ${pair.certFile} (${names}) expires in ${Math.max(1, Math.floor(left / DAY_MS))} day(s), on ${day(pair.notAfterMs)}`;
  return [{ severity: 'warning', rule: 'lint.certificate_expiring', path, message, found: new Date(pair.notAfterMs).toISOString(), hint: 'renew it and write the new files in place: the gateway loads them without a restart' }];
}

/** `server_names` a certificate is not issued for would select it for clients that then refuse it. */
function uncoveredNames(pair: CertificatePair, serverNames: readonly string[] | undefined, path: KeyPath): Finding[] {
  return (serverNames ?? []).filter((n) => !pair.names.some((c) => c === n.toLowerCase() || nameCovers(c, n.replace(/^\*\./, 'x.')))).map((n) => ({
    severity: 'warning' as const, rule: 'lint.certificate_name', path, found: n,
    message: `${n} is not among the names of ${pair.certFile} (${pair.names.join(', ')}): clients asking for it will refuse the certificate`,
    hint: 'list only names the certificate is issued for, or issue it for this name too',
  }));
}

function serviceFindings(name: string, service: ServiceConfig, read: NonNullable<LintFacts['readFile']>, now: number): Finding[] {
  const out: Finding[] = [];
  service.tls?.certificates.forEach((c, i) => {
    const path: KeyPath = ['services', name, 'tls', 'certificates', i, 'cert'];
    try {
      const pair = readCertificatePair(c.cert, c.key, `services.${name}.tls.certificates[${i}]`, read);
      out.push(...expiryFinding(pair, path, now), ...uncoveredNames(pair, c.server_names, ['services', name, 'tls', 'certificates', i, 'server_names']));
    } catch (err) {
      out.push(invalid(err, path));
    }
  });
  const ca = service.upstream_tls?.ca;
  if (ca !== undefined) {
    const path: KeyPath = ['services', name, 'upstream_tls', 'ca'];
    try {
      parseCertificate(read(ca), ca, `services.${name}.upstream_tls.ca`);
    } catch (err) {
      out.push(invalid(new BulwarkError('CERTIFICATE_INVALID', `the CA bundle ${ca} (services.${name}.upstream_tls.ca) cannot be used: ${(err as Error).message}`, { hint: 'point it at a PEM file of the CA certificates that sign the endpoints\' certificates' }), path));
    }
  }
  return out;
}

/**
 * The certificate files the gateway will serve, read as `bulwark up` would:
 * missing, unparseable or mismatched files are errors (the gateway would not
 * start), and a certificate that ends within 14 days (or has ended) is a
 * warning. Runs only when the entry point lets rules read files (`check`).
 */
export function lintCertificates(config: BulwarkConfig, facts: LintFacts): Finding[] {
  const out: Finding[] = [];
  const read = facts.readFile;
  if (read) {
    const now = facts.now ?? Date.now();
    for (const [name, service] of Object.entries(config.services)) out.push(...serviceFindings(name, service, read, now));
  }
  const anyTls = Object.values(config.services).some((s) => s.tls !== undefined);
  for (const [name, rule] of Object.entries(config.alerting?.rules ?? {})) {
    if (rule.when !== 'certificate_expiring' || anyTls) continue;
    out.push({
      severity: 'warning', rule: 'lint.unwatched_condition', path: ['alerting', 'rules', name, 'when'], found: rule.when,
      message: `rule ${name} watches certificate_expiring, but no service has tls certificates: it will never fire`,
      hint: 'add tls.certificates to the services the gateway terminates TLS for, or remove the rule',
    });
  }
  return out;
}
