import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A PEM key and certificate for CN=localhost (SAN localhost and 127.0.0.1). */
export interface CertificatePair {
  key: string;
  cert: string;
}

export interface TlsFixtures {
  /** Self-signed, valid for one day from now. */
  valid: CertificatePair;
  /** Self-signed, valid only in January 2020. */
  expired: CertificatePair;
  cleanup(): void;
}

const CONFIG = `
[ ca ]
default_ca = ca_default
[ ca_default ]
database = DIR/index.txt
new_certs_dir = DIR/new
serial = DIR/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = localhost
[ leaf ]
subjectAltName = DNS:localhost,IP:127.0.0.1
basicConstraints = CA:true
`;

const KEY_OPTIONS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Generates certificates with the openssl CLI. OpenSSL 3.0's `req -x509` has no
 * way to backdate, so the expired one is self-signed through `openssl ca`,
 * whose -startdate/-enddate work on every 3.x.
 */
export function createTlsFixtures(): TlsFixtures {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-tls-'));
  const config = join(dir, 'openssl.cnf');
  writeFileSync(config, CONFIG.replaceAll('DIR', dir));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '01\n');
  mkdirSync(join(dir, 'new'));
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  openssl('req', '-x509', ...KEY_OPTIONS, '-keyout', 'valid.key', '-out', 'valid.crt', '-days', '1',
    '-config', config, '-extensions', 'leaf');
  openssl('req', '-new', ...KEY_OPTIONS, '-keyout', 'expired.key', '-out', 'expired.csr', '-config', config);
  openssl('ca', '-batch', '-notext', '-selfsign', '-config', config, '-keyfile', 'expired.key', '-in', 'expired.csr',
    '-out', 'expired.crt', '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-extensions', 'leaf');
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  return {
    valid: { key: read('valid.key'), cert: read('valid.crt') },
    expired: { key: read('expired.key'), cert: read('expired.crt') },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
