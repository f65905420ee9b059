import { BulwarkError } from '../../core/errors.js';
import { LocalBackend } from './local.js';
import { LazyBackend } from './lazy.js';
import { s3Location, sftpLocation } from './locations.js';
import type { S3BackendOptions } from './s3.js';
import type { SftpBackendOptions } from './sftp.js';
import type { Backend } from './types.js';

/** The shapes of `backups.repositories.<name>` in bulwark.yaml (see src/config/schema-ops.ts). */
export interface LocalSpec {
  path: string;
}

export interface S3Spec {
  endpoint?: string;
  bucket: string;
  region?: string;
  prefix?: string;
  access_key_id?: string;
  secret_access_key?: string;
  force_path_style?: boolean;
}

export interface SftpSpec {
  host: string;
  port?: number;
  user: string;
  path: string;
  private_key_file?: string;
  password?: string;
}

/**
 * Spec type per backend type. A new backend adds itself by augmentation:
 *
 *   declare module './registry.js' { interface BackendSpecs { b2: B2Spec } }
 *   registerBackendType('b2', (spec) => new B2Backend(spec));
 */
export interface BackendSpecs {
  local: LocalSpec;
  s3: S3Spec;
  sftp: SftpSpec;
}

export type BackendTypeName = keyof BackendSpecs;
export type BackendFactory<T> = (spec: T) => Backend;

const registry = new Map<string, BackendFactory<never>>();

export function registerBackendType<K extends BackendTypeName>(name: K, factory: BackendFactory<BackendSpecs[K]>): void {
  if (registry.has(name)) throw new Error(`backend type "${name}" is already registered`);
  registry.set(name, factory as BackendFactory<never>);
}

export function backendTypeNames(): string[] {
  return [...registry.keys()].sort();
}

/** A backend of a registered type, from its spec. */
export function createBackend<K extends BackendTypeName>(type: K, spec: BackendSpecs[K]): Backend {
  const factory = registry.get(type) as BackendFactory<BackendSpecs[K]> | undefined;
  if (!factory) {
    throw new BulwarkError('USAGE', `unknown backend type "${type}"`, { hint: `use one of: ${backendTypeNames().join(', ')}` });
  }
  return factory(spec);
}

registerBackendType('local', (spec) => new LocalBackend(spec.path));
registerBackendType('s3', (spec) => {
  const options = s3Options(spec);
  return new LazyBackend(s3Location(options), async () => new (await import('./s3.js')).S3Backend(options));
});
registerBackendType('sftp', (spec) => {
  const options = sftpOptions(spec);
  return new LazyBackend(sftpLocation(options), async () => new (await import('./sftp.js')).SftpBackend(options));
});

function s3Options(spec: S3Spec): S3BackendOptions {
  if (!spec.bucket) throw usage('an S3 repository needs a bucket', 's3: { bucket: backups, prefix: prod }');
  return {
    endpoint: spec.endpoint,
    bucket: spec.bucket,
    region: spec.region ?? 'us-east-1',
    prefix: spec.prefix ?? '',
    accessKeyId: spec.access_key_id,
    secretAccessKey: spec.secret_access_key,
    forcePathStyle: spec.force_path_style ?? true,
  };
}

function sftpOptions(spec: SftpSpec): SftpBackendOptions {
  if (!spec.host || !spec.user || !spec.path) {
    throw usage('an SFTP repository needs host, user and path', 'sftp: { host: backup.example.com, user: bulwark, path: /srv/backups }');
  }
  return {
    host: spec.host,
    port: spec.port ?? 22,
    user: spec.user,
    path: spec.path,
    privateKeyFile: spec.private_key_file,
    password: spec.password,
    agent: spec.private_key_file || spec.password ? undefined : process.env.SSH_AUTH_SOCK,
  };
}

export function usage(message: string, example: string): BulwarkError {
  return new BulwarkError('USAGE', message, { hint: `for example ${example}` });
}
