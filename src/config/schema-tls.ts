import { z } from 'zod';
import { duration, listenAddress } from './fields.js';

const DAY_MS = 86_400_000;
const pemFile = (what: string) => z.string().min(1, { message: `expected the path of a PEM ${what} file` });
const serverName = z.string().regex(/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/, {
  message: 'expected a DNS name such as api.example.com or *.example.com',
});

/** One certificate the listener can present; `server_names` (else the certificate's own names) pick it by SNI. */
const certificate = z.strictObject({
  cert: pemFile('certificate (chain, server certificate first)'),
  key: pemFile('private key'),
  server_names: z.array(serverName).min(1).optional(),
});

const hsts = z.union([
  z.boolean(),
  z.strictObject({
    max_age: duration().default(365 * DAY_MS),
    include_subdomains: z.boolean().default(false),
    preload: z.boolean().default(false),
  }),
]);

/**
 * TLS termination on a service's listener. The first certificate is the
 * default (clients without SNI, or naming no configured host); files are
 * watched and reloaded without a restart.
 */
export const serviceTlsSchema = z.strictObject({
  certificates: z.array(certificate).min(1, { message: 'expected at least one { cert, key } pair' }),
  min_version: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
  /** A plain-HTTP listener that answers every request with a redirect to the service's https:// address. */
  redirect_http: listenAddress().optional(),
  /** Strict-Transport-Security on every response: true for one year. */
  hsts: hsts.default(false),
});

/** TLS toward https:// endpoints: verified against `ca` (else the system's roots), as `servername`. */
export const upstreamTlsSchema = z.strictObject({
  ca: pemFile('CA bundle').optional(),
  servername: z.string().min(1).optional(),
  verify: z.boolean().default(true),
});

export type ServiceTlsConfig = z.output<typeof serviceTlsSchema>;
export type UpstreamTlsConfig = z.output<typeof upstreamTlsSchema>;

/** TLS settings fit HTTP services: TCP services pass bytes through and have no HTTP to redirect or mark. */
export function tlsOnlyForHttp(service: { protocol: string; tls?: unknown; upstream_tls?: unknown }, ctx: z.RefinementCtx): void {
  if (service.protocol !== 'tcp') return;
  for (const key of ['tls', 'upstream_tls'] as const) {
    if (service[key] === undefined) continue;
    ctx.addIssue({
      code: 'custom', path: [key],
      message: `${key} is for protocol: http services; a tcp service passes TLS through to its endpoints`,
      params: { expected: 'no tls settings on a tcp service' },
    });
  }
}
