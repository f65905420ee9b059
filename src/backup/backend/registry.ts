import { BulwarkError } from '../../core/errors.js';
import { LocalBackend } from './local.js';
import { S3Backend } from './s3.js';
import { SftpBackend } from './sftp.js';
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
registerBackendType('s3', (spec) => new S3Backend(s3Options(spec)));
registerBackendType('sftp', (spec) => new SftpBackend(sftpOptions(spec)));

function s3Options(spec: S3Spec): ConstructorParameters<typeof S3Backend>[0] {
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

function sftpOptions(spec: SftpSpec): ConstructorParameters<typeof SftpBackend>[0] {
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
