import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendContract } from '../testing/contract.js';
import { startS3Server, type S3TestServer } from '../testing/s3-server.js';
import { withRetries, type RetryEvent } from './retry.js';
import { S3Backend, type S3BackendOptions } from './s3.js';

let server: S3TestServer;
let counter = 0;

beforeAll(async () => {
  server = await startS3Server();
});
afterAll(async () => {
  await server?.stop();
});

function options(overrides: Partial<S3BackendOptions> = {}): S3BackendOptions {
  return {
    endpoint: server.endpoint,
    bucket: 'bulwark-test',
    region: 'us-east-1',
    prefix: `repo-${++counter}-${randomBytes(3).toString('hex')}`,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    forcePathStyle: true,
    ...overrides,
  };
}

backendContract('s3', async () => new S3Backend(options()));

describe('S3Backend', () => {
  it('creates the bucket when missing, and accepts one that exists', async () => {
    const bucket = `made-${randomBytes(4).toString('hex')}`;
    const first = new S3Backend(options({ bucket, prefix: '' }));
    await expect(first.write('keys', 'k', Buffer.from('x'))).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining(bucket) });
    await first.create();
    await first.create();
    await first.write('keys', 'k', Buffer.from('x'));
    expect(await first.list('keys')).toEqual([{ kind: 'keys', name: 'k', size: 1 }]);
    expect(first.location).toBe(`s3:${server.endpoint}/${bucket}`);
    await first.close();
  });

  it('keeps repositories under different prefixes apart', async () => {
    const a = new S3Backend(options({ prefix: '/shared/a/' }));
    const b = new S3Backend(options({ prefix: 'shared' }));
    await a.create();
    await a.write('data', 'ab01', Buffer.from('in a'));
    expect(await b.list('data')).toEqual([]);
    expect(await b.stat('data', 'ab01')).toBeUndefined();
    expect(a.location).toBe(`s3:${server.endpoint}/bulwark-test/shared/a`);
    await Promise.all([a.close(), b.close()]);
  });

  it('reports an unreachable endpoint as BACKEND_UNAVAILABLE, naming it and not the secret', async () => {
    const secret = 'very-secret-key-123';
    const backend = new S3Backend(options({ endpoint: 'http://127.0.0.1:1', secretAccessKey: secret, accessKeyId: 'AKIDTEST' }));
    const err = await backend.read('keys', 'k').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BACKEND_UNAVAILABLE', context: { transient: true } });
    const text = JSON.stringify((err as { toJSON(): unknown }).toJSON());
    expect(text).toContain('127.0.0.1:1');
    expect(text).not.toContain(secret);
    await backend.close();
  });

  it('reports rejected credentials as a permanent failure', async () => {
    const backend = new S3Backend(options({ accessKeyId: 'UNKNOWNKEY', secretAccessKey: 'wrong-secret' }));
    const err = await backend.write('keys', 'k', Buffer.from('x')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BACKEND_UNAVAILABLE', context: { transient: false } });
    expect(JSON.stringify((err as { toJSON(): unknown }).toJSON())).not.toContain('wrong-secret');
    await backend.close();
  });

  it('a write issued while the server is down succeeds after it restarts, through withRetries', async () => {
    const raw = new S3Backend(options());
    await raw.create();
    const retries: RetryEvent[] = [];
    const backend = withRetries(raw, { attempts: 20, baseDelayMs: 50, maxDelayMs: 400, onRetry: (event) => retries.push(event) });
    await backend.write('snapshots', 'before', Buffer.from('1'));
    await server.kill();
    const write = backend.write('snapshots', 'during', Buffer.from('22'));
    await new Promise((resolve) => setTimeout(resolve, 600));
    await server.restart();
    await write;
    expect(retries.length).toBeGreaterThan(0);
    expect(retries[0]).toMatchObject({ operation: 'write', attempt: 1 });
    expect((await backend.list('snapshots')).map((info) => info.name).sort()).toEqual(['before', 'during']);
    expect(await backend.read('snapshots', 'during')).toEqual(Buffer.from('22'));
    await backend.close();
  });
});
