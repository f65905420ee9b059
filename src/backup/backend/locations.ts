import { BulwarkError } from '../../core/errors.js';
import { posix } from 'node:path';

/** Secret-free descriptions of remote repositories, computed without loading their client libraries. */
export function s3Location(options: { endpoint?: string; bucket: string; prefix: string }): string {
  const prefix = options.prefix.split('/').filter(Boolean).join('/');
  const endpoint = options.endpoint === undefined ? undefined : withoutUserInfo(options.endpoint);
  return `s3:${endpoint ? `${endpoint}/` : ''}${options.bucket}${prefix ? `/${prefix}` : ''}`;
}

export function sftpLocation(options: { user: string; host: string; port: number; path: string }): string {
  const root = posix.normalize(options.path).replace(/(.)\/$/, '$1');
  return `sftp:${options.user}@${options.host}:${options.port}${root.startsWith('/') ? '' : '/'}${root}`;
}

export function withoutUserInfo(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    throw new BulwarkError('USAGE', 'the S3 endpoint is not a URL', { hint: 'write it as https://host:port, for example https://s3.example.com:9000' });
  }
}
