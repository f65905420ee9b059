import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from '../daemon/helpers.js';
import { runAsUser } from '../../src/testing/run-as.js';

const PASSWORD = 'cli-test-password';
const env = { BULWARK_BACKUP_PASSWORD: PASSWORD };

describe('bulwark backup and restore commands', () => {
  const h = new Harness();
  let dir: string;
  let repo: string;
  let data: string;

  beforeAll(async () => {
    dir = await h.tempDir();
    repo = join(dir, 'repo');
    data = join(dir, 'data');
    await mkdir(join(data, 'etc'), { recursive: true });
    await writeFile(join(data, 'etc', 'app.conf'), 'listen = 8080\n');
    await writeFile(join(data, 'blob.bin'), randomBytes(300_000));
    const init = await h.run(['backup', 'init', '-r', repo, '--json'], env);
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ location: `local:${repo}` });
  }, 60_000);
  afterAll(() => h.cleanup());

  it('has --help on every command', async () => {
    for (const args of [['backup'], ['backup', 'init'], ['backup', 'run'], ['backup', 'ls'], ['backup', 'diff'], ['backup', 'forget'], ['backup', 'prune'], ['backup', 'check'], ['backup', 'copy'], ['backup', 'key'], ['backup', 'key', 'passwd'], ['backup', 'test-restore'], ['backup', 'wal', 'archive'], ['restore']]) {
      const r = await h.run([...args, '--help']);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: bulwark');
    }
  }, 120_000);

  it('refuses a wrong password with exit 2 and writes nothing', async () => {
    const before = (await readdir(repo, { recursive: true })).sort();
    const r = await h.run(['backup', 'run', '-r', repo, data], { BULWARK_BACKUP_PASSWORD: 'wrong' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the password opens none of the 1 key/);
    expect(r.stderr).not.toContain('wrong');
    expect((await readdir(repo, { recursive: true })).sort()).toEqual(before);
  });

  it('says what to do when there is no password or no repository', async () => {
    const none = await h.run(['backup', 'ls', '-r', repo], { BULWARK_BACKUP_PASSWORD: '' });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no repository password[\s\S]*hint: set \$BULWARK_BACKUP_PASSWORD/);
    const missing = await h.run(['backup', 'ls', '-r', join(dir, 'nope')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/there is no repository at[\s\S]*bulwark backup init/);
  });

  it('backs up, lists from the bare repository, restores to a directory and to stdout, and test-restores', async () => {
    const run = await h.run(['backup', 'run', '-r', repo, data, '--json', '--tag', 'nightly'], env);
    expect(run.code, run.stderr).toBe(0);
    const quiet = await h.run(['backup', 'run', '-r', repo, data, '-q'], env);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toBe(''); // -q: silent, as restic's is
    const { id } = JSON.parse(run.stdout) as { id: string };
    const ls = await h.run(['backup', 'ls', '-r', repo, '--json'], env);
    expect((JSON.parse(ls.stdout) as Array<{ id: string; tags: string[] }>).find((s) => s.id === id)?.tags).toEqual(['nightly']);
    const files = await h.run(['backup', 'ls', '-r', repo, id.slice(0, 8)], env);
    expect(files.stdout).toContain(`${data}/etc/app.conf`);
    const target = join(dir, 'restored');
    const restore = await h.run(['restore', '-r', repo, id.slice(0, 8), '--target', target], env);
    expect(restore.code, restore.stderr).toBe(0);
    expect(await readFile(join(target, data, 'blob.bin'))).toEqual(await readFile(join(data, 'blob.bin')));
    const stdout = await h.run(['restore', '-r', repo, 'latest', '--include', `${data}/etc/app.conf`, '--stdout'], env);
    expect(stdout.stdout).toBe('listen = 8080\n');
    const test = await h.run(['backup', 'test-restore', '-r', repo, '--json'], env);
    expect(test.code, test.stderr).toBe(0);
    expect(JSON.parse(test.stdout)).toMatchObject({ ok: true, files: 2, mismatches: [] });
  }, 60_000);

  it('-q leaves every quiet command silent on success, as restic\'s does', async () => {
    const copy = join(dir, 'quiet-copy');
    const runs = [
      ['backup', 'run', '-r', repo, data, '-q'],
      ['backup', 'init', '-r', copy, '--copy-from', repo, '-q'],
      ['restore', '-r', repo, 'latest', '--target', join(dir, 'quiet-restore'), '-q'],
      ['backup', 'copy', '-r', repo, '--to-repo', copy, '-q'],
      ['backup', 'check', '-r', copy, '--read-data', '-q'],
      ['backup', 'forget', '-r', copy, '--all-groups', '--keep-last', '1', '-q'],
      ['backup', 'prune', '-r', copy, '-q'],
    ];
    for (const args of runs) {
      const r = await h.run(args, env, 90_000); // init derives two keys: slow on a loaded machine
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout, args.join(' ')).toBe('');
    }
  }, 600_000);

  it('exit 3 and a list when files cannot be read (as an unprivileged user)', async () => {
    const user = await runAsUser();
    if (!user) return; // not root: cannot create an unreadable file that root-less tests could not read anyway
    const userRepo = join(dir, 'user-repo');
    const src = join(dir, 'user-data');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'ok.txt'), 'ok');
    await writeFile(join(src, 'secret.txt'), 'no');
    await chmod(join(src, 'secret.txt'), 0o000);
    await mkdir(userRepo);
    await chown(userRepo, user.uid, user.gid);
    await chmod(dir, 0o755);
    const asUser = (args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, ...env }, stdio: 'pipe' });
    asUser(['backup', 'init', '-r', userRepo]);
    let code = 0;
    let stderr = '';
    try {
      asUser(['backup', 'run', '-r', userRepo, src]);
    } catch (err) {
      code = (err as { status: number }).status;
      stderr = String((err as { stderr: Buffer }).stderr);
    }
    expect(code).toBe(3);
    expect(stderr).toMatch(/1 item\(s\) could not be read[\s\S]*secret\.txt: .*EACCES/);
  }, 60_000);

  it('a full disk fails the backup with a clear error and leaves the repository intact', async () => {
    const small = join(dir, 'small');
    await mkdir(small);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
    } catch {
      return; // not allowed to mount here
    }
    try {
      const tinyRepo = join(small, 'repo');
      expect((await h.run(['backup', 'init', '-r', tinyRepo], env)).code).toBe(0);
      await writeFile(join(data, 'small.txt'), 'small');
      const big = join(dir, 'big');
      await mkdir(big);
      await writeFile(join(big, 'big.bin'), randomBytes(3_000_000));
      const ok = await h.run(['backup', 'run', '-r', tinyRepo, join(data, 'etc'), '--json'], env);
      expect(ok.code, ok.stderr).toBe(0);
      const full = await h.run(['backup', 'run', '-r', tinyRepo, big], env);
      expect(full.code).toBe(1);
      expect(full.stderr).toMatch(/no space left[\s\S]*hint:/i);
      const check = await h.run(['backup', 'check', '-r', tinyRepo, '--read-data', '--json'], env);
      expect(JSON.parse(check.stdout)).toMatchObject({ ok: true, snapshots: 1 });
      expect(await readdir(join(tinyRepo, 'snapshots'))).toHaveLength(1);
    } finally {
      execFileSync('umount', [small]);
    }
  }, 60_000);

  it('forget shows what a policy keeps and why; key passwd rotates the password', async () => {
    const unselected = await h.run(['backup', 'forget', '-r', repo, '--keep-last', '1'], env);
    expect(unselected.code).toBe(2);
    expect(unselected.stderr).toMatch(/which snapshots[\s\S]*--policy NAME[\s\S]*--all-groups/);
    const forget = await h.run(['backup', 'forget', '-r', repo, '--all-groups', '--keep-last', '1', '--dry-run', '--json'], env);
    expect(forget.code, forget.stderr).toBe(0);
    const groups = JSON.parse(forget.stdout) as Array<{ keep: Array<{ reasons: string[] }> }>;
    expect(groups[0]!.keep[0]!.reasons.join()).toMatch(/last/);
    const bad = await h.run(['backup', 'forget', '-r', repo, '--keep-daily', 'many'], env);
    expect(bad.code).toBe(2);
    const file = join(dir, 'new-pass');
    await writeFile(file, 'a brand new password\n');
    const passwd = await h.run(['backup', 'key', 'passwd', '-r', repo, '--new-password-file', file], env);
    expect(passwd.code, passwd.stderr).toBe(0);
    expect((await h.run(['backup', 'ls', '-r', repo], env)).code).toBe(2);
    expect((await h.run(['backup', 'ls', '-r', repo, '--password-file', file])).code).toBe(0);
  }, 60_000);
});
