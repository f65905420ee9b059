import { html as honoHtml, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export type Html = HtmlEscapedString;
export { raw };

/** hono's `html` (every interpolated string escaped), narrowed: nothing here is asynchronous. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  return honoHtml(strings, ...values) as Html;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `7 Dec 2026`, in UTC: one zone for every reader, said on the page. */
export function day(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** `7 Dec 2026 14:03 UTC`. */
export function dateTime(ms: number): string {
  return `${day(ms)} ${new Date(ms).toISOString().slice(11, 16)} UTC`;
}

export function monthName(month: string): string {
  const [year, m] = month.split('-');
  return `${['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'][Number(m) - 1]} ${year}`;
}

/** Rounded down, so that a day with any downtime never reads 100%. */
export function percent(ratio: number | null): string {
  if (ratio === null) return 'no data';
  return `${(Math.floor(ratio * 10_000) / 100).toFixed(2)}%`;
}

export function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return 'under a minute';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

export function time(ms: number): Html {
  return html`<time datetime="${new Date(ms).toISOString()}">${dateTime(ms)}</time>`;
}
