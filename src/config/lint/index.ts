import type { Finding } from '../diagnostics.js';
import type { BulwarkConfig } from '../schema.js';

/** Lint a configuration that passed the schema against its own promises. */
export function lintConfig(_config: BulwarkConfig): Finding[] {
  return [];
}
