/**
 * Storage backends for backup repositories: where the encrypted files live.
 * Range reads past the end of a file return the bytes that exist (maybe none).
 * Wrap a backend in `withRetries` to ride out network blips and restarts.
 */
export * from './types.js';
export { LocalBackend } from './local.js';
// S3Backend and SftpBackend load their client libraries: import them from ./s3.js and ./sftp.js directly.
export type { S3Backend, S3BackendOptions } from './s3.js';
export type { SftpBackend, SftpBackendOptions } from './sftp.js';
export { withRetries, type RetryEvent, type RetryOptions } from './retry.js';
export { isRetryable } from './errors.js';
export {
  backendTypeNames,
  createBackend,
  registerBackendType,
  type BackendFactory,
  type BackendSpecs,
  type BackendTypeName,
  type LocalSpec,
  type S3Spec,
  type SftpSpec,
} from './registry.js';
export { openBackend, type BackendSpec, type RepositorySpec } from './spec.js';
