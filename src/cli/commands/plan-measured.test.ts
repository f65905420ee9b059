import { describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import type { DrillReport } from '../../drills/index.js';
import type { PlanReport } from '../../plan/index.js';
import type { DrillRunRecord } from '../../store/index.js';
import { measuredRows, renderMeasured } from './plan-measured.js';

describe('bulwark plan: a region drill beside the model', () => {
  it('shows one row for the region lost: end-to-end RTO and RPO measured, the database\'s modelled recovery', () => {
    const config = configSchema.parse({});
    const region = { region: 'east', drRegion: 'west', services: [], database: 'main-db', databaseRecovery: 'failover', phasesMs: {}, rto: { measuredMs: 7_400, targetMs: 60_000, passed: true, marginMs: 52_600 }, rpo: { measuredMs: 0, targetMs: 1000, passed: true, marginMs: 1000 }, failback: { services: true }, problems: [], passed: true };
    const report = { id: 'r1', drill: 'full_dr_exercise', type: 'full_dr_exercise', outcome: 'passed', startedAt: Date.UTC(2026, 11, 7, 17), finishedAt: Date.UTC(2026, 11, 7, 17, 1), target: { tier: 'gold' }, notes: {}, timeline: [], policies: [], region, issues: [], recommendations: [] } as unknown as DrillReport;
    const run = { id: 'r1', drill: 'full_dr_exercise', type: 'full_dr_exercise', startedAt: report.startedAt, finishedAt: report.finishedAt, outcome: 'passed', measured: {}, report } as unknown as DrillRunRecord;
    const plan = { components: [{ kind: 'database', name: 'main-db', recovery: { estimatedRecoveryMs: 30_000 } }] } as unknown as PlanReport;
    const rows = measuredRows(config, plan, [run]);
    expect(rows).toEqual([expect.objectContaining({ drill: 'full_dr_exercise', policy: 'region east → west', database: 'main-db', rto: { modelledMs: 30_000, measuredMs: 7_400, targetMs: 60_000 }, rpo: { modelledMs: null, measuredMs: 0, targetMs: 1000 } })]);
    const line = renderMeasured(rows).split('\n').find((l) => l.startsWith('full_dr_exercise'))!.replace(/\s+/g, ' ');
    expect(line).toBe('full_dr_exercise main-db (region east → west) gold 30s 7.4s / 1m ok - 0ms / 1s ok 2026-12-07 17:00 passed');
  });
});
