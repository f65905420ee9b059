/**
 * A finding about a configuration: a schema error, a syntax error or a lint
 * result. `path` is the key path inside the document (["services","api","endpoints",0,"zone"]);
 * the loader turns it into a file:line:column.
 */
export type Severity = 'error' | 'warning';

export type KeyPath = ReadonlyArray<string | number>;

export interface Finding {
  severity: Severity;
  /** Stable identifier, e.g. `schema.unknown_key`, `lint.rpo_without_backup`. */
  rule: string;
  path: KeyPath;
  message: string;
  /** What was found, already safe to print (secret values are never put here). */
  found?: string;
  expected?: string;
  hint?: string;
  /** For a misspelt key or name: the likely intended one. */
  suggestion?: string;
  /**
   * A character inside the string at `path`, counted in its value (after
   * quotes, escapes and block indentation are undone): the loader points the
   * location at that character instead of the start of the value.
   */
  valueOffset?: number;
  /** Filled by the loader from `path` (and `valueOffset`). */
  location?: SourceLocation;
}

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** "services.api.endpoints[0].zone" */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(root)' : out;
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}
