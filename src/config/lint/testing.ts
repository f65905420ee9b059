import type { Finding } from '../diagnostics.js';
import { parseConfigText } from '../load.js';

/** Lint findings of a YAML text (schema errors fail the test: fixtures must be valid). */
export function lintYaml(text: string): Finding[] {
  const loaded = parseConfigText(text, 'test.yaml', { env: {} });
  if (!loaded.config) throw new Error(`fixture does not pass the schema: ${JSON.stringify(loaded.findings, null, 2)}`);
  return loaded.findings.filter((f) => f.rule.startsWith('lint.'));
}

export function byRule(findings: Finding[], rule: string): Finding[] {
  return findings.filter((f) => f.rule === rule);
}

/** A healthy two-zone, two-region base to which tests append or which they edit. */
export const BASE = `
sla_tiers:
  gold: { availability: 99.9%, rto: 30m, rpo: 1h }
regions:
  r1: {}
  r2: {}
zones:
  z1: { region: r1 }
  z2: { region: r2 }
`;
