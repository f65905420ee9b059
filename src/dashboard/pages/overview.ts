import type { DashboardDeps } from '../deps.js';
import { html, statusCell, table, verdict, type Html } from '../html.js';
import { ownerPromises, planOf, type Check, type OwnerPromises } from '../promises.js';

/** Promises beside evidence: per tier, then per service and database. */
export async function overviewBody(deps: DashboardDeps): Promise<Html> {
  const config = deps.config();
  const status = new Map(deps.probes.ownerViews().map((o) => [`${o.kind}/${o.name}`, o.status]));
  const rows = ownerPromises(await deps.slo.owners(), planOf(config), deps.backups.status(), await deps.backups.walArchive());
  const broken = rows.filter((r) => [r.availability, r.rto, r.rpo].some((c) => c.ok === false));
  return html`<p>${broken.length === 0 ? 'Every promise with evidence is kept.' : html`<strong class="bad">${broken.length} of ${rows.length} not kept.</strong>`}</p>
<h2>Per tier</h2>
${tierTable(config.sla_tiers, rows)}
<h2>Per service and database</h2>
${table(['name', 'kind', 'status', 'tier', 'availability promised', 'measured', 'verdict', 'RTO promised', 'modelled', 'verdict', 'RPO promised', 'backups and WAL', 'verdict'],
    rows.map((r) => ownerRow(r, status.get(`${r.kind}/${r.name}`) ?? 'unknown')))}`;
}

function tierTable(tiers: Record<string, { availability: number; rto: number; rpo: number }>, rows: readonly OwnerPromises[]): Html {
  return table(['tier', 'availability', 'RTO', 'RPO', 'members', 'promises'], Object.entries(tiers).map(([name, t]) => {
    const members = rows.filter((r) => r.tier === name);
    const broken = members.filter((r) => [r.availability, r.rto, r.rpo].some((c) => c.ok === false));
    return html`<tr><th scope="row">${name}</th><td>${(t.availability * 100).toFixed(3)}%</td><td>${seconds(t.rto)}</td><td>${seconds(t.rpo)}</td><td>${members.map((m) => m.name).join(', ') || '–'}</td>
<td>${broken.length === 0 ? verdict(members.length === 0 ? null : true) : verdict(false, `${broken.map((b) => b.name).join(', ')}`)}</td></tr>`;
  }));
}

function ownerRow(r: OwnerPromises, status: string): Html {
  return html`<tr><th scope="row">${r.name}</th><td>${r.kind}</td><td>${statusCell(`${r.kind}/${r.name}`, status)}</td><td>${r.tier ?? '–'}</td>${checkCells(r.availability)}${checkCells(r.rto)}${checkCells(r.rpo)}</tr>`;
}

function checkCells(c: Check): Html {
  return html`<td>${c.target}</td><td>${c.evidence}</td><td>${c.na ? html`<span class="muted">n/a</span>` : verdict(c.ok, c.reason)}</td>`;
}

function seconds(ms: number): string {
  return ms >= 3_600_000 ? `${ms / 3_600_000} h` : ms >= 60_000 ? `${ms / 60_000} min` : `${ms / 1000} s`;
}
