import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chunkBuffer, gearTable } from '../chunker/index.js';
import { checkRepository } from '../maintenance/check.js';
import { restoreSnapshot } from '../restore/restorer.js';
import { walkSnapshot } from '../restore/plan.js';
import { newRepo, type RepoFixture } from '../testing/repo-fixture.js';
import { backupPaths } from './backup.js';

/**
 * The parallel paths end to end: chunk workers (read windows, carried tails,
 * outbox ring), pack assembly with reused buffers, and decode workers for
 * restore and check --read-data, on data large enough to use them.
 */
describe('backup, restore and check pipelines', () => {
  let fx: RepoFixture;
  let src: string;
  beforeEach(async () => {
    fx = await newRepo();
    src = join(fx.dir, 'src');
    await mkdir(src, { recursive: true });
  });
  afterEach(() => fx.cleanup());

  it('cuts chunks exactly where the streaming chunker does, across read windows', async () => {
    const files: Record<string, Buffer> = {
      'empty': Buffer.alloc(0),
      'tiny': Buffer.from('x'),
      'random.bin': randomBytes(5 * 1024 * 1024 + 12_345),
      'text.txt': Buffer.from('some line of text that compresses well\n'.repeat(120_000)),
      'zeros.bin': Buffer.alloc(3 * 1024 * 1024),
      'exact.bin': randomBytes(2 * 1024 * 1024),
    };
    for (const [name, data] of Object.entries(files)) await writeFile(join(src, name), data);
    const snap = await backupPaths(fx.repo, [src], { packSize: 1024 * 1024 });
    const index = await fx.repo.loadIndex();
    const gear = gearTable(fx.repo.master.chunker);
    for (const entry of await walkSnapshot(fx.repo, index, snap.snapshot.tree, [])) {
      if (entry.node.type !== 'file') continue;
      const data = files[entry.node.name]!;
      const sizes = (entry.node.content ?? []).map((id) => index.get(id)!.rawLength);
      expect(sizes, entry.node.name).toEqual(chunkBuffer(data, fx.repo.config.chunker, gear).map((c) => c.length));
      expect(entry.node.size).toBe(data.length);
    }
    expect(index.packIds.length).toBeGreaterThan(4);
    // Pack buffers are reused from pack to pack: every pack still hashes to its name and decodes.
    expect(await checkRepository(fx.repo, { readData: true, workers: 2 })).toMatchObject({ ok: true, errors: [] });
  });

  it('restores and verifies with decode workers, and finds a damaged blob there', async () => {
    const random = randomBytes(6 * 1024 * 1024);
    const text = Buffer.from(Array.from({ length: 200_000 }, (_, i) => `row ${i} of a table\n`).join(''));
    await writeFile(join(src, 'random.bin'), random);
    await writeFile(join(src, 'text.txt'), text);
    const snap = await backupPaths(fx.repo, [src], { packSize: 2 * 1024 * 1024 });

    const out = join(fx.dir, 'out');
    const summary = await restoreSnapshot(fx.repo, snap, { target: out, workers: 2 });
    expect(summary.errors).toEqual([]);
    expect((await readFile(join(out, src, 'random.bin'))).equals(random)).toBe(true);
    expect((await readFile(join(out, src, 'text.txt'))).equals(text)).toBe(true);
    expect(await checkRepository(fx.repo, { readData: true, workers: 2 })).toMatchObject({ ok: true, errors: [] });

    const index = await fx.repo.loadIndex();
    const victim = index.get((await walkSnapshot(fx.repo, index, snap.snapshot.tree, [])).find((n) => n.node.name === 'random.bin')!.node.content![3]!)!;
    const packPath = join(fx.repoDir, 'data', victim.pack.slice(0, 2), victim.pack);
    const bytes = await readFile(packPath);
    bytes[victim.offset + 100] = bytes[victim.offset + 100]! ^ 0x01;
    await writeFile(packPath, bytes);
    const report = await checkRepository(fx.repo, { readData: true, workers: 2 });
    expect(report.ok).toBe(false);
    expect(report.damagedBlobs).toEqual([victim.id]);
    expect(report.errors).toEqual(expect.arrayContaining([
      expect.stringContaining('does not match its name'),
      expect.stringContaining(`blob ${victim.id.slice(0, 12)} failed authentication`),
    ]));
    await expect(restoreSnapshot(fx.repo, snap, { target: join(fx.dir, 'out2'), workers: 2 })).rejects.toMatchObject({ code: 'REPO_CORRUPT' });
  });
});
