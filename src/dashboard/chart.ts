import type { Store } from '../store/index.js';
import { html, raw, type Html } from './html.js';

const HOUR = 3_600_000;
const HOURS = 24;

export interface HourBar {
  start: number;
  checks: number;
  ok: number;
}

/** Checks and successes per hour over the last 24 h, summed across the targets of one service or database. */
export async function lastDay(store: Pick<Store, 'probeRollups'>, targets: readonly string[], now: number): Promise<HourBar[]> {
  const first = Math.floor(now / HOUR) * HOUR - (HOURS - 1) * HOUR;
  const bars: HourBar[] = Array.from({ length: HOURS }, (_, i) => ({ start: first + i * HOUR, checks: 0, ok: 0 }));
  for (const target of targets) {
    const rollups = await store.probeRollups({ target, resolution: 'hour', since: first, until: now });
    for (const r of rollups) {
      const bar = bars[Math.floor((r.bucket - first) / HOUR)];
      if (!bar) continue;
      bar.checks += r.checks;
      bar.ok += r.ok;
    }
  }
  return bars;
}

/** A server-drawn bar per hour: height is the share of checks that passed; grey where nothing was checked. */
export function availabilityChart(name: string, bars: readonly HourBar[]): Html {
  const width = 8;
  const checks = bars.reduce((n, b) => n + b.checks, 0);
  const ok = bars.reduce((n, b) => n + b.ok, 0);
  const summary = checks === 0 ? 'no checks recorded' : `${((ok / checks) * 100).toFixed(2)}% of ${checks} checks passed`;
  const rects = bars.map((b, i) => {
    if (b.checks === 0) return `<rect class="none" x="${i * width}" y="38" width="${width - 1}" height="2"></rect>`;
    const share = b.ok / b.checks;
    const h = Math.max(2, Math.round(share * 40));
    return `<rect class="${share >= 0.999 ? 'ok' : 'bad'}" x="${i * width}" y="${40 - h}" width="${width - 1}" height="${h}"></rect>`;
  });
  return html`<figure><svg class="chart" viewBox="0 0 ${HOURS * width} 40" preserveAspectRatio="none" role="img" aria-label="${name}: last 24 hours, ${summary}">${raw(rects.join(''))}</svg><figcaption class="muted">Last 24 h, per hour: ${summary}</figcaption></figure>`;
}
