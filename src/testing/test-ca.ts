import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files of one issued certificate. */
export interface IssuedCertificate {
  cert: string;
  key: string;
  /** The certificate's serial number in hex, as X509Certificate#serialNumber shows it. */
  serial: string;
}

export interface IssueOptions {
  /** DNS names (the first is also the CN); IP addresses go in `ips`. */
  names: string[];
  ips?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

export interface TestCa {
  dir: string;
  /** The CA's certificate (PEM file): the bundle a client trusts. */
  caFile: string;
  issue(options: IssueOptions): IssuedCertificate;
  cleanup(): void;
}

const DAY_MS = 86_400_000;
const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

const CA_CONFIG = `
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
CN = unused
`;

/** `openssl ca`'s date form (YYYYMMDDHHMMSSZ): unlike `req -x509` on OpenSSL 3.0 it can backdate. */
const opensslDate = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');

/**
 * A throwaway certificate authority made with the openssl CLI, issuing
 * server certificates for any names and validity window (expired ones too).
 */
export function createTestCa(name = 'Bulwark Test CA'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-ca-'));
  const config = join(dir, 'ca.cnf');
  writeFileSync(config, CA_CONFIG.replaceAll('DIR', dir));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  mkdirSync(join(dir, 'new'));
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  openssl('req', '-x509', ...KEY, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  let count = 0;
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    issue(options: IssueOptions): IssuedCertificate {
      const base = `leaf-${++count}`;
      const san = [...options.names.map((n) => `DNS:${n}`), ...(options.ips ?? []).map((ip) => `IP:${ip}`)].join(',');
      writeFileSync(join(dir, `${base}.ext`), `[ leaf ]\nsubjectAltName = ${san}\nbasicConstraints = CA:false\nextendedKeyUsage = serverAuth\n`);
      const serial = readFileSync(join(dir, 'serial'), 'utf8').trim();
      openssl('req', '-new', ...KEY, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${options.names[0] ?? 'localhost'}`);
      const from = options.notBefore ?? new Date(Date.now() - DAY_MS);
      const to = options.notAfter ?? new Date(Date.now() + 30 * DAY_MS);
      openssl('ca', '-batch', '-notext', '-config', config, '-cert', 'ca.crt', '-keyfile', 'ca.key', '-in', `${base}.csr`, '-out', `${base}.crt`,
        '-startdate', opensslDate(from), '-enddate', opensslDate(to), '-extfile', `${base}.ext`, '-extensions', 'leaf');
      return { cert: join(dir, `${base}.crt`), key: join(dir, `${base}.key`), serial: serial.toUpperCase() };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
