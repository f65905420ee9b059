import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from '../daemon/helpers.js';

/**
 * What `bulwark up` does on schedule, killed while it copies: `backup run
 * --policy` (the daemon's own code path) is SIGKILLed as soon as the off-site
 * repository starts receiving packs. Every later run catches the copy up, so
 * the off-site copy ends up with every snapshot, both repositories pass
 * `check --read-data`, and the off-site copy alone restores the data.
 */
describe('SIGKILL during a policy run\'s copy', () => {
  const h = new Harness();
  let dir: string;
  let data: string;
  let config: string;

  beforeAll(async () => {
    dir = await h.tempDir();
    data = join(dir, 'data');
    await mkdir(data);
    config = join(dir, 'bulwark.yaml');
    await writeFile(config, [
      'version: 1', 'backups:', '  repositories:',
      `    local: { path: ${join(dir, 'local')}, password: copy-crash-pw }`,
      `    offsite: { path: ${join(dir, 'offsite')}, password: copy-crash-pw }`,
      '  policies:', `    files: { source: { paths: [${data}] }, schedule: daily at 02:00, copies: [local, offsite] }`, '',
    ].join('\n'));
    for (const repository of ['local', 'offsite']) {
      const extra = repository === 'offsite' ? ['--copy-from', join(dir, 'local'), '--password-file', await passFile()] : [];
      const init = await h.run(['backup', 'init', '-c', config, '--repository', repository, ...extra]);
      expect(init.code, init.stderr).toBe(0);
    }
  }, 60_000);
  afterAll(() => h.cleanup());

  async function passFile(): Promise<string> {
    const file = join(dir, 'pass');
    await writeFile(file, 'copy-crash-pw\n');
    return file;
  }

  const listing = async (repo: string) => (await readdir(join(dir, repo, 'data'), { recursive: true }).catch(() => [])).sort().join();

  it('kills three runs mid-copy; the next run catches every snapshot up and every repository checks clean', async () => {
    let kills = 0;
    for (let round = 0; round < 3; round++) {
      await writeFile(join(data, `file-${round}.bin`), randomBytes(24 * 1024 * 1024));
      const proc = h.spawn(['backup', 'run', '-c', config, '--policy', 'files', '--json']);
      let finished = false;
      void proc.exited.then(() => (finished = true));
      const before = await listing('offsite');
      while (!finished && (await listing('offsite')) === before) await sleep(5);
      proc.child.kill('SIGKILL');
      const { signal } = await proc.exited;
      if (signal === 'SIGKILL') kills++;
    }
    expect(kills, 'the copies finished before they could be killed').toBeGreaterThanOrEqual(2);

    const last = await h.run(['backup', 'run', '-c', config, '--policy', 'files', '--json'], {}, 120_000);
    expect(last.code, last.stderr + last.stdout).toBe(0);
    const ids = async (repository: string) => {
      const ls = await h.run(['backup', 'ls', '-c', config, '--repository', repository, '--json']);
      expect(ls.code, ls.stderr).toBe(0);
      return (JSON.parse(ls.stdout) as Array<{ id: string; original?: string }>).map((s) => s.original ?? s.id).sort();
    };
    const local = await ids('local');
    expect(local.length).toBeGreaterThanOrEqual(2);
    expect(await ids('offsite')).toEqual(local);
    for (const repository of ['local', 'offsite']) {
      const check = await h.run(['backup', 'check', '-c', config, '--repository', repository, '--read-data'], {}, 120_000);
      expect(check.code, `${repository}: ${check.stdout}${check.stderr}`).toBe(0);
    }
    const target = join(dir, 'restored');
    const restore = await h.run(['restore', 'latest', '-c', config, '--repository', 'offsite', '--target', target], {}, 120_000);
    expect(restore.code, restore.stderr).toBe(0);
    for (let round = 0; round < 3; round++) {
      const name = `file-${round}.bin`;
      expect((await readFile(join(target, data, name))).equals(await readFile(join(data, name))), name).toBe(true);
    }
  }, 300_000);
});
