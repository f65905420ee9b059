import type { MasterIndex } from '../repo/master-index.js';
import type { Repository } from '../repo/repository.js';
import type { TreeNode } from '../repo/types.js';

export interface PlannedNode { path: string; node: TreeNode; depth: number }

/** Every node of a snapshot under the given paths (or all), parents before children. */
export async function walkSnapshot(repo: Repository, index: MasterIndex, tree: string, include: readonly string[], signal?: AbortSignal): Promise<PlannedNode[]> {
  const out: PlannedNode[] = [];
  const wanted = include.map((p) => '/' + p.split('/').filter(Boolean).join('/'));
  const visit = async (treeId: string, dir: string, depth: number): Promise<void> => {
    signal?.throwIfAborted();
    const tree = await repo.loadTree(index, treeId, signal);
    for (const node of tree.nodes) {
      const path = dir === '/' ? `/${node.name}` : `${dir}/${node.name}`;
      if (!selected(path, wanted)) continue;
      out.push({ path, node, depth });
      if (node.type === 'dir' && node.subtree) await visit(node.subtree, path, depth + 1);
    }
  };
  await visit(tree, '/', 0);
  return out;
}

/** A path is restored when it is inside an included path, or on the way to one. */
function selected(path: string, wanted: string[]): boolean {
  if (wanted.length === 0) return true;
  return wanted.some((w) => w === '/' || path === w || path.startsWith(w + '/') || w.startsWith(path + '/'));
}
