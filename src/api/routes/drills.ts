import { Hono } from 'hono';
import { BulwarkError } from '../../core/errors.js';
import { drillTrends, reportHtml, reportJson, reportMarkdown, type DrillReport, type ScheduledDrillView } from '../../drills/index.js';
import type { DrillRunsStore } from '../../store/index.js';

/** What the drill routes read: the recorded runs, and the daemon's schedule of drills. */
export interface DrillRouteDependencies {
  runs: Pick<DrillRunsStore, 'list' | 'get'>;
  schedule: () => ScheduledDrillView[];
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
const FORMATS = ['json', 'html', 'markdown'] as const;

/**
 * Drill runs: the list (newest first, without their reports) with each
 * drill's trend and schedule; one run's report as JSON, a self-contained HTML
 * page or Markdown (`?format=`).
 */
export function drillRoutes(deps: DrillRouteDependencies): Hono {
  const app = new Hono();
  app.get('/drills', async (c) => {
    const drill = c.req.query('drill');
    const runs = await deps.runs.list({ drill, limit: parseLimit(c.req.query('limit')) });
    return c.json({ runs: runs.map(({ report: _report, ...r }) => r), trends: drillTrends(runs), schedule: deps.schedule() });
  });

  app.get('/drills/:id', async (c) => {
    const id = c.req.param('id');
    const format = parseFormat(c.req.query('format'));
    const run = await deps.runs.get(id);
    if (!run) throw new BulwarkError('NOT_FOUND', `no single drill run matches "${id}"`, { hint: 'see GET /api/v1/drills; give more characters of the id' });
    const report = run.report as DrillReport;
    if (format === 'html') return c.html(reportHtml(report));
    if (format === 'markdown') return c.body(reportMarkdown(report), 200, { 'content-type': 'text/markdown; charset=utf-8' });
    return c.body(reportJson(report), 200, { 'content-type': 'application/json; charset=utf-8' });
  });
  return app;
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1) throw new BulwarkError('BAD_REQUEST', `limit "${raw}" is not a positive whole number`, { hint: `e.g. ?limit=20 (at most ${MAX_LIMIT})` });
  return Math.min(limit, MAX_LIMIT);
}

function parseFormat(raw: string | undefined): (typeof FORMATS)[number] {
  if (raw === undefined) return 'json';
  if ((FORMATS as readonly string[]).includes(raw)) return raw as (typeof FORMATS)[number];
  throw new BulwarkError('BAD_REQUEST', `format "${raw}" is not json, html or markdown`, { hint: 'omit it for JSON, or pass ?format=html or ?format=markdown' });
}
