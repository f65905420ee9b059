import type { Command } from 'commander';
import { type SnapshotRef, walkSnapshot } from '../../../backup/index.js';
import { print, printJSON } from '../../output.js';
import { formatBytes } from '../../progress.js';
import { addCommonOptions, addRepoOptions, openRepo, type RepoOptions } from './repo-options.js';

interface LsOptions extends RepoOptions { tag?: string; policy?: string }

export function registerLs(backup: Command): void {
  const command = backup.command('ls').description('list snapshots, or the files of one snapshot (works on a bare repository: the catalog lives inside it)');
  addCommonOptions(addRepoOptions(command))
    .argument('[snapshot]', 'a snapshot id (prefix) or "latest": list its files')
    .argument('[path]', 'only under this path of the snapshot')
    .option('--tag <tag>', 'only snapshots with this tag')
    .option('--policy <name>', 'only snapshots made by this policy')
    .action(async (snapshot: string | undefined, path: string | undefined, options: LsOptions) => {
      const repo = await openRepo(options);
      if (snapshot) return listFiles(await repo.findSnapshot(snapshot), path, options, repo);
      const all = (await repo.listSnapshots()).filter((s) => (!options.tag || s.snapshot.tags.includes(options.tag)) && (!options.policy || s.snapshot.source.policy === options.policy));
      if (options.json) return printJSON(all.map((s) => ({ id: s.id, ...s.snapshot })));
      if (all.length === 0) return print(`no snapshots in ${repo.backend.location}`);
      print(`${'ID'.padEnd(10)}${'TIME'.padEnd(22)}${'HOST'.padEnd(16)}${'SOURCE'.padEnd(18)}${'SIZE'.padStart(10)}  PATHS`);
      for (const s of all) print(row(s));
      print(`${all.length} snapshot(s)`);
    });
}

function row({ id, snapshot: s }: SnapshotRef): string {
  const source = s.source.policy ? `${s.source.kind}:${s.source.policy}` : s.source.kind;
  return `${id.slice(0, 8).padEnd(10)}${s.time.slice(0, 19).replace('T', ' ').padEnd(22)}${s.hostname.slice(0, 15).padEnd(16)}${source.slice(0, 17).padEnd(18)}${formatBytes(s.summary.bytes).padStart(10)}  ${s.paths.join(' ')}${s.summary.skipped.length ? `  (partial: ${s.summary.skipped.length} skipped)` : ''}`;
}

async function listFiles(ref: SnapshotRef, path: string | undefined, options: LsOptions, repo: Awaited<ReturnType<typeof openRepo>>): Promise<void> {
  const index = await repo.loadIndex();
  const nodes = await walkSnapshot(repo, index, ref.snapshot.tree, path ? [path] : []);
  if (options.json) return printJSON(nodes.map((n) => ({ path: n.path, type: n.node.type, size: n.node.size, mode: n.node.mode.toString(8), mtime: new Date(Number(BigInt(n.node.mtimeNs) / 1_000_000n)).toISOString() })));
  for (const n of nodes) print(`${n.node.type === 'dir' ? 'd' : n.node.type === 'symlink' ? 'l' : '-'}${n.node.mode.toString(8).padStart(4, '0')} ${String(n.node.size ?? '').padStart(12)}  ${n.path}${n.node.linkTarget ? ` -> ${n.node.linkTarget}` : ''}`);
}
