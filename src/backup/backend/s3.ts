import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import { BulwarkError } from '../../core/errors.js';
import { diskFull, isAbortError, isTransientNetworkError, notFound, unavailable } from './errors.js';
import { checkKind, checkName, checkRange, isValidName } from './names.js';
import type { Backend, ByteRange, FileInfo, FileKind } from './types.js';
import { s3Location, withoutUserInfo } from './locations.js';

export interface S3BackendOptions {
  /** `https://host:port` for S3-compatible stores; omitted for AWS. */
  endpoint?: string;
  bucket: string;
  region: string;
  /** Folder inside the bucket; `''` for the bucket root. */
  prefix: string;
  /** Without both keys the AWS default credential chain (env, profile, instance role) applies. */
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

const TRANSIENT_S3_ERRORS = new Set(['SlowDown', 'RequestTimeout', 'InternalError', 'ServiceUnavailable', 'ThrottlingException', 'TimeoutError']);
const ACCESS_ERRORS = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken']);

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Keys are `<prefix>/config` and `<prefix>/<kind>/<name>`. Data is not sharded:
 * S3 has no folders to keep small, and a flat `data/` lists in fewer requests.
 * Each write is a single PUT, which S3 makes visible atomically.
 */
export class S3Backend implements Backend {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly root: string;
  private readonly endpointLabel: string;

  constructor(options: S3BackendOptions) {
    const prefix = options.prefix.split('/').filter(Boolean).join('/');
    const endpoint = options.endpoint === undefined ? undefined : withoutUserInfo(options.endpoint);
    this.bucket = options.bucket;
    this.root = prefix ? `${prefix}/` : '';
    this.endpointLabel = endpoint ?? `AWS S3 (${options.region})`;
    this.location = s3Location(options);
    const { accessKeyId, secretAccessKey } = options;
    this.client = new S3Client({
      region: options.region,
      endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
      // withRetries is the one retry layer: SDK retries under it would multiply the attempts.
      maxAttempts: 1,
      // Many S3-compatible stores reject the newer default checksum headers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: options.connectTimeoutMs ?? 10_000, requestTimeout: options.requestTimeoutMs ?? 120_000 },
    });
  }

  async create(signal?: AbortSignal): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: signal });
      return;
    } catch (err) {
      if (statusOf(err) !== 404) throw this.mapError(err);
    }
    const region = await this.client.config.region();
    const configuration = region === 'us-east-1' ? undefined : { LocationConstraint: region as BucketLocationConstraint };
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket, CreateBucketConfiguration: configuration }), { abortSignal: signal });
    } catch (err) {
      if ((err as SdkError).name !== 'BucketAlreadyOwnedByYou') throw this.mapError(err);
    }
  }

  async stat(kind: FileKind, name: string, signal?: AbortSignal): Promise<FileInfo | undefined> {
    const key = this.keyOf(kind, name);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      return { kind, name, size: head.ContentLength ?? 0 };
    } catch (err) {
      if (statusOf(err) === 404 && (err as SdkError).name !== 'NoSuchBucket') return undefined;
      throw this.mapError(err, kind, name);
    }
  }

  async read(kind: FileKind, name: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    const key = this.keyOf(kind, name);
    checkRange(range);
    if (range?.length === 0) {
      if (!(await this.stat(kind, name, signal))) throw notFound(this.location, kind, name);
      return Buffer.alloc(0);
    }
    try {
      const Range = range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined;
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range }), { abortSignal: signal });
      const bytes = (await out.Body?.transformToByteArray()) ?? new Uint8Array();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      // The range starts at or past the end: the file exists, there are no bytes to return.
      if (range && statusOf(err) === 416) return Buffer.alloc(0);
      throw this.mapError(err, kind, name);
    }
  }

  async write(kind: FileKind, name: string, data: Buffer, signal?: AbortSignal): Promise<void> {
    const key = this.keyOf(kind, name);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: data, ContentLength: data.length }), { abortSignal: signal });
    } catch (err) {
      throw this.mapError(err, kind, name);
    }
  }

  async remove(kind: FileKind, name: string, signal?: AbortSignal): Promise<void> {
    const key = this.keyOf(kind, name);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
    } catch (err) {
      if (statusOf(err) === 404 && (err as SdkError).name !== 'NoSuchBucket') return;
      throw this.mapError(err, kind, name);
    }
  }

  async list(kind: FileKind, signal?: AbortSignal): Promise<FileInfo[]> {
    checkKind(kind);
    if (kind === 'config') {
      const info = await this.stat('config', 'config', signal);
      return info ? [info] : [];
    }
    const prefix = `${this.root}${kind}/`;
    const out: FileInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.listPage(prefix, token, signal);
      for (const object of page.Contents ?? []) {
        const name = object.Key?.slice(prefix.length) ?? '';
        if (isValidName(name)) out.push({ kind, name, size: object.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private async listPage(prefix: string, token: string | undefined, signal?: AbortSignal) {
    try {
      return await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: signal });
    } catch (err) {
      throw this.mapError(err);
    }
  }

  private keyOf(kind: FileKind, name: string): string {
    checkName(kind, name);
    return kind === 'config' ? `${this.root}config` : `${this.root}${kind}/${name}`;
  }

  private mapError(err: unknown, kind?: FileKind, name?: string): Error {
    if (err instanceof BulwarkError || isAbortError(err)) return err as Error;
    const { name: errorName = 'Error', message = '' } = err as SdkError;
    const status = statusOf(err);
    if (errorName === 'NoSuchBucket') {
      return new BulwarkError('NOT_FOUND', `bucket "${this.bucket}" does not exist at ${this.endpointLabel}`, {
        hint: 'check the bucket name, or create the repository first',
        cause: err,
      });
    }
    if (status === 404 && kind && name) return notFound(this.location, kind, name, err);
    if (status === 403 || ACCESS_ERRORS.has(errorName)) {
      return unavailable(`access to bucket "${this.bucket}" at ${this.endpointLabel} was denied (${errorName})`, 'check the access key id, the secret access key and the bucket policy', {
        cause: err,
        transient: false,
      });
    }
    if (status === 507 || errorName === 'XMinioStorageFull' || errorName === 'QuotaExceeded') return diskFull(this.location, err);
    const noResponse = status === undefined;
    const transient = noResponse || status >= 500 || status === 429 || TRANSIENT_S3_ERRORS.has(errorName) || isTransientNetworkError(err);
    const what = noResponse ? `cannot reach S3 endpoint ${this.endpointLabel}` : `S3 endpoint ${this.endpointLabel} answered ${status} ${errorName}`;
    return unavailable(`${what}: ${message || errorName}`, `check that ${this.endpointLabel} is up and reachable from this host`, { cause: err, transient });
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as SdkError | null)?.$metadata?.httpStatusCode;
}

/** Credentials never belong in an endpoint, and never in a message that shows one. */
