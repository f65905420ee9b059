import { describe, expect, it } from 'vitest';
import { recommendStrategy, strategyForRpo, strategyForRto } from './strategy.js';

const MIN = 60_000;

describe('DR strategy by RTO', () => {
  it.each([
    [5 * MIN, 'multi_site'],
    [5 * MIN + 1, 'warm_standby'],
    [30 * MIN, 'warm_standby'],
    [30 * MIN + 1, 'pilot_light'],
    [120 * MIN, 'pilot_light'],
    [120 * MIN + 1, 'backup_restore'],
  ])('RTO %d ms → %s', (rto, expected) => {
    expect(strategyForRto(rto)).toBe(expected);
  });
});

describe('DR strategy by RPO', () => {
  it.each([
    [0, 'multi_site'],
    [1, 'warm_standby'],
    [MIN, 'warm_standby'],
    [MIN + 1, 'pilot_light'],
    [15 * MIN, 'pilot_light'],
    [15 * MIN + 1, 'backup_restore'],
  ])('RPO %d ms → %s', (rpo, expected) => {
    expect(strategyForRpo(rpo)).toBe(expected);
  });
});

describe('recommendStrategy', () => {
  it('takes the stronger of the two and names the promise that drove it', () => {
    const advice = recommendStrategy({ rtoMs: 30 * MIN, rpoMs: 5 * MIN });
    expect(advice.strategy).toBe('warm_standby');
    expect(advice.drivenBy).toBe('rto');
    expect(advice.reason).toBe(
      'RTO 30m needs a running, scaled-down copy in another region: warm standby (RPO 5m alone would allow pilot light)',
    );
  });

  it('an RPO of zero calls for multi-site whatever the RTO', () => {
    const advice = recommendStrategy({ rtoMs: 240 * MIN, rpoMs: 0 });
    expect(advice).toMatchObject({ strategy: 'multi_site', byRto: 'backup_restore', drivenBy: 'rpo' });
    expect(advice.reason).toMatch(/^RPO 0s needs synchronous replication.*RTO 4h alone would allow backup & restore/);
  });

  it('says when both promises agree', () => {
    const advice = recommendStrategy({ rtoMs: 240 * MIN, rpoMs: 60 * MIN });
    expect(advice).toMatchObject({ strategy: 'backup_restore', drivenBy: 'both' });
    expect(advice.reason).toBe(
      'RTO 4h and RPO 1h both call for backup & restore: restoring off-site backups on demand, with backups copied off-site at least every 1h',
    );
  });
});
