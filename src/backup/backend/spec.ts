import { BulwarkError } from '../../core/errors.js';
import { createBackend, usage, type S3Spec, type SftpSpec } from './registry.js';
import type { Backend } from './types.js';

/** `backups.repositories.<name>` from bulwark.yaml: exactly one of path, s3, sftp. */
export interface RepositorySpec {
  path?: string;
  s3?: S3Spec;
  sftp?: SftpSpec;
  /** The repository password: not the backend's business, accepted so a config entry can be passed as is. */
  password?: string;
}

export type BackendSpec = string | RepositorySpec;

const EXAMPLES = '/var/backups/repo, local:/var/backups/repo, s3:https://minio.example.com:9000/bucket/prefix, s3:bucket/prefix or sftp:user@host:22/srv/backups';

/**
 * Opens (without connecting) the backend a spec names. Strings:
 * `/path`, `./path`, `local:PATH`, `s3:https://host:port/bucket/prefix`
 * (path-style), `s3:bucket/prefix` (AWS; region from AWS_REGION),
 * `sftp:user@host[:port]/absolute/path`. S3 credentials from strings come
 * from the AWS default chain; SFTP from the SSH agent (SSH_AUTH_SOCK).
 */
export function openBackend(spec: BackendSpec): Backend {
  if (typeof spec === 'string') return openString(spec.trim());
  if (spec === null || typeof spec !== 'object') throw usage('a repository is a path, a URL or a { path | s3 | sftp } object', EXAMPLES);
  const given = (['path', 's3', 'sftp'] as const).filter((key) => spec[key] !== undefined);
  if (given.length !== 1) {
    throw usage(`a repository needs exactly one of path, s3, sftp (got ${given.length ? given.join(', ') : 'none'})`, '{ path: /var/backups/repo }');
  }
  if (spec.path !== undefined) return createBackend('local', { path: spec.path });
  if (spec.s3 !== undefined) return createBackend('s3', spec.s3);
  return createBackend('sftp', spec.sftp as SftpSpec);
}

function openString(text: string): Backend {
  if (!text) throw usage('the repository location is empty', EXAMPLES);
  const scheme = /^([a-z][a-z0-9+.-]*):(.*)$/i.exec(text);
  if (!scheme || text.startsWith('/') || text.startsWith('.')) return createBackend('local', { path: text });
  const [, type = '', rest = ''] = scheme;
  switch (type.toLowerCase()) {
    case 'local':
      if (!rest) throw usage('local: needs a path', 'local:/var/backups/repo');
      return createBackend('local', { path: rest });
    case 's3':
      return createBackend('s3', parseS3(rest));
    case 'sftp':
      return createBackend('sftp', parseSftp(rest));
    default:
      throw new BulwarkError('USAGE', `unknown repository type "${type}" in "${redact(text)}"`, { hint: `write one of ${EXAMPLES}` });
  }
}

function parseS3(rest: string): S3Spec {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  if (/^https?:\/\//i.test(rest)) {
    const url = new URL(rest);
    const [bucket = '', ...prefix] = url.pathname.split('/').filter(Boolean);
    if (!bucket) throw usage(`no bucket in s3:${redact(rest)}`, 's3:https://minio.example.com:9000/bucket/prefix');
    return { endpoint: url.origin, bucket, prefix: prefix.join('/'), region, force_path_style: true };
  }
  const [bucket = '', ...prefix] = rest.split('/').filter(Boolean);
  if (!bucket) throw usage('no bucket in s3:', 's3:bucket/prefix');
  return { bucket, prefix: prefix.join('/'), region, force_path_style: false };
}

function parseSftp(rest: string): SftpSpec {
  const match = /^([^@/]+)@(\[[^\]]+\]|[^:/]+)(?::(\d+))?(\/.*)$/.exec(rest);
  if (!match) throw usage(`cannot read sftp:${redact(rest)}`, 'sftp:user@host:22/srv/backups');
  const [, user = '', host = '', port, path = ''] = match;
  if (user.includes(':')) throw usage('a password does not belong in an sftp: location', 'sftp:user@host:22/srv/backups, with the password in the sftp.password setting');
  const portNumber = port === undefined ? 22 : Number(port);
  if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) throw usage(`bad port ${port} in sftp:${redact(rest)}`, 'sftp:user@host:22/srv/backups');
  return { user, host: host.replace(/^\[|\]$/g, ''), port: portNumber, path };
}

/** Strings can carry `user:password@`: never echo that part. */
function redact(text: string): string {
  return text.replace(/\/\/[^@/]*@/, '//***@').replace(/^([^@/:]*):[^@/]*@/, '$1:***@');
}
