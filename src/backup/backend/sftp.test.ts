import { randomBytes } from 'node:crypto';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendContract } from '../testing/contract.js';
import { startSshd, type SshdServer } from '../testing/sshd.js';
import { withRetries, type RetryEvent } from './retry.js';
import { SftpBackend, type SftpBackendOptions } from './sftp.js';

let sshd: SshdServer;
let counter = 0;

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});

function options(overrides: Partial<SftpBackendOptions> = {}): SftpBackendOptions {
  return {
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    path: join(sshd.dir, `repo-${++counter}`),
    privateKey: sshd.privateKey,
    hostKey: sshd.hostKeyFingerprint,
    ...overrides,
  };
}

// SFTP has no paging to exercise, and its server handles requests one at a time (with an fsync each).
backendContract('sftp', async () => new SftpBackend(options()), { manyFiles: 300 });

describe('SftpBackend', () => {
  it('uses the local layout on the server', async () => {
    const opts = options();
    const backend = new SftpBackend(opts);
    await backend.create();
    await backend.write('config', 'config', Buffer.from('c'));
    await backend.write('data', 'c0ffee', Buffer.from('d'));
    expect((await readdir(opts.path)).sort()).toEqual(['config', 'data', 'index', 'keys', 'locks', 'snapshots', 'wal']);
    expect(await readdir(join(opts.path, 'data', 'c0'))).toEqual(['c0ffee']);
    expect(backend.location).toBe(`sftp:${sshd.user}@${sshd.host}:${sshd.port}${opts.path}`);
    await backend.close();
  });

  it('does not list temp files of interrupted uploads, and cleans them up when stale', async () => {
    const opts = options();
    const backend = new SftpBackend(opts);
    await backend.create();
    await backend.write('data', 'ab01', Buffer.from('whole'));
    await writeFile(join(opts.path, 'snapshots', '.tmp-deadbeef'), 'partial');
    await writeFile(join(opts.path, 'data', 'ab', '.tmp-fresh'), 'partial');
    const old = new Date(Date.now() - 3_600_000);
    await utimes(join(opts.path, 'snapshots', '.tmp-deadbeef'), old, old);
    expect(await backend.list('snapshots')).toEqual([]);
    expect(await backend.list('data')).toEqual([{ kind: 'data', name: 'ab01', size: 5 }]);
    expect(await backend.removeStaleTempFiles(600_000)).toBe(1);
    expect(await readdir(join(opts.path, 'snapshots'))).toEqual([]);
    expect(await readdir(join(opts.path, 'data', 'ab'))).toEqual(['.tmp-fresh', 'ab01']);
    await backend.close();
  });

  it('reads the key from private_key_file', async () => {
    const keyFile = join(sshd.dir, '..', 'client_key');
    const backend = new SftpBackend(options({ privateKey: undefined, privateKeyFile: keyFile }));
    await backend.create();
    expect(await backend.list('keys')).toEqual([]);
    await backend.close();
    const missing = new SftpBackend(options({ privateKey: undefined, privateKeyFile: join(sshd.dir, 'nope') }));
    await expect(missing.list('keys')).rejects.toMatchObject({ code: 'USAGE' });
    await missing.close();
  });

  it('refuses a server whose host key does not match', async () => {
    const backend = new SftpBackend(options({ hostKey: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }));
    const err = await backend.list('keys').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BACKEND_UNAVAILABLE', context: { transient: false }, message: expect.stringContaining('host key') });
    await backend.close();
  });

  it('reports a refused login as permanent, without the password', async () => {
    const backend = new SftpBackend(options({ privateKey: undefined, password: 'hunter2-secret' }));
    const err = await backend.list('keys').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BACKEND_UNAVAILABLE', context: { transient: false } });
    expect(JSON.stringify((err as { toJSON(): unknown }).toJSON())).not.toContain('hunter2');
    await backend.close();
  });

  it('reports a server that is not there as transient, naming it', async () => {
    const backend = new SftpBackend(options({ port: 1 }));
    const err = await backend.stat('keys', 'k').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BACKEND_UNAVAILABLE', context: { transient: true }, message: expect.stringContaining(':1') });
    await backend.close();
  });

  it('reconnects on the next call after the connection drops', async () => {
    const backend = new SftpBackend(options());
    await backend.create();
    await backend.write('keys', 'k1', Buffer.from('1'));
    await sshd.restart();
    const first = await backend.write('keys', 'k2', Buffer.from('2')).then(() => 'ok', (e: { code?: string }) => e.code);
    // The drop may be noticed before the call (reconnect at once) or by it (fails transiently, next call reconnects).
    expect(['ok', 'BACKEND_UNAVAILABLE']).toContain(first);
    await backend.write('keys', 'k3', Buffer.from('3'));
    expect(await backend.read('keys', 'k1')).toEqual(Buffer.from('1'));
    await backend.close();
  });

  it('a write issued while sshd is down succeeds after it restarts, through withRetries', async () => {
    const raw = new SftpBackend(options());
    await raw.create();
    const retries: RetryEvent[] = [];
    const backend = withRetries(raw, { attempts: 20, baseDelayMs: 50, maxDelayMs: 400, onRetry: (event) => retries.push(event) });
    await backend.write('snapshots', 'before', Buffer.from('1'));
    await sshd.kill();
    const data = randomBytes(100_000);
    const write = backend.write('snapshots', 'during', data);
    await new Promise((resolve) => setTimeout(resolve, 600));
    await sshd.restart();
    await write;
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.every((event) => event.operation === 'write')).toBe(true);
    expect((await backend.list('snapshots')).map((info) => info.name).sort()).toEqual(['before', 'during']);
    expect((await backend.read('snapshots', 'during')).equals(data)).toBe(true);
    await backend.close();
  });
});
