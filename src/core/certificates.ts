import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BulwarkError, errnoCode } from './errors.js';

/** A certificate and its key as read from their PEM files, checked to belong together. */
export interface CertificatePair {
  certFile: string;
  keyFile: string;
  /** The PEM text of the certificate chain (leaf first) and of the key. */
  cert: Buffer;
  key: Buffer;
  /** The leaf. */
  x509: X509Certificate;
  /** The DNS names the leaf is for (subjectAltName, else its CN); may hold wildcards (`*.example.com`). */
  names: string[];
  notAfterMs: number;
}

export type ReadFile = (path: string) => Buffer;

/** A PEM file that must exist, with an error that names it and what it is for. */
function readPem(file: string, what: string, key: string, read: ReadFile): Buffer {
  try {
    return read(file);
  } catch (err) {
    const code = errnoCode(err);
    const reason = code === 'ENOENT' ? 'the file does not exist' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new BulwarkError('CERTIFICATE_INVALID', `cannot read the ${what} ${file} (${key}): ${reason}`, {
      hint: `write the PEM file there, or change ${key}`, cause: err, context: { file },
    });
  }
}

/** The leaf certificate of a PEM chain, with an error that says the file is not one. */
export function parseCertificate(pem: Buffer, file: string, key = 'cert'): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new BulwarkError('CERTIFICATE_INVALID', `${file} (${key}) is not a PEM certificate: ${(err as Error).message}`, {
      hint: 'the file must hold "-----BEGIN CERTIFICATE-----" blocks, the server certificate first', cause: err, context: { file },
    });
  }
}

/**
 * Reads a certificate and its private key and checks that the key is the
 * certificate's (TLS would otherwise fail every handshake). `keyPath` is how
 * the user wrote the setting (`services.web.tls.certificates[0]`), for errors.
 */
export function readCertificatePair(certFile: string, keyFile: string, keyPath = 'tls.certificates', read: ReadFile = readFileSync): CertificatePair {
  const cert = readPem(certFile, 'certificate', `${keyPath}.cert`, read);
  const key = readPem(keyFile, 'private key', `${keyPath}.key`, read);
  const x509 = parseCertificate(cert, certFile, `${keyPath}.cert`);
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new BulwarkError('CERTIFICATE_INVALID', `${keyFile} (${keyPath}.key) is not an unencrypted PEM private key: ${(err as Error).message}`, {
      hint: 'write the key as "-----BEGIN PRIVATE KEY-----" (PKCS#8) or "BEGIN RSA/EC PRIVATE KEY", without a passphrase', cause: err, context: { file: keyFile },
    });
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new BulwarkError('CERTIFICATE_INVALID', `the key ${keyFile} does not belong to the certificate ${certFile} (${keyPath})`, {
      hint: 'a renewal writes both files: point cert and key at the pair issued together', context: { certFile, keyFile },
    });
  }
  return { certFile, keyFile, cert, key, x509, names: certificateNames(x509), notAfterMs: Date.parse(x509.validTo) };
}

/** One certificate file, read and parsed, with the errors readCertificatePair gives. */
export function readCertificate(file: string, keyPath = 'cert', read: ReadFile = readFileSync): X509Certificate {
  return parseCertificate(readPem(file, 'certificate', keyPath, read), file, keyPath);
}

/** The DNS names of a certificate: its subjectAltName DNS entries, else its subject's CN. */
export function certificateNames(x509: X509Certificate): string[] {
  const dns = (x509.subjectAltName ?? '').split(/,\s*/).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4).toLowerCase());
  if (dns.length > 0) return dns;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

/** Whether a certificate name (`api.example.com`, `*.example.com`) covers a client's SNI name; a wildcard covers one label. */
export function nameCovers(name: string, servername: string): boolean {
  const host = servername.toLowerCase().replace(/\.$/, '');
  if (!name.startsWith('*.')) return name === host;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === name.slice(2);
}
