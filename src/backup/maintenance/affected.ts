import type { MasterIndex } from '../repo/master-index.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotRef } from '../repo/types.js';

export interface Affected { snapshot: string; time: string; paths: string[] }

/** Which snapshots and files contain any of the damaged blobs (content or trees). */
export async function affectedFiles(repo: Repository, index: MasterIndex, snapshots: SnapshotRef[], damaged: Set<string>, signal?: AbortSignal): Promise<Affected[]> {
  const out: Affected[] = [];
  for (const s of snapshots) {
    const paths: string[] = [];
    const visit = async (tree: string, dir: string): Promise<void> => {
      if (damaged.has(tree)) {
        paths.push(`${dir || '/'} (directory listing)`);
        return;
      }
      let nodes;
      try {
        nodes = (await repo.loadTree(index, tree, signal)).nodes;
      } catch {
        paths.push(`${dir || '/'} (directory listing)`);
        return;
      }
      for (const node of nodes) {
        const path = `${dir}/${node.name}`;
        if (node.content?.some((id) => damaged.has(id))) paths.push(path);
        if (node.subtree) await visit(node.subtree, path);
      }
    };
    await visit(s.snapshot.tree, '');
    if (paths.length > 0) out.push({ snapshot: s.id, time: s.snapshot.time, paths });
  }
  return out;
}
