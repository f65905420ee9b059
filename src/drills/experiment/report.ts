import type { BulwarkConfig, DrillConfig } from '../../config/index.js';
import type { PlannedStep } from '../plan.js';
import { describeAction } from './actions.js';
import { describeProbe } from './probes.js';
import type { ExperimentMeasurement } from './run.js';

/** `--dry-run` of an experiment: every probe and action, in order. */
export function planExperiment(config: BulwarkConfig, drill: DrillConfig, drillsDir: string): PlannedStep[] {
  const spec = drill.experiment!;
  return [
    { step: 'lock', touches: `${drillsDir}/lock (one drill at a time)` },
    { step: 'recover', touches: `${drillsDir}/journal.json: revert and record as aborted whatever a crashed drill left` },
    ...spec.proxies.map((p) => ({ step: 'proxy', touches: `start a fault proxy on ${p.listen} in front of ${p.upstream} (closed at the end)` })),
    ...spec.steady_state.map((p) => ({ step: 'hypothesis (before)', touches: describeProbe(config, p) })),
    ...spec.method.map((a) => ({ step: 'action', touches: `${describeAction(a)}${isFault(a.action) ? ' (journalled first)' : ''}` })),
    { step: 'hypothesis (after)', touches: 'the same probes again' },
    ...spec.rollbacks.map((a) => ({ step: 'rollback', touches: describeAction(a) })),
    { step: 'revert', touches: 'every fault still applied, newest first; recorded in drill_runs' },
  ];
}

function isFault(action: string): boolean {
  return ['kill', 'stop', 'disable', 'proxy'].includes(action);
}

export function experimentTable(e: ExperimentMeasurement): string[] {
  const rows = (phase: string, list: ReadonlyArray<{ ok: boolean; detail: string } & ({ probe: string } | { action: string })>): string[] =>
    list.map((r) => `| ${phase} | ${('probe' in r ? r.probe : r.action).replace(/\|/g, '\\|')} | ${r.detail.replace(/\|/g, '\\|')} | ${r.ok ? 'ok' : 'FAIL'} |`);
  return [
    `Steady-state hypothesis: ${e.verdict === 'held' ? 'held before and after the method' : e.verdict === 'deviated' ? 'DEVIATED after the method' : e.verdict === 'not-steady' ? 'did NOT hold before the method (nothing was done)' : 'not judged: an action of the method failed'}.`,
    '',
    '| phase | probe or action | observed | result |',
    '|---|---|---|---|',
    ...rows('before', e.before), ...rows('method', e.method), ...rows('after', e.after ?? []), ...rows('rollback', e.rollbacks),
    ...(e.reverted.length ? [`| revert | every fault still applied | ${e.reverted.join('; ').replace(/\|/g, '\\|')} | ok |`] : []),
  ];
}

export function experimentRecommendations(e: ExperimentMeasurement): string[] {
  if (e.verdict === 'not-steady') return ['the system was not in its steady state: fix what the probes name (or their tolerances), then run the experiment again'];
  if (e.verdict === 'deviated') return ['the system did not tolerate the method: the probes that deviated name the weakness to fix (retries, health checks, redundancy)'];
  if (e.verdict === 'method-failed') return ['an action could not be carried out: check its target (a process listening on the port, the gateway, the proxy)'];
  return [];
}
