import { Hono } from 'hono';
import { BulwarkError } from '../../core/errors.js';
import type { BackupScheduler } from '../../backup/index.js';

/** What the backup routes need from the running scheduler. */
export type BackupAdmin = Pick<BackupScheduler, 'status' | 'history' | 'runNow' | 'walArchive'>;

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

/**
 * Backup policies: their schedule, last runs and age against the RPO; the
 * history of one policy; and "run it now".
 */
export function backupRoutes(scheduler: BackupAdmin): Hono {
  const app = new Hono();
  app.get('/backups', async (c) => {
    const wal = new Map((await scheduler.walArchive()).map(({ lines: _lines, ...w }) => [w.policy, w]));
    return c.json({ policies: scheduler.status().map((p) => ({ ...p, wal_archive: wal.get(p.policy) ?? null })) });
  });

  app.get('/backups/:policy/runs', async (c) => {
    const policy = c.req.param('policy');
    const runs = await scheduler.history(policy, parseLimit(c.req.query('limit')));
    return c.json({ policy, runs });
  });

  app.post('/backups/:policy/run', (c) => {
    const policy = c.req.param('policy');
    const kind = parseKind(c.req.query('kind'));
    const result = scheduler.runNow(policy, kind);
    if (!result.started) {
      throw new BulwarkError('REPO_LOCKED', `a ${kind} run of policy "${policy}" is already ${result.running.started_at ? 'running' : 'queued'} (run ${result.running.id})`, {
        hint: `wait for it to finish: GET /api/v1/backups/${policy}/runs`,
        context: { running: result.running },
      });
    }
    return c.json({ policy, kind: result.kind, run_id: result.id, status: 'started' }, 202);
  });
  return app;
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1) throw new BulwarkError('BAD_REQUEST', `limit "${raw}" is not a positive whole number`, { hint: `e.g. ?limit=20 (at most ${MAX_LIMIT})` });
  return Math.min(limit, MAX_LIMIT);
}

function parseKind(raw: string | undefined): 'backup' | 'verify' {
  if (raw === undefined || raw === 'backup' || raw === 'verify') return raw ?? 'backup';
  throw new BulwarkError('BAD_REQUEST', `kind "${raw}" is not backup or verify`, { hint: 'omit it for a backup, or pass ?kind=verify' });
}
