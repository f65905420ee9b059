import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export interface ChangeTriggerOptions {
  /** Quiet time after the last change before a run starts: an editor's save or a deploy is many events. */
  debounceMs: number;
  /** At least this long between the starts of two runs, however often things change. */
  minIntervalMs: number;
  now: () => number;
  /** When the policy's latest run started, if any. */
  lastStart: () => number | null;
  /** True while a run of the policy is queued or going: the trigger waits for it, then runs once more. */
  busy: () => boolean;
  fire: () => void;
}

/**
 * `schedule: on change`: turns a stream of file-change events into runs, at
 * most one per `minIntervalMs`, each after `debounceMs` of quiet. A change seen
 * while a run is going is not lost: another run follows it.
 */
export class ChangeTrigger {
  private timer: NodeJS.Timeout | undefined;
  private pending = false;
  private stopped = false;

  constructor(private readonly options: ChangeTriggerOptions) {}

  get waiting(): boolean {
    return this.pending;
  }

  changed(): void {
    if (this.stopped) return;
    this.pending = true;
    this.arm(this.options.now() + this.options.debounceMs);
  }

  /** Called when a run of the policy ended. */
  runFinished(): void {
    if (this.pending && this.timer === undefined) this.arm(this.options.now());
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.due(), Math.max(0, at - this.options.now()));
    this.timer.unref();
  }

  private due(): void {
    this.timer = undefined;
    if (this.stopped || !this.pending || this.options.busy()) return; // runFinished() picks it up
    const last = this.options.lastStart();
    const earliest = last === null ? 0 : last + this.options.minIntervalMs;
    if (this.options.now() < earliest) return this.arm(earliest);
    this.pending = false;
    this.options.fire();
  }
}

/**
 * Watches the policy's source paths: directories recursively, a file through
 * its directory (editors replace files by rename, which a watch on the file
 * itself would lose). Returns a function that stops watching.
 */
export async function watchPaths(paths: readonly string[], onChange: () => void, onError: (path: string, err: Error) => void): Promise<() => void> {
  const watchers: FSWatcher[] = [];
  for (const path of paths) {
    try {
      const isDir = (await stat(path)).isDirectory();
      const watcher = isDir
        ? watch(path, { recursive: true }, () => onChange())
        : watch(dirname(path), (_event, name) => { if (name === null || name === basename(path)) onChange(); });
      watcher.on('error', (err) => onError(path, err));
      watchers.push(watcher);
    } catch (err) {
      onError(path, err as Error);
    }
  }
  return () => { for (const w of watchers) w.close(); };
}
