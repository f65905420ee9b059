import { readFileSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';
import type { BulwarkConfig } from '../../config/index.js';
import { parseCertificate } from '../../core/certificates.js';

export const CERTIFICATE_EXPIRY_METRIC = 'bulwark_certificate_expiry_seconds';

/** Every certificate file the services' `tls` settings name, with its service. */
export function configuredCertificates(config: BulwarkConfig): Array<{ service: string; file: string }> {
  return Object.entries(config.services).flatMap(([service, s]) => (s.tls?.certificates ?? []).map((c) => ({ service, file: c.cert })));
}

/**
 * `bulwark_certificate_expiry_seconds{service,file}`: seconds until each
 * configured certificate ends (negative once it has). The files are read at
 * scrape time, so a renewal shows at once in both gateway modes; a file that
 * cannot be read has no series (the gateway's log and `bulwark check` say why).
 */
export function registerCertificateExpiry(registry: Registry, config: () => BulwarkConfig): void {
  registry.removeSingleMetric(CERTIFICATE_EXPIRY_METRIC);
  new Gauge({
    name: CERTIFICATE_EXPIRY_METRIC,
    help: 'Seconds until a configured TLS certificate expires (negative when expired)',
    labelNames: ['service', 'file'],
    registers: [registry],
    collect() {
      this.reset();
      const now = Date.now();
      for (const { service, file } of configuredCertificates(config())) {
        try {
          const x509 = parseCertificate(readFileSync(file), file);
          this.set({ service, file }, Math.round((Date.parse(x509.validTo) - now) / 1000));
        } catch {
          // No series: an unreadable certificate is reported by the gateway and by check, not as a number.
        }
      }
    },
  });
}
