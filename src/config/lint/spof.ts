import type { Finding } from '../diagnostics.js';
import type { BulwarkConfig } from '../schema.js';
import { membersPath, planOf } from './context.js';

const HINTS = {
  member: 'add a second endpoint (a backup: true endpoint is enough) or a second database member',
  zone: 'place at least one endpoint or member in another zone',
  region: 'place at least one endpoint or member (a backup is enough) in a zone of another region',
} as const;

/**
 * Single points of failure, as the planner finds them: one member, every
 * member in one zone, every member in one region. A warning for every
 * component, with or without a tier: an outage is an outage. Every member on
 * one host is lint.members_on_one_host's for databases, and not linted for
 * services (hosts.ts says why).
 */
export function lintSpofs(config: BulwarkConfig): Finding[] {
  return planOf(config).plan.spofs.flatMap((spof) => (spof.scope === 'host' ? [] : [{
    severity: 'warning' as const,
    rule: 'lint.single_point_of_failure',
    path: membersPath(config, spof.component),
    message: spof.message,
    found: `${spof.scope} ${spof.domain}`,
    hint: HINTS[spof.scope],
  }]));
}
