import { formatKeyPath, type Finding } from './diagnostics.js';

/** "bulwark.yaml:12:7 error services.api.endpoints[0].zon: unknown key ..." plus found/expected/hint lines. */
export function formatFinding(finding: Finding): string {
  const where = finding.location ? `${finding.location.file}:${finding.location.line}:${finding.location.column}` : '';
  const head = `${where} ${finding.severity} ${formatKeyPath(finding.path)}: ${finding.message}`.trim();
  const details = [
    finding.found !== undefined && finding.found !== '' ? `  found:    ${finding.found}` : undefined,
    finding.expected !== undefined && finding.message !== `expected ${finding.expected}` ? `  expected: ${finding.expected}` : undefined,
    finding.hint !== undefined ? `  hint:     ${finding.hint}` : undefined,
  ].filter((line): line is string => line !== undefined);
  return [head, ...details].join('\n');
}

export function findingToJSON(finding: Finding): Record<string, unknown> {
  return {
    severity: finding.severity,
    rule: finding.rule,
    file: finding.location?.file,
    line: finding.location?.line,
    column: finding.location?.column,
    path: formatKeyPath(finding.path),
    message: finding.message,
    ...(finding.found !== undefined ? { found: finding.found } : {}),
    ...(finding.expected !== undefined ? { expected: finding.expected } : {}),
    ...(finding.hint !== undefined ? { hint: finding.hint } : {}),
  };
}
