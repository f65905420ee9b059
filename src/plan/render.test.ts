import { describe, expect, it } from 'vitest';
import { planTopology } from './plan.js';
import { renderPlanTable } from './render.js';
import { component, member, topology } from './testing/fixtures.js';

const t = topology({
  tiers: { enterprise: { availability: 0.999, rtoMs: 30 * 60_000, rpoMs: 5 * 60_000 } },
  components: {
    api: component([member('e1', 0.999), member('e2', 0.999)], { tier: 'enterprise', detectionMs: 35_000, failoverMs: 0 }),
    db: component([member('pg1', 0.99)], { kind: 'database', tier: 'enterprise' }),
    cache: component([member('r1', 0.999), member('r2', 0.999)]),
  },
});

describe('renderPlanTable', () => {
  const text = renderPlanTable(planTopology(t));

  it('shows one aligned row per component', () => {
    const lines = text.split('\n');
    const header = lines[0] ?? '';
    expect(header).toMatch(/^COMPONENT\s+TIER\s+MODELLED\s+TARGET/);
    const api = lines.find((l) => l.startsWith('api')) ?? '';
    expect(api).toContain('99.9999%');
    expect(api).toContain('99.9%');
    expect(api).toContain('✓');
    expect(api).toContain('8.76h');
    expect(api).toContain('43.8m');
    expect(api).toContain('35s / 30m ✓');
    expect(api).toContain('warm standby');
    expect(api.indexOf('99.9999%')).toBe(header.indexOf('MODELLED'));
    expect(lines.find((l) => l.startsWith('db'))).toContain('✗');
    expect(lines.find((l) => l.startsWith('cache'))).toMatch(/cache\s+-\s+99\.9999%\s+-\s+-/);
  });

  it('lists SPOFs, strategy reasons and findings', () => {
    expect(text).toContain('Single points of failure\n  ✗ db (member pg1)');
    expect(text).toContain('enterprise: RTO 30m needs a running, scaled-down copy in another region: warm standby');
    expect(text).toContain('BELOW_TARGET');
    expect(text).toContain('a year is 365 days');
  });

  it('uses colour only when asked', () => {
    expect(text).not.toContain('\x1b[');
    expect(renderPlanTable(planTopology(t), { color: true })).toContain('\x1b[32m✓');
  });
});
