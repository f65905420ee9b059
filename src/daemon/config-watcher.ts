import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Calls `onChange` when the file changes. Watches the directory, not the file:
 * editors and config managers replace files by rename, which ends a watch on
 * the old inode. Bursts of events are folded into one call.
 */
export class ConfigWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly file: string, private readonly onChange: () => void, private readonly debounceMs = 200) {}

  start(): void {
    const name = basename(this.file);
    this.watcher = watch(dirname(this.file), (_event, changed) => {
      if (changed !== null && changed.toString() !== name) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(this.onChange, this.debounceMs);
    });
    this.watcher.on('error', () => this.stop());
  }

  stop(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
