import { STATUS_LABEL } from './components.js';
import type { ComponentStatus } from './types.js';
import { xmlEscape as x } from './xml.js';

/** A shields.io-style badge: the component's name on grey, its state on its colour, with dark text where white would be unreadable. */

const COLOUR: Record<ComponentStatus, { fill: string; text: string }> = {
  operational: { fill: '#1e7b34', text: '#fff' },
  degraded_performance: { fill: '#f0b400', text: '#1a1a1a' },
  partial_outage: { fill: '#c0561b', text: '#fff' },
  major_outage: { fill: '#b3261e', text: '#fff' },
  under_maintenance: { fill: '#1f5fa8', text: '#fff' },
};

/** Verdana 11px averages about 7 px a character; enough to keep the text inside its box. */
function width(text: string): number {
  return Math.round([...text].length * 7 + 12);
}

export function badgeSvg(name: string, status: ComponentStatus): string {
  const label = [...name].slice(0, 60).join('');
  const value = STATUS_LABEL[status].toLowerCase();
  const lw = width(label);
  const vw = width(value);
  const { fill, text } = COLOUR[status];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${lw + vw}" height="20" role="img" aria-label="${x(`${label}: ${value}`)}">`
    + `<title>${x(`${label}: ${value}`)}</title>`
    + `<rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${vw}" height="20" fill="${fill}"/>`
    + `<g font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">`
    + `<text x="${lw / 2}" y="14" fill="#fff">${x(label)}</text><text x="${lw + vw / 2}" y="14" fill="${text}">${x(value)}</text></g></svg>`;
}
