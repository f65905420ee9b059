import { z } from 'zod';
import { exactlyOne, name, positiveInt, schedule } from './fields.js';
import { experimentSchema } from './schema-drills-experiment.js';
import { zoneDrillFields } from './schema-drills-zone.js';
import { regionDrillFields } from './schema-drills-region.js';

export const DRILL_TYPES = [
  'backup_restoration', 'database_failover', 'endpoint_failure', 'zone_failure', 'latency_injection',
  'failover_testing', 'full_dr_exercise',
  'zone', 'experiment',
] as const;
export type DrillType = (typeof DRILL_TYPES)[number];

/** What the drill checks in a restored database: SQL that must run, and least row counts. */
const validate = z.strictObject({
  /** The database the checks run in; `postgres` by default. */
  database: z.string().min(1).optional(),
  sql: z.array(z.string().min(1)).default([]),
  min_rows: z.record(z.string().min(1), z.number().int().min(0)).default({}),
});

/** Free text from the seeds' DR plans, kept for the report. */
const note = () => z.string().min(1).optional();

const drill = z
  .strictObject({
    type: z.enum(DRILL_TYPES).optional(),
    schedule: schedule().optional(),
    /** The seeds' word for a schedule: monthly, quarterly, semi-annually, annually (or any schedule). */
    frequency: schedule().optional(),
    /** backup_restoration: the policy restored; every policy when absent. */
    policy: name().optional(),
    database: name().optional(),
    /** database_failover: a planned switchover (default), or a SIGKILL of the primary's postmaster; `to`: the switchover's target member. */
    mode: z.enum(['switchover', 'kill']).optional(),
    to: name().optional(),
    service: name().optional(),
    zone: name().optional(),
    sandbox: z.string().optional(),
    /** The tier whose RTO and RPO grade the drill; by default the tier of what it restores. */
    tier: name().optional(),
    validate: validate.optional(),
    /** The daemon runs the drill only inside this window of maintenance_windows: a slot outside it waits for the window to open. */
    maintenance_window: name().optional(),
    /** Restore and validation must finish within this long, or the drill is aborted. */
    timeout_minutes: positiveInt().optional(),
    scope: note(),
    validation: note(),
    rollback: note(),
    stakeholders: note(),
    duration: note(),
    ...zoneDrillFields,
    /** type: experiment: steady-state probes, method actions, rollbacks (schema-drills-experiment.ts). */
    experiment: experimentSchema.optional(),
    ...regionDrillFields,
  })
  .refine((d) => d.type !== 'experiment' || d.experiment !== undefined, { message: 'a drill of type experiment needs experiment: { steady_state, method }', path: ['experiment'] })
  .superRefine(exactlyOne(['schedule', 'frequency'], 'a drill'))
  .transform(({ frequency, schedule: given, ...rest }) => ({ ...rest, schedule: (given ?? frequency)! }));

export const drTestingSchema = z.record(name(), drill);
export type DrillConfig = z.output<typeof drill>;
