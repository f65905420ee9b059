import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBackend } from '../backend/local.js';
import { newRepo, TEST_PASSWORD, type RepoFixture } from '../testing/repo-fixture.js';
import { open, seal } from './crypto.js';
import { decodePackHeader, PackBuilder } from './pack.js';
import { encodeBlob } from './blob-codec.js';
import { Repository } from './repository.js';

async function listAll(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

describe('repository', () => {
  let fx: RepoFixture;
  afterEach(() => fx?.cleanup());

  it('opens with the password and refuses a wrong one without writing anything', async () => {
    fx = await newRepo();
    const before = await listAll(fx.repoDir);
    const reopened = await Repository.open(new LocalBackend(fx.repoDir), TEST_PASSWORD);
    expect(reopened.config.id).toBe(fx.repo.config.id);
    await expect(Repository.open(new LocalBackend(fx.repoDir), 'wrong')).rejects.toMatchObject({ code: 'REPO_WRONG_PASSWORD', message: expect.stringContaining('opens none of the 1 key') });
    expect(await listAll(fx.repoDir)).toEqual(before);
  });

  it('says when there is no repository, and refuses to init over one', async () => {
    fx = await newRepo();
    await expect(Repository.open(new LocalBackend(join(fx.dir, 'nothing')), 'x')).rejects.toMatchObject({ code: 'REPO_NOT_FOUND' });
    await expect(Repository.init(new LocalBackend(fx.repoDir), 'x')).rejects.toMatchObject({ code: 'REPO_EXISTS' });
  });

  it('keeps several keys; rotating one never re-encrypts data', async () => {
    fx = await newRepo();
    const second = await fx.repo.addKey('another password');
    const other = await Repository.open(new LocalBackend(fx.repoDir), 'another password');
    expect(other.master.encryption.equals(fx.repo.master.encryption)).toBe(true);
    expect((await other.listKeys()).map((k) => k.current)).toContain(true);
    await expect(other.removeKey(second)).rejects.toMatchObject({ code: 'USAGE' });
    await fx.repo.removeKey(second);
    await expect(Repository.open(new LocalBackend(fx.repoDir), 'another password')).rejects.toMatchObject({ code: 'REPO_WRONG_PASSWORD' });
  });

  it('stores nothing in the clear: file contents are encrypted, names are hashes', async () => {
    fx = await newRepo();
    const marker = 'PLAINTEXT-MARKER-1234567890';
    const id = await fx.repo.saveFile('snapshots', { marker });
    const raw = await readFile(join(fx.repoDir, 'snapshots', id));
    expect(raw.includes(Buffer.from(marker))).toBe(false);
    expect(await fx.repo.loadFile('snapshots', id)).toEqual({ marker });
  });

  it('detects a changed byte in a stored file', async () => {
    fx = await newRepo();
    const id = await fx.repo.saveFile('snapshots', { a: 1 });
    const path = join(fx.repoDir, 'snapshots', id);
    const raw = await readFile(path);
    raw[20] = raw[20]! ^ 1;
    await writeFile(path, raw);
    await expect(fx.repo.loadFile('snapshots', id)).rejects.toMatchObject({ code: 'REPO_CORRUPT' });
  });
});

describe('crypto and packs', () => {
  const key = Buffer.alloc(32, 7);

  it('authenticates: any flipped bit is refused', () => {
    const sealed = seal(key, Buffer.from('hello'));
    for (let i = 0; i < sealed.length; i++) {
      const copy = Buffer.from(sealed);
      copy[i] = copy[i]! ^ 0x10;
      expect(() => open(key, copy)).toThrow(/altered or damaged/);
    }
  });

  it('round-trips a pack header and skips compression for random data', () => {
    const keys = { encryption: key, mac: Buffer.alloc(32, 9) };
    const builder = new PackBuilder();
    const text = encodeBlob(keys, 'data', Buffer.from('abc '.repeat(10_000)), 'auto');
    const random = encodeBlob(keys, 'tree', Buffer.from(Array.from({ length: 50_000 }, () => Math.floor(Math.random() * 256))), 'auto');
    builder.add(text);
    builder.add(random);
    const pack = builder.finish(key);
    const entries = decodePackHeader(key, pack.bytes, pack.id);
    expect(entries.map((e) => [e.id, e.type, e.compressed])).toEqual([[text.id, 'data', true], [random.id, 'tree', false]]);
    expect(text.sealed.length).toBeLessThan(2_000);
  });
});
