import type { Finding, KeyPath } from '../diagnostics.js';
import type { BulwarkConfig } from '../schema.js';
import type { DeclarationConfig } from '../schema-runbooks.js';
import { unknownName } from './context.js';

/** Templates every configuration has without declaring them (alerting's defaults a declaration may name). */
const DEFAULT_TEMPLATE_NAMES = ['incident_notification', 'resolution_notification', 'acknowledged', 'update_due', 'review_due'];

/**
 * A runbook is read at the worst moment: every name it uses must exist now,
 * not when the operator reaches the step during a disaster.
 */
export function lintRunbooks(config: BulwarkConfig): Finding[] {
  const out: Finding[] = [];
  for (const [name, book] of Object.entries(config.runbooks)) {
    book.steps.forEach((step, index) => {
      const path: KeyPath = ['runbooks', name, 'steps', index];
      if (step.run !== undefined && !Object.hasOwn(config.dr_testing, step.run.drill)) {
        out.push(unknownName([...path, 'run'], step.run.drill, 'drill', 'dr_testing', Object.keys(config.dr_testing)));
      }
      if (step.declare !== undefined) out.push(...declarationFindings(config, [...path, 'declare'], step.declare));
    });
  }
  return out;
}

function declarationFindings(config: BulwarkConfig, path: KeyPath, declare: DeclarationConfig): Finding[] {
  const out: Finding[] = [];
  const components = [...Object.keys(config.services), ...Object.keys(config.databases)];
  declare.components.forEach((c, i) => {
    if (!components.includes(c)) out.push(unknownName([...path, 'components', i], c, 'component', 'services or databases', components));
  });
  const templates = [...new Set([...Object.keys(config.communication_templates), ...DEFAULT_TEMPLATE_NAMES])];
  if (declare.template !== undefined && !templates.includes(declare.template)) {
    out.push(unknownName([...path, 'template'], declare.template, 'template', 'communication_templates', templates));
  }
  const policies = Object.keys(config.alerting?.escalation_policies ?? {});
  if (declare.policy !== undefined && !policies.includes(declare.policy)) {
    out.push(unknownName([...path, 'policy'], declare.policy, 'escalation policy', 'alerting.escalation_policies', policies));
  }
  if (declare.notify.length > 0 && config.alerting === undefined) {
    out.push({
      severity: 'error', rule: 'lint.declaration_unreachable', path: [...path, 'notify'],
      message: 'the declaration notifies people, but there is no alerting section, so nobody would be told',
      hint: 'add alerting.channels (and people) for the names under notify, or remove notify',
    });
  }
  if (declare.components.length === 0 && config.status_page !== undefined) {
    out.push({
      severity: 'warning', rule: 'lint.declaration_invisible', path: [...path, 'components'],
      message: 'the declaration names no components, so the public status page does not show it',
      hint: 'list the affected services or databases under components',
    });
  }
  return out;
}
