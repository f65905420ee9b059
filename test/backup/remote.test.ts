import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend } from '../../src/backup/backend/local.js';
import { withRetries, type Backend } from '../../src/backup/backend/index.js';
import { S3Backend } from '../../src/backup/backend/s3.js';
import { SftpBackend } from '../../src/backup/backend/sftp.js';
import { backupPaths } from '../../src/backup/archive/backup.js';
import { checkRepository } from '../../src/backup/maintenance/check.js';
import { copySnapshots } from '../../src/backup/maintenance/copy.js';
import { Repository } from '../../src/backup/repo/repository.js';
import { restoreSnapshot } from '../../src/backup/restore/restorer.js';
import { startS3Server, type S3TestServer } from '../../src/backup/testing/s3-server.js';
import { startSshd, type SshdServer } from '../../src/backup/testing/sshd.js';

/** Copies to real S3-protocol and OpenSSH servers, including one that goes away mid-copy. */
describe('copies to remote repositories', () => {
  let dir: string;
  let source: Repository;
  let sshd: SshdServer;
  let s3: S3TestServer;
  const ids: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-remote-'));
    [sshd, s3] = await Promise.all([startSshd(), startS3Server()]);
    source = await Repository.init(new LocalBackend(join(dir, 'local')), 'pw', { chunker: { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024 } });
    const data = join(dir, 'data');
    await mkdir(data);
    for (let i = 0; i < 4; i++) {
      await writeFile(join(data, `f${i}.bin`), randomBytes(1_500_000));
      ids.push((await backupPaths(source, [data], { packSize: 256 * 1024 })).id);
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all([sshd?.stop(), s3?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  const sftp = (): Backend => new SftpBackend({ host: sshd.host, port: sshd.port, user: sshd.user, path: join(sshd.dir, 'repo'), privateKey: sshd.privateKey, hostKey: sshd.hostKeyFingerprint });
  const bucket = (): Backend => new S3Backend({ endpoint: s3.endpoint, bucket: 'bulwark', region: 'us-east-1', prefix: 'prod', accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true });

  async function restoresLike(repo: Repository, original: string): Promise<void> {
    const copy = (await repo.listSnapshots()).find((s) => s.snapshot.original === original)!;
    const target = join(dir, `restore-${Math.random().toString(16).slice(2)}`);
    await restoreSnapshot(repo, copy, { target });
    const path = copy.snapshot.paths[0]!;
    for (let i = 0; i < 4; i++) expect(await readFile(join(target, path, `f${i}.bin`))).toEqual(await readFile(join(path, `f${i}.bin`)));
  }

  it('SFTP: a server killed mid-copy and back 2 s later: the copy retries and completes', async () => {
    const dest = await Repository.init(withRetries(sftp(), { attempts: 8, baseDelayMs: 300, maxDelayMs: 2_000 }), 'pw2', { copyFrom: source });
    const copying = copySnapshots(source, dest, {});
    await sleep(400);
    await sshd.kill();
    await sleep(2_000);
    await sshd.restart();
    const report = await copying;
    expect(report.copied).toHaveLength(4);
    expect((await checkRepository(dest, { readData: true })).ok).toBe(true);
    await restoresLike(dest, ids[3]!);
  }, 120_000);

  it('S3: a server down for longer than the retries: the copy fails clearly, then resumes where it stopped', async () => {
    const dest = await Repository.init(withRetries(bucket(), { attempts: 3, baseDelayMs: 100, maxDelayMs: 300 }), 'pw3', { copyFrom: source });
    const first = copySnapshots(source, dest, { snapshots: [ids[0]!] });
    expect((await first).copied).toHaveLength(1);
    let killing: Promise<void> | undefined;
    const copying = copySnapshots(source, dest, { onProgress: (p) => void (p.blobs >= 5 && (killing ??= s3.kill())) });
    await expect(copying).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: expect.stringContaining(s3.endpoint.replace(/^https?:\/\//, '')) });
    await killing;
    await s3.restart();
    const resumed = await copySnapshots(source, dest, {});
    expect(resumed.alreadyThere).toBeGreaterThanOrEqual(1);
    expect(resumed.copied.length + resumed.alreadyThere).toBe(4);
    expect((await checkRepository(dest, { readData: true })).ok).toBe(true);
    await restoresLike(dest, ids[3]!);
  }, 120_000);
});
