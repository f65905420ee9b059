import type { RunbookConfig, RunbookStepConfig } from '../config/index.js';
import { stepKind } from './steps.js';
import type { StepKind } from './types.js';

/** One step of `--dry-run`: what it would do and touch. Nothing runs. */
export interface PlannedRunbookStep {
  name: string;
  kind: StepKind;
  phase?: string;
  does: string;
}

export function planRunbook(runbook: RunbookConfig): PlannedRunbookStep[] {
  return runbook.steps.map((step) => ({ name: step.name, kind: stepKind(step), ...(step.phase ? { phase: step.phase } : {}), does: describeStep(step) }));
}

function describeStep(step: RunbookStepConfig): string {
  const limit = `, failing after ${Math.round(step.timeout / 1000)} s`;
  switch (stepKind(step)) {
    case 'drill': return `runs drill ${step.run!.drill} (bulwark drill run ${step.run!.drill})${limit}`;
    case 'command': return `runs ${step.command!.join(' ')}${limit}`;
    case 'api': return `calls ${step.api!.method} ${step.api!.path} on the daemon's API${limit}`;
    case 'manual': return `asks the operator to confirm: ${step.manual!.join('; ')}`;
    case 'declare': return describeDeclaration(step);
  }
}

function describeDeclaration(step: RunbookStepConfig): string {
  const d = step.declare!;
  const page = d.components.length ? `shows ${d.components.join(', ')} as a major outage with the public update "${d.message}"` : `posts the public update "${d.message}"`;
  const who = d.notify.length ? `; tells ${d.notify.join(', ')} with template ${d.template ?? 'incident_notification'}` : '';
  const policy = d.policy ? `; escalates with policy ${d.policy}` : '';
  return `declares a disaster (a ${d.severity} incident, or on the run's incident): ${page}${who}${policy}`;
}
