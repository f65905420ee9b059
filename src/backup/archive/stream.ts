import type { Readable } from 'node:stream';
import { Chunker, gearTable } from '../chunker/index.js';
import type { BlobWriter } from '../repo/blob-writer.js';
import type { Repository } from '../repo/repository.js';
import type { TreeNode } from '../repo/types.js';
import type { ArchiveOptions } from './archiver.js';

/** Standard input (or any stream) as one file in a one-entry tree. Chunked on this thread: streams are rarely the bottleneck. */
export async function archiveStream(repo: Repository, writer: BlobWriter, input: Readable, filename: string, options: ArchiveOptions): Promise<{ tree: string; size: number }> {
  const chunker = new Chunker(repo.config.chunker, gearTable(repo.master.chunker));
  const content: string[] = [];
  let size = 0;
  const store = async (chunk: Buffer): Promise<void> => {
    content.push(await writer.save('data', chunk));
    options.onProgress?.({ files: 0, bytes: size, storedBytes: writer.stats.storedBytes, currentPath: filename });
  };
  for await (const data of input) {
    options.signal?.throwIfAborted();
    const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data as string);
    size += buffer.length;
    for (const chunk of chunker.push(buffer)) await store(chunk);
  }
  const last = chunker.finish();
  if (last && last.length > 0) await store(last);
  const now = (BigInt(Date.now()) * 1_000_000n).toString();
  const node: TreeNode = { name: filename, type: 'file', mode: 0o644, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, mtimeNs: now, size, content };
  const tree = await writer.save('tree', Buffer.from(JSON.stringify({ nodes: [node] })));
  return { tree, size };
}
