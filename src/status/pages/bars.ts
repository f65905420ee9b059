import type { ComponentView, DayFigure } from '../types.js';
import { duration, html, percent, type Html } from './html.js';

/**
 * The uptime bar of one component as inline SVG, one column per day: green
 * underneath, runs of days without data or with maintenance only as one
 * rectangle each, and each day with downtime as a stroke with its own tooltip
 * (its figures). Days alike share an element, which keeps a page of 50
 * components × 90 days small (see weight.test.ts).
 */

type Level = 'ok' | 'nodata' | 'maint' | 'minor' | 'major';

export const DAY_WIDTH = 3;
const HEIGHT = 24;

export function levelOf(d: DayFigure): Level {
  if (d.availability === null) return d.maintenanceMs > 0 ? 'maint' : 'nodata';
  if (d.downMs === 0) return 'ok';
  return d.availability >= 0.99 ? 'minor' : 'major';
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `14 Sep`: the bar spans at most a year, and the page says which days it shows. */
function shortDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}

const RUN_TEXT = { nodata: 'no data', maint: 'maintenance' } as const;

/** Runs of days without data, or with maintenance only, one rectangle each over the green. */
function runs(days: readonly (DayFigure | null)[], level: 'nodata' | 'maint'): Html[] {
  const out: Html[] = [];
  for (let i = 0; i < days.length; i++) {
    const first = days[i];
    if ((first ? levelOf(first) : 'nodata') !== level) continue;
    let j = i + 1;
    while (j < days.length && (days[j] ? levelOf(days[j]!) : 'nodata') === level) j++;
    const from = first ? shortDay(first.start) : 'before';
    const to = days[j - 1] ? shortDay(days[j - 1]!.start) : from;
    out.push(html`<rect x="${i * DAY_WIDTH}" width="${(j - i) * DAY_WIDTH}" height="${HEIGHT}" class="${level}"><title>${from === to ? from : `${from} – ${to}`}: ${RUN_TEXT[level]}</title></rect>`);
    i = j - 1;
  }
  return out;
}

/** Each day with downtime: a stroke of its own with its figures. */
function strokes(days: readonly (DayFigure | null)[], level: 'minor' | 'major'): Html {
  const out: Html[] = [];
  days.forEach((d, i) => {
    if (d && levelOf(d) === level) out.push(html`<path d="M${i * DAY_WIDTH + DAY_WIDTH / 2} 0v${HEIGHT}"><title>${shortDay(d.start)}: ${duration(d.downMs)} down (${percent(d.availability)})</title></path>`);
  });
  return out.length > 0 ? html`<g class="${level}">${out}</g>` : html``;
}

export function uptimeBar(component: ComponentView, historyDays: number): Html {
  const bad = component.days.filter((d) => d.downMs > 0).length;
  const label = `${component.name}: ${percent(component.uptime)} uptime over the last ${historyDays} days, ${bad} ${bad === 1 ? 'day' : 'days'} with downtime`;
  // Days before the history began (a new component) are no data, at the left.
  const days: Array<DayFigure | null> = [...Array<null>(Math.max(0, historyDays - component.days.length)).fill(null), ...component.days];
  // One green rectangle under everything: only the days that differ get an element (and a tooltip) of their own.
  return html`<svg class="bar" viewBox="0 0 ${historyDays * DAY_WIDTH} ${HEIGHT}" preserveAspectRatio="none" role="img" aria-label="${label}"><rect width="${historyDays * DAY_WIDTH}" height="${HEIGHT}" class="ok"><title>No downtime on the other days</title></rect>${runs(days, 'nodata')}${runs(days, 'maint')}${strokes(days, 'minor')}${strokes(days, 'major')}</svg>`;
}
