import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePostgresBinDir } from './bin-dir.js';
import { resolveRunAs } from './runtime.js';

describe('resolveRunAs', () => {
  it('as root: run_as is required, must exist and must not be root', async () => {
    await expect(resolveRunAs('main', undefined, 0)).rejects.toThrow('bulwark runs as root and PostgreSQL refuses to run as root: databases.main.postgres.run_as is not set');
    await expect(resolveRunAs('main', 'no-such-user-bulwark', 0)).rejects.toThrow('databases.main.postgres.run_as: there is no user "no-such-user-bulwark" on this host');
    await expect(resolveRunAs('main', 'root', 0)).rejects.toThrow('databases.main.postgres.run_as is "root", which is root: PostgreSQL refuses to run as root');
    expect(await resolveRunAs('main', 'nobody', 0)).toEqual({ uid: expect.any(Number), gid: expect.any(Number) });
  });

  it('not root: PostgreSQL runs as this user; run_as may only name it', async () => {
    expect(await resolveRunAs('main', undefined, 1234)).toBeUndefined();
    await expect(resolveRunAs('main', 'root', 1234)).rejects.toThrow('databases.main.postgres.run_as is "root", but bulwark runs as uid 1234');
    const nobody = await resolveRunAs('main', 'nobody', 0);
    expect(await resolveRunAs('main', 'nobody', nobody?.uid)).toBeUndefined();
  });
});

describe('resolvePostgresBinDir', () => {
  it('takes a configured directory only when it holds postgres', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bulwark-bindir-'));
    try {
      await expect(resolvePostgresBinDir(dir)).rejects.toThrow(`bin_dir ${dir} has no postgres binary`);
      await writeFile(join(dir, 'postgres'), '');
      expect(await resolvePostgresBinDir(dir)).toBe(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
