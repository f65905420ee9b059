import { STATUS_LABEL } from '../components.js';
import type { ComponentView, GroupView, ScheduledMaintenance, StatusSnapshot } from '../types.js';
import { uptimeBar } from './bars.js';
import { html, percent, time, type Html } from './html.js';
import { incidentSummary, layout } from './layout.js';

function componentRow(c: ComponentView, days: number): Html {
  return html`<li class="comp"><p class="row"><span class="name">${c.name}</span><span class="state st-${c.status}">${STATUS_LABEL[c.status]}</span></p>${uptimeBar(c, days)}<p class="uptime">${percent(c.uptime)} uptime</p></li>`;
}

function groupSection(group: GroupView, days: number): Html {
  return html`<section class="group" aria-labelledby="${group.id}"><h2 id="${group.id}">${group.name}</h2>
<ul class="comps">${group.components.map((c) => componentRow(c, days))}</ul>
<p class="axis" aria-hidden="true"><span>${days} days ago</span><span>Today</span></p></section>`;
}

function maintenanceItem(m: ScheduledMaintenance): Html {
  return html`<li><p><strong>${m.name}</strong> <span class="tag">${m.status === 'in_progress' ? 'In progress' : 'Scheduled'}</span></p>
<p>Affects ${m.components.join(', ')} · ${time(m.start)} to ${time(m.end)}</p></li>`;
}

const LEGEND = html`<p class="legend"><span class="key ok">No downtime</span> <span class="key minor">Under 1% down</span> <span class="key major">1% or more down</span> <span class="key maint">Maintenance</span> <span class="key nodata">No data</span></p>`;

export function homePage(snap: StatusSnapshot): Html {
  const body = html`<section class="overall ind-${snap.overall.indicator}" aria-live="polite"><h1>${snap.overall.description}</h1>${snap.description ? html`<p>${snap.description}</p>` : ''}</section>
${snap.active.length > 0 ? html`<section class="active"><h2>Active incidents</h2>${snap.active.map((i) => incidentSummary(i, 'h3'))}</section>` : ''}
${snap.maintenance.length > 0 ? html`<section class="maintenance"><h2>Scheduled maintenance</h2><ul>${snap.maintenance.map(maintenanceItem)}</ul></section>` : ''}
${snap.groups.map((g) => groupSection(g, snap.historyDays))}
${LEGEND}
<p class="more"><a href="/history">Past incidents</a></p>`;
  return layout(snap, null, body);
}
