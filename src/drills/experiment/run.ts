/**
 * An experiment (Chaos Toolkit's model): the steady-state hypothesis checked
 * before, the method run, the hypothesis checked again, then the rollbacks,
 * always, and every fault still applied reverted. Faults are journalled before
 * they are applied, so a crash mid-experiment is reverted at the next start.
 */
import type { ExperimentAction, ExperimentConfig } from '../../config/index.js';
import { BulwarkError, errorMessage } from '../../core/errors.js';
import type { RestoreContext } from '../context.js';
import { FaultSet } from '../faults/fault.js';
import { FaultProxy } from '../faults/proxy.js';
import { runAction, describeAction, type ActionEnv } from './actions.js';
import { runProbe, type ProbeResult } from './probes.js';

export interface ActionResult { action: string; ok: boolean; detail: string }

/** What an experiment showed: the hypothesis before and after, each action and rollback. */
export interface ExperimentMeasurement {
  before: ProbeResult[];
  /** Absent when the hypothesis did not hold before (the method was not run). */
  after?: ProbeResult[];
  method: ActionResult[];
  rollbacks: ActionResult[];
  /** Every fault still applied at the end, reverted. */
  reverted: string[];
  /** `held`: before and after; `deviated`: after the method; `not-steady`: before it, nothing was done. */
  verdict: 'held' | 'deviated' | 'not-steady' | 'method-failed';
  problems: string[];
  passed: boolean;
}

export async function runExperiment(ctx: RestoreContext, name: string): Promise<ExperimentMeasurement> {
  const spec = experimentOf(ctx.drill.experiment, name);
  const signal = ctx.signal ?? new AbortController().signal;
  const env: ActionEnv = { ctx, faults: new FaultSet(), proxies: new Map(), signal };
  const m: ExperimentMeasurement = { before: [], method: [], rollbacks: [], reverted: [], verdict: 'not-steady', problems: [], passed: false };
  try {
    await startProxies(env, spec);
    m.before = await ctx.timeline.step('hypothesis', 'before', () => hypothesis(ctx, spec), summary);
    if (!m.before.every((p) => p.ok)) {
      m.problems.push(`the steady state did not hold before the method, so nothing was done: ${failing(m.before)}`);
      return m;
    }
    m.method = await actions(env, spec.method, 'action');
    if (m.method.some((a) => !a.ok)) m.verdict = 'method-failed';
    m.after = await ctx.timeline.step('hypothesis', 'after', () => hypothesis(ctx, spec), summary);
    if (m.verdict !== 'method-failed') m.verdict = m.after.every((p) => p.ok) ? 'held' : 'deviated';
    if (m.verdict === 'deviated') m.problems.push(`the steady state deviated after the method: ${failing(m.after)}`);
    if (m.verdict === 'method-failed') m.problems.push(`an action failed: ${m.method.filter((a) => !a.ok).map((a) => `${a.action}: ${a.detail}`).join('; ')}`);
  } finally {
    m.rollbacks = await actions({ ...env, signal: new AbortController().signal }, spec.rollbacks, 'rollback');
    const reverted = await env.faults.revertAll();
    m.reverted = reverted.details;
    if (!reverted.ok) m.problems.push(...reverted.details.filter((d) => d.startsWith('could not')));
    for (const p of env.proxies.values()) await p.close();
  }
  m.passed = m.verdict === 'held' && m.problems.length === 0 && m.rollbacks.every((r) => r.ok);
  if (m.rollbacks.some((r) => !r.ok)) m.problems.push(`a rollback failed: ${m.rollbacks.filter((r) => !r.ok).map((r) => `${r.action}: ${r.detail}`).join('; ')}`);
  return m;
}

function experimentOf(spec: ExperimentConfig | undefined, name: string): ExperimentConfig {
  if (!spec) throw new BulwarkError('CONFIG_INVALID', `dr_testing.${name}: a drill of type experiment needs experiment: { steady_state, method }`);
  return spec;
}

async function startProxies(env: ActionEnv, spec: ExperimentConfig): Promise<void> {
  for (const p of spec.proxies) {
    const [host, port] = [p.upstream.slice(0, p.upstream.lastIndexOf(':')), Number(p.upstream.slice(p.upstream.lastIndexOf(':') + 1))];
    const proxy = new FaultProxy({ host, port });
    env.proxies.set(p.listen, proxy);
    await proxy.listen(p.listen);
  }
}

/** Every probe, at once: the hypothesis is one moment's picture. */
function hypothesis(ctx: RestoreContext, spec: ExperimentConfig): Promise<ProbeResult[]> {
  return Promise.all(spec.steady_state.map((p) => runProbe(ctx.config, p, ctx.signal)));
}

/** One timeline step per action, in order; a failed action ends the list (rollbacks go on: each is tried). */
async function actions(env: ActionEnv, list: readonly ExperimentAction[], step: 'action' | 'rollback'): Promise<ActionResult[]> {
  const out: ActionResult[] = [];
  for (const a of list) {
    const action = describeAction(a);
    try {
      const detail = await env.ctx.timeline.step(step, a.action, () => runAction(env, a), (d) => d);
      out.push({ action, ok: true, detail });
    } catch (err) {
      out.push({ action, ok: false, detail: errorMessage(err) });
      if (step === 'action') break;
    }
  }
  return out;
}

function summary(results: ProbeResult[]): string {
  return results.map((r) => `${r.ok ? 'ok' : 'DEVIATED'} ${r.probe}: ${r.detail}`).join('; ');
}

function failing(results: readonly ProbeResult[]): string {
  return results.filter((r) => !r.ok).map((r) => `${r.probe} (${r.detail})`).join('; ');
}
