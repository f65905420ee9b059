import { z } from 'zod';
import { boundedDuration, exactlyOne, name } from './fields.js';

/**
 * `runbooks:`: named, ordered steps an operator walks through with
 * `bulwark runbook run NAME`. A step is automated (`run: drill NAME`,
 * `command`, `api`), manual (a checklist the operator confirms), or the
 * disaster declaration (`declare`). See src/runbooks/README.md.
 */

export const RUNBOOK_PHASES = ['detection', 'assessment', 'declaration', 'execution', 'validation', 'communication', 'cleanup'] as const;
export type RunbookPhase = (typeof RUNBOOK_PHASES)[number];

const HOUR_MS = 3_600_000;
const DRILL_STEP = /^drill\s+(\S+)$/;

/** `run: drill NAME`: the one action `run` knows today; the name is checked against dr_testing by lint. */
const runAction = z.string().regex(DRILL_STEP, { message: 'expected "drill NAME" (a drill under dr_testing)' })
  .transform((text) => ({ drill: DRILL_STEP.exec(text)![1]! }));

const apiCall = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'DELETE']).default('GET'),
  path: z.string().regex(/^\/api\/v1\/[^\s]*$/, { message: 'expected a path of Bulwark\'s admin API, such as /api/v1/gateway/api/endpoints/api-1/disable' }),
  body: z.unknown().optional(),
});

const checklist = z.union([z.string().min(1), z.array(z.string().min(1)).min(1, { message: 'a manual step needs at least one item to confirm' })])
  .transform((items) => (typeof items === 'string' ? [items] : items));

const declaration = z.strictObject({
  /** Internal title of the incident the declaration opens (never shown on the public page). */
  title: z.string().min(1).max(200).default('Disaster declared'),
  severity: z.enum(['critical', 'warning', 'info']).default('critical'),
  /** Services or databases the status page shows as affected. */
  components: z.array(name()).default([]),
  /** The public update posted on the status page. */
  message: z.string().min(1).max(4000),
  /** Channels, people, on-call schedules or roles told at once, with `template`. */
  notify: z.array(z.string().min(1)).default([]),
  /** An escalation policy that then runs on the incident as on any other. */
  policy: name().optional(),
  /** The communication template of the notification; incident_notification by default. */
  template: name().optional(),
});

const step = z.strictObject({
  name: name(),
  phase: z.enum(RUNBOOK_PHASES).optional(),
  description: z.string().optional(),
  run: runAction.optional(),
  command: z.array(z.string().min(1)).min(1, { message: 'expected the program and its arguments, such as [pg_isready, -h, db1]' }).optional(),
  api: apiCall.optional(),
  manual: checklist.optional(),
  declare: declaration.optional(),
  /** An automated step that takes longer fails. */
  timeout: boundedDuration(24 * HOUR_MS).default(300_000),
}).superRefine(exactlyOne(['run', 'command', 'api', 'manual', 'declare'], 'a runbook step'));

const runbook = z.strictObject({
  description: z.string().optional(),
  steps: z.array(step),
}).superRefine((book, ctx) => {
  if (book.steps.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['steps'], message: 'a runbook needs at least one step', params: { expected: 'a list of steps, each with a name and one of run, command, api, manual, declare' } });
  }
  const seen = new Set<string>();
  book.steps.forEach((s, index) => {
    if (seen.has(s.name)) {
      ctx.addIssue({ code: 'custom', path: ['steps', index, 'name'], message: `step name "${s.name}" is used twice in this runbook; --confirm names steps, so each must be unique` });
    }
    seen.add(s.name);
  });
});

export const runbooksSchema = z.record(name(), runbook);
export type RunbookConfig = z.output<typeof runbook>;
export type RunbookStepConfig = RunbookConfig['steps'][number];
export type DeclarationConfig = z.output<typeof declaration>;
