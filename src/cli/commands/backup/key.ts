import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { BulwarkError } from '../../../core/errors.js';
import { secretRegistry } from '../../../core/secrets.js';
import { print, printJSON } from '../../output.js';
import { addCommonOptions, addRepoOptions, openRepo, type RepoOptions } from './repo-options.js';

interface KeyOptions extends RepoOptions { newPasswordFile?: string }

export function registerKey(backup: Command): void {
  const key = backup.command('key').description('manage the passwords (keys) that open a repository; data is never re-encrypted');
  addCommonOptions(addRepoOptions(key.command('list').description('list keys; * marks the one that opened the repository'))).action(async (options: RepoOptions) => {
    const keys = await (await openRepo(options)).listKeys();
    if (options.json) return printJSON(keys);
    for (const k of keys) print(`${k.current ? '*' : ' '} ${k.id.slice(0, 8)}  created ${k.created}  by ${k.username}@${k.hostname}`);
  });
  addCommonOptions(addRepoOptions(key.command('add').description('add a key with a new password')))
    .requiredOption('--new-password-file <file>', 'file holding the new password')
    .action(async (options: KeyOptions) => {
      const id = await (await openRepo(options)).addKey(await newPassword(options.newPasswordFile!));
      if (options.json) return printJSON({ id });
      print(`added key ${id.slice(0, 8)}`);
    });
  addCommonOptions(addRepoOptions(key.command('remove').description('remove a key (not the one in use)')))
    .argument('<id>', 'key id prefix from `key list`')
    .action(async (id: string, options: RepoOptions) => {
      await (await openRepo(options)).removeKey(id);
      print(`removed key ${id}`);
    });
  addCommonOptions(addRepoOptions(key.command('passwd').description('rotate the password: add a key with the new one, then remove the current key')))
    .requiredOption('--new-password-file <file>', 'file holding the new password')
    .action(async (options: KeyOptions) => {
      const repo = await openRepo(options);
      const id = await repo.addKey(await newPassword(options.newPasswordFile!));
      await repo.backend.remove('keys', repo.keyId);
      if (options.json) return printJSON({ id, removed: repo.keyId });
      print(`password changed: key ${repo.keyId.slice(0, 8)} replaced by ${id.slice(0, 8)}`);
    });
}

async function newPassword(file: string): Promise<string> {
  let password: string;
  try {
    password = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    throw new BulwarkError('USAGE', `cannot read ${file}: ${(err as Error).message}`, { hint: 'check the path and permissions' });
  }
  if (password.length < 8) throw new BulwarkError('USAGE', 'the new password is shorter than 8 characters', { hint: 'use a long random password, e.g. `openssl rand -base64 32`' });
  secretRegistry.add(password);
  return password;
}
