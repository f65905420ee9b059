import type { Command } from 'commander';
import { registerCopy } from './copy.js';
import { registerDiff } from './diff.js';
import { registerInit } from './init.js';
import { registerKey } from './key.js';
import { registerLs } from './ls.js';
import { registerMaintenance } from './maintenance.js';
import { registerRun } from './run.js';
import { registerTestRestore } from './test-restore.js';
import { registerWal } from './wal.js';

import { closeTrackedRepos } from './repo-options.js';
import { registerRestore as registerRestoreCommand } from './restore.js';

export function registerBackup(program: Command): void {
  const backup = program.command('backup').description('encrypted, deduplicated backups: init, run, ls, diff, forget, prune, check, copy, key, test-restore')
    .hook('postAction', closeTrackedRepos);
  registerInit(backup);
  registerRun(backup);
  registerLs(backup);
  registerDiff(backup);
  registerMaintenance(backup);
  registerCopy(backup);
  registerKey(backup);
  registerTestRestore(backup);
  registerWal(backup);
}

export function registerRestore(program: Command): void {
  registerRestoreCommand(program);
  program.commands.find((c) => c.name() === 'restore')?.hook('postAction', closeTrackedRepos);
}
