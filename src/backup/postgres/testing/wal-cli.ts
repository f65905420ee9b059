/**
 * A stand-in for `bulwark wal archive|restore` in tests, over a
 * DirectoryWalStore whose folder is the "policy":
 *   wal archive <dir> <path>        (archive_command)
 *   wal restore <dir> <name> <dest> (restore_command; see RESTORE_EXIT)
 */
import { errorMessage, isBulwarkError } from '../../../core/errors.js';
import { archiveSegment, DirectoryWalStore, fetchSegment, RESTORE_EXIT } from '../wal-archive.js';

async function main(args: string[]): Promise<number> {
  const [group, action, dir, ...rest] = args;
  if (group !== 'wal' || dir === undefined) throw new Error(`usage: wal archive|restore <dir> ... (got ${args.join(' ')})`);
  const store = new DirectoryWalStore(dir);
  if (action === 'archive' && rest.length === 1) {
    await archiveSegment(store, rest[0] ?? '');
    return 0;
  }
  if (action === 'restore' && rest.length === 2) {
    return RESTORE_EXIT[await fetchSegment(store, rest[0] ?? '', rest[1] ?? '')];
  }
  throw new Error(`usage: wal archive <dir> <path> | wal restore <dir> <name> <dest> (got ${args.join(' ')})`);
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  process.stderr.write(`bulwark: ${isBulwarkError(err) ? err.describe() : errorMessage(err)}\n`);
  process.exitCode = process.argv[3] === 'restore' ? RESTORE_EXIT.failed : 1;
});
