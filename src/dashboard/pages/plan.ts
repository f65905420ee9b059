import type { DashboardDeps } from '../deps.js';
import { html, percent, table, verdict, type Html } from '../html.js';
import { planOf, short } from '../promises.js';

/** The availability plan: modelled availability against the tier, recovery against RTO, and the single points of failure. */
export function planBody(deps: DashboardDeps): Html {
  const plan = planOf(deps.config());
  return html`${table(['component', 'kind', 'tier', 'target', 'modelled (own)', 'modelled (end to end)', 'meets target', 'recovery', 'RTO', 'strategy'], plan.components.map((c) => html`<tr>
<th scope="row">${c.name}</th><td>${c.kind}</td><td>${c.tier ?? '–'}</td><td>${percent(c.target?.availability)}</td><td>${percent(c.availability.own)}</td><td>${percent(c.availability.endToEnd)}${c.availability.approximate ? ' (approximate)' : ''}</td>
<td>${verdict(c.meetsTarget)}</td><td>${c.recovery.estimatedRecoveryMs === null ? '–' : short(c.recovery.estimatedRecoveryMs)}</td><td>${c.recovery.rtoMs === null ? '–' : short(c.recovery.rtoMs)}</td><td>${c.strategy ? c.strategy.strategy : '–'}</td></tr>`), 'Availability plan')}
<h2>Single points of failure</h2>
${table(['component', 'scope', 'domain', 'what happens'], plan.spofs.map((s) => html`<tr><th scope="row">${s.component}</th><td>${s.scope}</td><td>${s.domain}</td><td>${s.message}</td></tr>`))}
<h2>Findings</h2>
${table(['severity', 'component', 'finding'], plan.findings.map((f) => html`<tr><td class="${f.severity === 'error' ? 'bad' : f.severity === 'warning' ? 'warn' : ''}">${f.severity}</td><td>${f.component ?? '–'}</td><td>${f.message}</td></tr>`))}`;
}
