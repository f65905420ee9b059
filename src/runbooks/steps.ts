import type { RunbookStepConfig } from '../config/index.js';
import { errorMessage } from '../core/errors.js';
import { getCheckType } from '../probes/index.js';
import type { AdminApi, RunbookHooks, StepKind } from './types.js';

/** What running one step gave: ok or not, one line, and the incident a declaration opened. */
export interface StepResult {
  ok: boolean;
  detail: string;
  confirmedBy?: string;
  incidentId?: number;
}

export interface StepContext {
  runbook: string;
  api: AdminApi | undefined;
  hooks: RunbookHooks;
  /** The incident the run writes to, if any: a declaration goes onto it. */
  incidentId: number | null;
  signal: AbortSignal;
}

export function stepKind(step: RunbookStepConfig): StepKind {
  if (step.run !== undefined) return 'drill';
  if (step.command !== undefined) return 'command';
  if (step.api !== undefined) return 'api';
  if (step.manual !== undefined) return 'manual';
  return 'declare';
}

/** Runs one step; never throws for a failing step (a failure is a result), only when the run is aborted. */
export async function runStep(step: RunbookStepConfig, ctx: StepContext): Promise<StepResult> {
  try {
    switch (stepKind(step)) {
      case 'drill': return await ctx.hooks.runDrill(step.run!.drill, ctx.signal, step.timeout);
      case 'command': return await runCommand(step.command!, step.timeout, ctx.signal);
      case 'api': return await callApi(step, ctx);
      case 'manual': return await confirmManual(step, ctx);
      case 'declare': return await declare(step, ctx);
    }
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    return { ok: false, detail: errorMessage(err) };
  }
}

async function runCommand(command: readonly string[], timeoutMs: number, outer: AbortSignal): Promise<StepResult> {
  const signal = AbortSignal.any([outer, AbortSignal.timeout(timeoutMs)]);
  const result = await getCheckType('command')!.run({ command }, { signal, timeoutMs });
  const output = typeof result.observations.output === 'string' ? lastLine(result.observations.output) : '';
  if (result.ok) return { ok: true, detail: `exit code 0${output ? `: ${output}` : ''}` };
  return { ok: false, detail: result.reason === 'timeout' ? `no answer within ${timeoutMs} ms; killed` : (result.message ?? 'failed') };
}

async function callApi(step: RunbookStepConfig, ctx: StepContext): Promise<StepResult> {
  const api = needApi(ctx);
  const { method, path, body } = step.api!;
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(step.timeout)]);
  const answer = await api.call(method, path, body, signal);
  const ok = answer.status >= 200 && answer.status < 300;
  const message = (answer.body as { error?: { message?: string } } | null)?.error?.message;
  return { ok, detail: `${method} ${path}: HTTP ${answer.status}${!ok && message ? `: ${message}` : ''}` };
}

async function confirmManual(step: RunbookStepConfig, ctx: StepContext): Promise<StepResult> {
  const how = await ctx.hooks.confirm(step.name, step.manual!);
  if (how === null) {
    return { ok: false, detail: `not confirmed: run it in a terminal to confirm, or pass --confirm ${step.name} (or --yes) once it is done` };
  }
  return { ok: true, detail: `${step.manual!.length} item(s) confirmed (${how})`, confirmedBy: how };
}

async function declare(step: RunbookStepConfig, ctx: StepContext): Promise<StepResult> {
  const api = needApi(ctx);
  const d = step.declare!;
  const body = {
    key: ctx.runbook, title: d.title, severity: d.severity, components: d.components, message: d.message, notify: d.notify,
    ...(d.policy !== undefined ? { policy: d.policy } : {}),
    ...(d.template !== undefined ? { template: d.template } : {}),
    ...(ctx.incidentId !== null ? { incident_id: ctx.incidentId } : {}),
  };
  const answer = await api.call('POST', '/api/v1/incidents/declare', body, ctx.signal);
  const incident = (answer.body as { incident?: { id?: number } } | null)?.incident;
  if (answer.status >= 300 || incident?.id === undefined) {
    const message = (answer.body as { error?: { message?: string } } | null)?.error?.message ?? 'no details';
    return { ok: false, detail: `the daemon refused the declaration: HTTP ${answer.status}: ${message}` };
  }
  const who = d.notify.length > 0 ? `; notified ${d.notify.join(', ')}` : '';
  return { ok: true, detail: `disaster declared on incident ${incident.id}${d.components.length ? ` (status page: ${d.components.join(', ')})` : ''}${who}`, incidentId: incident.id };
}

function needApi(ctx: StepContext): AdminApi {
  if (!ctx.api) throw new Error('this step needs the daemon\'s API: pass --token (or set BULWARK_TOKEN) and --url or -c');
  return ctx.api;
}

function lastLine(output: string): string {
  return (output.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? '').slice(0, 200);
}
