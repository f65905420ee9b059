import { Hono } from 'hono';
import type { ProbeEngine } from '../../probes/index.js';
import type { SloReporter } from '../../slo/index.js';

/** Per service and database: live status, endpoints from every vantage point, and SLO figures. */
export function serviceRoutes(engine: ProbeEngine, slo: SloReporter): Hono {
  const app = new Hono();
  app.get('/services', async (c) => {
    const figures = await slo.owners();
    const status = new Map(engine.ownerViews().map((o) => [`${o.kind}/${o.name}`, o.status]));
    const targets = engine.targetViews();
    const owners = figures.map((f) => ({
      ...f,
      status: status.get(`${f.kind}/${f.name}`) ?? 'unknown',
      members: targets.filter((t) => t.owner.kind === f.kind && t.owner.name === f.name).map((t) => ({
        id: t.id, member: t.member, zone: t.zone, backup: t.backup, type: t.type, status: t.status, since: t.since, reason: t.reason,
        quorum: t.quorum, vantages: t.vantages.map((v) => ({ vantage: v.vantage, reporting: v.reporting, status: v.status, last: v.lastResult })),
      })),
    }));
    return c.json({ services: owners, agents: engine.agentViews() });
  });
  return app;
}
