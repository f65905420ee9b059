import type { z } from 'zod';
import type { Finding, KeyPath } from './diagnostics.js';
import { formatKeyPath } from './diagnostics.js';
import type { ConfigSource } from './source.js';
import type { SecretOrigins } from './interpolate.js';
import { knownKeysAt } from './schema-keys.js';
import { didYouMean, suggest } from './suggest.js';

interface IssueContext {
  source: ConfigSource;
  schema: z.ZodType;
  secrets: SecretOrigins;
}

/** Turn zod issues into findings that name the line, the key path, what was found and what was expected. */
export function issuesToFindings(issues: readonly z.core.$ZodIssue[], ctx: IssueContext): Finding[] {
  const findings = issues.flatMap((issue) => {
    const path = issue.path as KeyPath;
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => unknownKey([...path, key], key, ctx));
    return [typedIssue(issue, path, ctx)];
  });
  return withoutMissingKeysExplainedByTypos(findings);
}

/** `endpoint:` for `endpoints:` is one mistake: report the typo with its suggestion, not also the missing key. */
function withoutMissingKeysExplainedByTypos(findings: Finding[]): Finding[] {
  const suggested = new Set(findings.filter((f) => f.rule === 'schema.unknown_key' && f.suggestion !== undefined)
    .map((f) => formatKeyPath([...f.path.slice(0, -1), f.suggestion as string])));
  return findings.filter((f) => f.rule !== 'schema.missing_key' || !suggested.has(formatKeyPath(f.path)));
}

function unknownKey(path: KeyPath, key: string, ctx: IssueContext): Finding {
  const known = knownKeysAt(ctx.schema, path.slice(0, -1));
  const match = suggest(key, known);
  const suggestion = match === undefined ? undefined : `did you mean "${match}"?`;
  return {
    severity: 'error',
    rule: 'schema.unknown_key',
    suggestion: match,
    path,
    message: `unknown key "${key}"${suggestion ? `; ${suggestion}` : ''}`,
    expected: known.length > 0 ? `one of: ${known.join(', ')}` : undefined,
    location: ctx.source.locate(path, { keyOf: true }),
  };
}

function typedIssue(issue: z.core.$ZodIssue, path: KeyPath, ctx: IssueContext): Finding {
  const location = ctx.source.locate(path, { keyOf: issue.code === 'invalid_key' });
  const missing = !ctx.source.has(path) && path.length > 0 && (issue.code !== 'custom' || isValueParser(issue));
  if (missing) return missingKey(path, issue, ctx.source.locate(path.slice(0, -1), { keyOf: true }));
  const expected = expectedOf(issue);
  const found = issue.code === 'invalid_key' ? String(path[path.length - 1]) : foundAt(path, ctx);
  const suggestion = issue.code === 'invalid_value' && typeof found === 'string'
    ? didYouMean(unquote(found), issue.values.map(String))
    : undefined;
  return {
    severity: 'error',
    rule: `schema.${issue.code}`,
    path,
    message: messageOf(issue, expected) + (suggestion ? `; ${suggestion}` : ''),
    found,
    expected,
    hint: secretTypeHint(issue, path, ctx),
    location,
  };
}

function missingKey(path: KeyPath, issue: z.core.$ZodIssue, location: Finding['location']): Finding {
  const key = String(path[path.length - 1]);
  return {
    severity: 'error',
    rule: 'schema.missing_key',
    path,
    message: `missing required key "${key}" in ${formatKeyPath(path.slice(0, -1))}`,
    expected: expectedOf(issue),
    location,
  };
}

/** Our own value parsers (durations, sizes…) accept undefined and then fail; that means "missing". */
function isValueParser(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'custom' && typeof (issue.params as { expected?: unknown } | undefined)?.expected === 'string'
    && !String((issue.params as { expected: string }).expected).startsWith('exactly one of');
}

function expectedOf(issue: z.core.$ZodIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return article(issue.expected);
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      if (issue.inclusive === false && issue.origin === 'number') return `greater than ${String(issue.minimum)}`;
      return issue.origin === 'array' ? `at least ${String(issue.minimum)} item(s)` : `at least ${String(issue.minimum)}${issue.origin === 'string' ? ' character(s)' : ''}`;
    case 'too_big':
      if (issue.inclusive === false && issue.origin === 'number') return `less than ${String(issue.maximum)}`;
      return issue.origin === 'array' ? `at most ${String(issue.maximum)} item(s)` : `at most ${String(issue.maximum)}`;
    case 'custom':
      return (issue.params as { expected?: string } | undefined)?.expected;
    case 'invalid_union':
      return 'one of the documented forms (see the configuration reference)';
    default:
      return undefined;
  }
}

function messageOf(issue: z.core.$ZodIssue, expected: string | undefined): string {
  if (issue.code === 'custom' || issue.code === 'invalid_format') return issue.message;
  if (issue.code === 'invalid_key') {
    // A key with a pattern of its own (postgresql.conf parameters) says what it expects; names share one message.
    const inner = issue.issues[0]?.message;
    if (inner !== undefined && inner.startsWith('expected') && !inner.startsWith('expected a name')) return `invalid key: ${inner}`;
    return 'invalid name: expected letters, digits, "_", "." or "-" (at most 63 characters)';
  }
  if (issue.code === 'too_small' && issue.message.startsWith('expected')) return issue.message;
  // A discriminated union that names its kinds (an experiment's probe: and action:) says which.
  if (issue.code === 'invalid_union' && issue.message.startsWith('unknown ')) return issue.message;
  return expected ? `expected ${expected}` : issue.message;
}

/** `port: ${env:PORT}` can never be a number: a reference always yields a string. Say so rather than leave the user puzzled. */
function secretTypeHint(issue: z.core.$ZodIssue, path: KeyPath, ctx: IssueContext): string | undefined {
  if (issue.code !== 'invalid_type' || issue.expected === 'string' || !ctx.secrets.has(formatKeyPath(path))) return undefined;
  return `\${env:...} and \${file:...} always give text; write this ${issue.expected === 'number' ? 'number' : 'value'} in the file itself`;
}

function foundAt(path: KeyPath, ctx: IssueContext): string | undefined {
  const origin = ctx.secrets.get(formatKeyPath(path));
  if (origin !== undefined) return `${origin} (value hidden)`;
  return ctx.source.snippet(path);
}

function article(type: string): string {
  const names: Record<string, string> = { object: 'a mapping', array: 'a list', record: 'a mapping', string: 'a string', number: 'a number', boolean: 'true or false', int: 'a whole number' };
  return names[type] ?? type;
}

function unquote(text: string): string {
  return text.replace(/^["']|["']$/g, '');
}
