import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Regular files and their bytes under a directory, counted from the disk itself. */
export async function countTree(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = await countTree(path);
      files += sub.files;
      bytes += sub.bytes;
    } else if (entry.isFile()) {
      files++;
      bytes += (await lstat(path)).size;
    }
  }
  return { files, bytes };
}
