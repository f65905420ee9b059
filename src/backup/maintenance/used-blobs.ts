import type { MasterIndex } from '../repo/master-index.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotRef } from '../repo/types.js';

/** Every blob (trees and content) that any of the snapshots needs. Fails if a tree cannot be read: pruning on a partial view would delete live data. */
export async function usedBlobs(repo: Repository, index: MasterIndex, snapshots: SnapshotRef[], signal?: AbortSignal): Promise<Set<string>> {
  const used = new Set<string>();
  const visit = async (tree: string): Promise<void> => {
    if (used.has(tree)) return;
    used.add(tree);
    for (const node of (await repo.loadTree(index, tree, signal)).nodes) {
      for (const id of node.content ?? []) used.add(id);
      if (node.subtree) await visit(node.subtree);
    }
  };
  for (const s of snapshots) await visit(s.snapshot.tree);
  return used;
}
