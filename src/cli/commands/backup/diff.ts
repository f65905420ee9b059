import type { Command } from 'commander';
import { type TreeNode, walkSnapshot } from '../../../backup/index.js';
import { print, printJSON } from '../../output.js';
import { addCommonOptions, addRepoOptions, openRepo, type RepoOptions } from './repo-options.js';

export function registerDiff(backup: Command): void {
  const command = backup.command('diff').description('what changed between two snapshots: added (+), removed (-), modified (M)');
  addCommonOptions(addRepoOptions(command))
    .argument('<from>', 'older snapshot id (prefix)')
    .argument('<to>', 'newer snapshot id (prefix) or "latest"')
    .action(async (from: string, to: string, options: RepoOptions) => {
      const repo = await openRepo(options);
      const index = await repo.loadIndex();
      const [a, b] = await Promise.all([repo.findSnapshot(from), repo.findSnapshot(to)]);
      const [before, after] = await Promise.all([a, b].map(async (s) => new Map((await walkSnapshot(repo, index, s.snapshot.tree, [])).map((n) => [n.path, n.node]))));
      const changes: Array<{ change: '+' | '-' | 'M'; path: string }> = [];
      for (const [path, node] of after!) {
        const old = before!.get(path);
        if (!old) changes.push({ change: '+', path });
        else if (modified(old, node)) changes.push({ change: 'M', path });
      }
      for (const path of before!.keys()) if (!after!.has(path)) changes.push({ change: '-', path });
      changes.sort((x, y) => x.path.localeCompare(y.path));
      if (options.json) return printJSON({ from: a.id, to: b.id, changes });
      for (const c of changes) print(`${c.change}  ${c.path}`);
      const count = (k: string) => changes.filter((c) => c.change === k).length;
      print(`${count('+')} added, ${count('-')} removed, ${count('M')} modified`);
    });
}

function modified(a: TreeNode, b: TreeNode): boolean {
  if (a.type !== b.type || a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || a.linkTarget !== b.linkTarget) return true;
  return a.type === 'file' && (a.content ?? []).join() !== (b.content ?? []).join();
}
