import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirLock, lockPathFor } from './data-dir-lock.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function scratch(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'bulwark-lock-'));
  return join(dir, 'pg1');
}

describe('DataDirLock', () => {
  it('refuses a second holder, naming the first, until the first lets go', async () => {
    const dataDir = await scratch();
    const first = await DataDirLock.acquire(dataDir, 'the member manager of main/pg1');
    expect(first.held).toBe(true);
    const refused = await DataDirLock.acquire(dataDir, 'another').then(() => undefined, (err: unknown) => err);
    expect(refused).toMatchObject({ code: 'DATA_DIR_LOCKED' });
    expect((refused as Error).message).toBe(`the PostgreSQL data directory ${dataDir} is already managed by the member manager of main/pg1, pid ${process.pid}, since ${JSON.parse(await readFile(lockPathFor(dataDir), 'utf8')).since}: ${process.argv.slice(1).join(' ')}`);
    await first.release();
    const second = await DataDirLock.acquire(dataDir, 'another');
    await second.release();
  });

  it('is free again as soon as its holder is killed with SIGKILL', async () => {
    const dataDir = await scratch();
    const script = `import('${new URL('./data-dir-lock.ts', import.meta.url).pathname}').then(async (m) => { await m.DataDirLock.acquire(${JSON.stringify(dataDir)}, 'child'); console.log('held'); setInterval(() => {}, 1000); })`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
      child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
    await expect(DataDirLock.acquire(dataDir, 'parent')).rejects.toMatchObject({ code: 'DATA_DIR_LOCKED' });
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    // The flock child sees its stdin close and exits; the kernel drops the lock with it.
    const deadline = performance.now() + 10_000;
    for (;;) {
      const lock = await DataDirLock.acquire(dataDir, 'parent').catch(() => undefined);
      if (lock) {
        await lock.release();
        break;
      }
      if (performance.now() > deadline) throw new Error('the lock was not freed within 10 s of its holder dying');
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 30_000);
});
