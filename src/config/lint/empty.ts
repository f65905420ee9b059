import type { Finding } from '../diagnostics.js';
import type { BulwarkConfig } from '../schema.js';

/** A file that names nothing to protect is valid YAML and valid schema, and almost certainly a mistake. */
export function lintEmpty(config: BulwarkConfig): Finding[] {
  if (Object.keys(config.services).length > 0 || Object.keys(config.databases).length > 0) return [];
  return [{
    severity: 'warning',
    rule: 'lint.nothing_to_protect',
    path: [],
    message: 'the configuration defines no services and no databases: Bulwark has nothing to check, route or protect',
    hint: 'add a services: or databases: section (see examples/single-zone.yaml)',
  }];
}
