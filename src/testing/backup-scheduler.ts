import type { BackupRunStore, RunContext, RunExecutor } from '../backup/index.js';
import { parseConfigText, type BulwarkConfig } from '../config/index.js';
import type { BackupRunKind, BackupRunRecord, BackupRunsQuery, LastBackupRuns } from '../store/index.js';
export { memoryLogger } from './memory-logger.js';

export function testConfig(policies: string): BulwarkConfig {
  const yaml = `sla_tiers:
  gold: { availability: 99.9%, rto: 1h, rpo: 2h }
databases:
  main: { tier: gold, postgres: { members: [ { name: a, port: 5432 } ] } }
backups:
  repositories:
    local: { path: /nonexistent/local, password: test-password }
    offsite: { path: /nonexistent/offsite, password: test-password }
  policies:
${policies}`;
  const loaded = parseConfigText(yaml, 't.yaml', { lint: false });
  if (!loaded.config) throw new Error(`bad test config: ${JSON.stringify(loaded.findings)}`);
  return loaded.config;
}

/** The store's backup-run methods, in memory. */
export class MemoryRunStore implements BackupRunStore {
  readonly runs: BackupRunRecord[] = [];

  async recordBackupRun(run: BackupRunRecord): Promise<void> {
    this.runs.push(run);
  }

  async listBackupRuns(query: BackupRunsQuery): Promise<BackupRunRecord[]> {
    return this.sorted().filter((r) => (query.policy === undefined || r.policy === query.policy) && (query.kind === undefined || r.kind === query.kind)).slice(0, query.limit);
  }

  async lastBackupRuns(): Promise<LastBackupRuns[]> {
    const out = new Map<string, LastBackupRuns>();
    for (const run of this.sorted()) {
      const k = `${run.policy}/${run.kind}`;
      const entry = out.get(k) ?? { policy: run.policy, kind: run.kind, last: run, lastSuccess: null };
      if (run.ok && !entry.lastSuccess) entry.lastSuccess = run;
      out.set(k, entry);
    }
    return [...out.values()];
  }

  private sorted(): BackupRunRecord[] {
    return [...this.runs].sort((a, b) => b.startedAt - a.startedAt);
  }
}

export function record(policy: string, startedAt: number, overrides: Partial<BackupRunRecord> = {}): BackupRunRecord {
  return {
    id: `${policy}-${startedAt}`, policy, kind: 'backup', startedAt, finishedAt: startedAt + 1000, durationMs: 1000, ok: true, partial: false,
    repository: 'local', snapshotId: 'abcdef0123456789', bytes: 2048, addedBytes: 100, storedBytes: 80, files: 3, error: null, copies: [], ...overrides,
  };
}

interface Call { ctx: RunContext; release(result?: Partial<BackupRunRecord>): void }

/**
 * An executor the test drives: each run waits until released (or until its
 * signal aborts, which makes it a failed run), unless `instant` is set.
 */
export function controlledExecutor(options: { instant?: boolean } = {}): { executor: RunExecutor; calls: Call[] } {
  const calls: Call[] = [];
  const executor: RunExecutor = (ctx) => new Promise<BackupRunRecord>((resolve) => {
    const started = ctx.now();
    const finish = (extra: Partial<BackupRunRecord>) => {
      const finished = ctx.now();
      resolve(record(ctx.policy, started, { id: ctx.id, kind: ctx.kind as BackupRunKind, finishedAt: finished, durationMs: finished - started, ...extra }));
    };
    calls.push({ ctx, release: (result = {}) => finish(result) });
    if (options.instant) finish({});
    ctx.signal.addEventListener('abort', () => finish({ ok: false, snapshotId: null, error: String((ctx.signal.reason as Error).message) }), { once: true });
  });
  return { executor, calls };
}
