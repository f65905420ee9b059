import { describe, expect, it } from 'vitest';
import { reportHtml } from './report-html.js';
import type { DrillReport } from './types.js';

const T = Date.UTC(2026, 2, 1, 2);
const report: DrillReport = {
  id: 'r1', drill: 'restore<script>', type: 'backup_restoration', outcome: 'failed', startedAt: T, finishedAt: T + 9000,
  target: { tier: 'gold', rtoMs: 5000, rpoMs: 60_000 }, notes: { scope: 'a & b' },
  timeline: [
    { step: 'fetch', subject: 'files', startedAt: T, durationMs: 1000, ok: true },
    { step: 'restore', subject: 'files', startedAt: T + 1000, durationMs: 6000, ok: true },
    { step: 'validate', subject: 'files', startedAt: T + 7000, durationMs: 1000, ok: false, detail: '<img src=x onerror=alert(1)>' },
  ],
  policies: [{ policy: 'files', source: 'paths', repository: 'local', phasesMs: { fetch: 1000, restore: 6000, validate: 1000 }, problems: ['1 file differs'], passed: false, rto: { measuredMs: 8000, targetMs: 5000, passed: false, marginMs: -3000 } }],
  issues: ['files: RTO missed by 3000 ms'], recommendations: ['keep a warm copy'],
};

describe('the HTML report', () => {
  it('is one page with an SVG timeline, the RTO target line, the sections, and user text escaped', () => {
    const html = reportHtml(report);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<rect /g)).toHaveLength(3);
    expect(html).toContain('RTO target');
    expect(html).toContain('fill="#cf222e"');
    for (const heading of ['Timeline', 'Measurements against targets', 'Execution log', 'Issues found', 'Recommendations']) expect(html).toContain(`<h2>${heading}</h2>`);
    expect(html).toContain('restore&lt;script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toMatch(/<script|<img|<link|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).toContain('missed by 3.0s');
  });
});
