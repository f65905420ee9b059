import type { Finding } from '../diagnostics.js';
import type { BulwarkConfig } from '../schema.js';
import { lintAlerting } from './alerting.js';
import { lintCertificates } from './certificates.js';
import { lintCluster } from './cluster.js';
import { lintSingleGateway } from './gateway.js';
import { lintBackupCopies, lintOnChange, lintRegionLoss } from './backups.js';
import { lintEmpty } from './empty.js';
import { lintEngine } from './engine.js';
import type { LintFacts, LintRule } from './context.js';
import { lintMembersOnOneHost } from './hosts.js';
import { lintAvailability, lintCycles, lintRpo, lintRto } from './promises.js';
import { lintPostgresHa } from './postgres.js';
import { lintReferences } from './references.js';
import { lintRunbooks } from './runbooks.js';
import { lintSpofs } from './spof.js';
import { lintStatusSubscriptions } from './status-subscriptions.js';
import { lintTimings } from './timings.js';

export type { LintFacts, LintRule } from './context.js';
export { processLintFacts } from './context.js';

/** Every rule family, in the order their findings are listed before the loader sorts them by location. */
export const LINT_RULES: readonly LintRule[] = [
  lintReferences,
  lintAlerting,
  lintRunbooks,
  lintStatusSubscriptions,
  lintCycles,
  lintRpo,
  lintRto,
  lintAvailability,
  lintSpofs,
  lintMembersOnOneHost,
  lintTimings,
  lintPostgresHa,
  lintCluster,
  lintSingleGateway,
  lintBackupCopies,
  lintOnChange,
  lintRegionLoss,
  lintCertificates,
  lintEngine,
  lintEmpty,
];

/** Lint a configuration that passed the schema against its own promises (and the facts of where it runs, when given). */
export function lintConfig(config: BulwarkConfig, facts: LintFacts = {}): Finding[] {
  return LINT_RULES.flatMap((rule) => rule(config, facts));
}
