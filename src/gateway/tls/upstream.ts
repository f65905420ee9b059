import { readFileSync } from 'node:fs';
import type { UpstreamTlsConfig } from '../../config/index.js';
import { parseCertificate } from '../../core/certificates.js';
import { BulwarkError, errnoCode } from '../../core/errors.js';
import type { UpstreamTlsOptions } from '../proxy/index.js';

/** undici's connect options for a service's `upstream_tls`, with its CA bundle read (and checked to be one) now. */
export function upstreamTlsOptions(service: string, config: UpstreamTlsConfig | undefined): UpstreamTlsOptions | undefined {
  if (!config) return undefined;
  const key = `services.${service}.upstream_tls.ca`;
  let ca: Buffer | undefined;
  if (config.ca !== undefined) {
    try {
      ca = readFileSync(config.ca);
    } catch (err) {
      const reason = errnoCode(err) === 'ENOENT' ? 'the file does not exist' : (err as Error).message;
      throw new BulwarkError('CERTIFICATE_INVALID', `cannot read the CA bundle ${config.ca} (${key}): ${reason}`, { hint: `write the PEM CA bundle there, or change ${key}`, cause: err });
    }
    parseCertificate(ca, config.ca, key);
  }
  return { ca, servername: config.servername, rejectUnauthorized: config.verify };
}
