import { describe, expect, it } from 'vitest';
import type { PlanReport } from '../plan/index.js';
import type { OwnerSlo } from '../slo/index.js';
import { ownerPromises } from './promises.js';

const HOUR = 3_600_000;

function slo(kind: 'service' | 'database', name: string, availability: number | null): OwnerSlo {
  const m = { availability, upMs: 0, downMs: 0, unknownMs: 0, maintenanceMs: 0, downtimePeriods: [], incidents: 0, mttrMs: null, mtbfMs: null, errorBudget: { allowedMs: 0, usedMs: 0, remainingRatio: 1 } };
  return { kind, name, tier: 'gold', target: 0.999, windows: { '1h': m, '24h': m, '7d': m, '30d': m, '90d': m }, computedAt: 0 };
}

function plan(meetsRto: boolean): PlanReport {
  const component = (kind: 'service' | 'database', name: string) => ({
    name, kind, tier: 'gold', dependsOn: [], availability: { own: 1, endToEnd: 1, approximate: false, domains: 0 },
    target: { availability: 0.999, rtoMs: 60_000, rpoMs: HOUR }, meetsTarget: true, budget: null,
    expectedDowntime: { perYearMs: 0, perMonthMs: 0, perWeekMs: 0, perDayMs: 0 },
    recovery: { detectionMs: 1000, estimatedRecoveryMs: meetsRto ? 30_000 : 120_000, rtoMs: 60_000, meetsRto }, strategy: null,
  });
  return { components: [component('service', 'api'), component('database', 'main')], spofs: [], findings: [], approximate: false, conventions: {} } as unknown as PlanReport;
}

const policy = (ageMs: number | null) => ({ policy: 'main-db', source: { kind: 'postgres', name: 'main' }, age_ms: ageMs }) as never;

describe('promises beside evidence', () => {
  it('keeps promises the evidence supports', () => {
    const [api, db] = ownerPromises([slo('service', 'api', 0.9995), slo('database', 'main', 1)], plan(true), [policy(10 * 60_000)], []);
    expect(api).toMatchObject({ availability: { ok: true, target: '99.9%', evidence: '99.95% (30 d)' }, rto: { ok: true }, rpo: { ok: null, na: true } });
    expect(db).toMatchObject({ rpo: { ok: true, evidence: 'last backup 10 min ago' } });
  });

  it('is red with the reason where a promise is not kept', () => {
    const wal = [{ policy: 'main-db', lagSeconds: 7200, failing: true, lastError: 'bucket gone' }] as never[];
    const [api, db] = ownerPromises([slo('service', 'api', 0.99), slo('database', 'main', null)], plan(false), [policy(3 * HOUR)], wal);
    expect(api?.availability).toMatchObject({ ok: false, reason: 'measured 99% is below the 99.9% promised' });
    expect(api?.rto).toMatchObject({ ok: false, reason: 'detection and failover take 2 min, longer than the 60 s RTO' });
    expect(db?.availability.ok).toBeNull();
    expect(db?.rpo).toMatchObject({ ok: false, reason: 'WAL archiving lags 2 h, past the 60 min RPO; WAL archiving is failing: bucket gone' });
    const [, none] = ownerPromises([slo('service', 'api', 1), slo('database', 'main', 1)], plan(true), [], []);
    expect(none?.rpo).toMatchObject({ ok: false, reason: 'no backup policy covers it' });
    const [, stale] = ownerPromises([slo('service', 'api', 1), slo('database', 'main', 1)], plan(true), [policy(2 * HOUR)], []);
    expect(stale?.rpo).toMatchObject({ ok: false, reason: 'the last backup is 2 h old, past the 60 min RPO' });
  });
});
