import { describe, expect, it } from 'vitest';
import { drTestingSchema } from './schema-drills.js';

describe('dr_testing', () => {
  it('takes frequency as a schedule and keeps the free text', () => {
    const parsed = drTestingSchema.parse({
      backup_restoration: { frequency: 'monthly', scope: 'database and critical data', rollback: 'automatic rollback after testing' },
      failover_testing: { frequency: 'quarterly', duration: '4 hours maximum' },
      full_dr_exercise: { frequency: 'annually', stakeholders: 'all business units' },
      twice: { type: 'backup_restoration', frequency: 'semi-annually', validate: { sql: ['SELECT count(*) FROM orders'] } },
    });
    expect(parsed.backup_restoration).toMatchObject({ schedule: { cron: '0 0 1 * *' }, scope: 'database and critical data', rollback: 'automatic rollback after testing' });
    expect(parsed.failover_testing).toMatchObject({ schedule: { cron: '0 0 1 1,4,7,10 *' }, duration: '4 hours maximum' });
    expect(parsed.full_dr_exercise?.schedule.cron).toBe('0 0 1 1 *');
    expect(parsed.twice?.schedule.cron).toBe('0 0 1 1,7 *');
    expect(parsed.twice?.validate).toEqual({ sql: ['SELECT count(*) FROM orders'], min_rows: {} });
  });

  it('keeps the old keys working and wants one of schedule and frequency', () => {
    expect(drTestingSchema.parse({ d: { schedule: 'weekly on saturday at 05:00', database: 'db' } }).d).toMatchObject({ schedule: { cron: '0 5 * * 6' }, database: 'db' });
    expect(drTestingSchema.safeParse({ d: { policy: 'p' } }).success).toBe(false);
    expect(drTestingSchema.safeParse({ d: { schedule: 'monthly', frequency: 'monthly' } }).success).toBe(false);
  });
});
