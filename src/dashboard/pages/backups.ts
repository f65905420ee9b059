import { Hono } from 'hono';
import { BulwarkError } from '../../core/errors.js';
import type { BackupAdmin } from '../../api/index.js';
import { act } from '../actions.js';
import type { DashboardDeps } from '../deps.js';
import { BASE, type DashEnv } from '../guard.js';
import { csrfField, duration, html, table, verdict, when, type Html } from '../html.js';
import type { Session } from '../sessions.js';

type Policy = ReturnType<BackupAdmin['status']>[number];

/** Backup policies: last run, age against the RPO, copies, WAL archiving, and "run now". */
export async function backupsBody(deps: DashboardDeps, session: Session): Promise<Html> {
  const policies = deps.backups.status();
  const wal = await deps.backups.walArchive();
  return html`${table(['policy', 'source', 'schedule', 'last run', 'last success', 'age', 'RPO', 'within RPO', 'copies', 'run'], policies.map((p) => policyRow(p, session)))}
${wal.length > 0 ? html`<h2>WAL archiving</h2>${table(['policy', 'mode', 'pending', 'lag', 'last archived', 'last error'], wal.map((w) => html`<tr><th scope="row">${w.policy}</th><td>${w.mode}</td><td>${w.pending ?? '–'}</td><td>${w.lagSeconds === null ? '–' : `${w.lagSeconds} s`}</td><td>${w.lastArchived ?? '–'} ${when(w.lastArchivedAt)}</td><td class="${w.failing ? 'bad' : ''}">${w.lastError ?? '–'}</td></tr>`))}` : ''}`;
}

function policyRow(p: Policy, session: Session): Html {
  const source = p.source.paths ? `paths: ${p.source.paths.join(', ')}` : `${p.source.kind}: ${p.source.name ?? ''}`;
  const last = p.last_run ? html`${p.last_run.ok ? 'ok' : html`<span class="bad">failed: ${p.last_run.error ?? ''}</span>`} ${when(p.last_run.started_at)}` : html`never`;
  const running = p.running.length > 0
    ? html`<span class="muted">${p.running.map((r) => `${r.kind} ${r.started_at ? 'running' : 'queued'}`).join(', ')}</span>`
    : p.source.kind === 'stdin' ? html`<span class="muted">fed by a pipe</span>`
      : html`<form class="inline" method="post" action="${BASE}/backups/${encodeURIComponent(p.policy)}/run">${csrfField(session)}<button type="submit">Run ${p.policy} now</button></form>`;
  return html`<tr><th scope="row">${p.policy}</th><td>${source}</td><td>${p.schedule.text}</td><td>${last}</td><td>${p.last_success ? when(p.last_success.started_at) : 'never'}</td>
<td>${duration(p.age_ms)}</td><td>${duration(p.rpo_ms)}</td><td>${p.rpo_ms === null ? html`<span class="muted">no RPO</span>` : verdict(p.within_rpo, p.within_rpo === false ? 'older than the RPO' : undefined)}</td>
<td>${p.copies.map((c) => html`${c.repository}${c.primary ? ' (primary)' : ''}: ${duration(c.age_ms)} old<br>`)}</td><td>${running}</td></tr>`;
}

/** "Run now" through the scheduler's run function, as POST /api/v1/backups/:policy/run does. */
export function backupActions(deps: DashboardDeps): Hono<DashEnv> {
  const app = new Hono<DashEnv>();
  app.post('/backups/:policy/run', (c) => act(c, deps, `${BASE}/backups`, async (actor) => {
    const policy = c.req.param('policy');
    const result = deps.backups.runNow(policy, 'backup');
    if (!result.started) throw new BulwarkError('REPO_LOCKED', `a backup of "${policy}" is already ${result.running.started_at ? 'running' : 'queued'} (run ${result.running.id})`);
    deps.log.info({ policy, run: result.id, by: actor }, 'backup run started from the dashboard');
    return `backup of ${policy} started (run ${result.id})`;
  }));
  return app;
}
