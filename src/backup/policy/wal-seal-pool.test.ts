import { randomBytes } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newRepo, type RepoFixture } from '../testing/repo-fixture.js';
import { RepoWalStore } from './repo-wal-store.js';
import { SealBuffers, WalSealPool } from './wal-seal-pool.js';

/** WAL-like content: random bytes and text, so brotli has something to do and something it cannot. */
function walContent(bytes: number): Buffer {
  const text = Buffer.from('INSERT INTO orders VALUES (42, \'widget\', 19.99, now());\n'.repeat(Math.ceil(bytes / 112)));
  return Buffer.concat([randomBytes(bytes >> 1), text]).subarray(0, bytes);
}

describe('WalSealPool', () => {
  let a: RepoFixture;
  let b: RepoFixture;
  let pool: WalSealPool;
  beforeEach(async () => {
    [a, b] = await Promise.all([newRepo(), newRepo()]);
    pool = new WalSealPool(4, 2);
  });
  afterEach(async () => {
    await pool.close();
    await Promise.all([a.cleanup(), b.cleanup()]);
  });

  it('compresses once and seals per key into the shared buffers; the files read back with the existing reader', async () => {
    expect(pool.size).toBe(2);
    const name = '000000010000000000000003';
    const data = walContent(4 * 1024 * 1024);
    const buffers = new SealBuffers(data.length);
    data.copy(buffers.input);
    const stores = [new RepoWalStore(a.repo, 'db'), new RepoWalStore(b.repo, 'db')];
    const sealed = await pool.seal(name, stores.map((s) => s.encryptionKey), buffers.input.subarray(0, data.length), buffers.outputsFor(2, data.length, name.length));
    expect(sealed.map((s) => s.buffer)).toEqual(buffers.outputs.map((o) => o.buffer)); // sealed in place, nothing copied back
    expect(sealed[0]!.length).toBeLessThan(data.length * 0.6);
    await Promise.all(stores.map((store, i) => store.putSealed(name, sealed[i]!)));
    for (const store of stores) expect((await store.get(name))?.equals(data)).toBe(true);
    // The key decides: repository a cannot read what was sealed for b.
    await new RepoWalStore(a.repo, 'db').putSealed('000000010000000000000004', sealed[1]!);
    await expect(new RepoWalStore(a.repo, 'db').get('000000010000000000000004')).rejects.toThrow(/failed authentication/);
  });

  it('seals into a buffer of its own when the output given is too small, and handles a history file', async () => {
    const name = '00000002.history';
    const data = Buffer.from('1\t0/3000000\tno recovery target specified\n');
    const store = new RepoWalStore(a.repo, 'db');
    const [sealed] = await pool.seal(name, [store.encryptionKey], data, [Buffer.alloc(8)]);
    await store.putSealed(name, sealed!);
    expect((await store.get(name))?.equals(data)).toBe(true);
  });

  it('a worker killed mid-job fails that job with a clear error, and the next job gets a new worker', async () => {
    const data = walContent(16 * 1024 * 1024);
    const store = new RepoWalStore(a.repo, 'db');
    const buffers = new SealBuffers(data.length);
    data.copy(buffers.input);
    const job = pool.seal('000000010000000000000005', [store.encryptionKey], buffers.input, buffers.outputsFor(1, data.length, 24));
    const workers = (pool as unknown as { slots: Array<{ worker: Worker | undefined }> }).slots.map((s) => s.worker).filter((w) => w !== undefined);
    expect(workers).toHaveLength(1);
    await workers[0]!.terminate();
    await expect(job).rejects.toThrow(/WAL sealing worker stopped/);
    const [sealed] = await pool.seal('000000010000000000000005', [store.encryptionKey], buffers.input, buffers.outputsFor(1, data.length, 24));
    await store.putSealed('000000010000000000000005', sealed!);
    expect((await store.get('000000010000000000000005'))?.equals(data)).toBe(true);
  });
});
