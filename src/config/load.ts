import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { BulwarkError } from '../core/errors.js';
import { formatFinding } from './format.js';
import { hasErrors, type Finding } from './diagnostics.js';
import { interpolateSecrets, type SecretOrigins } from './interpolate.js';
import { issuesToFindings } from './issues.js';
import { lintConfig, type LintFacts } from './lint/index.js';
import { configSchema, type BulwarkConfig } from './schema.js';
import { ConfigSource } from './source.js';

export interface LoadedConfig {
  file: string;
  checksum: string;
  /** The file's text as read (secret references unresolved). */
  text: string;
  /** Present when the file passed the schema (lint errors may still exist). */
  config?: BulwarkConfig;
  findings: Finding[];
  /** True when the input could not be used at all: unreadable or not YAML. */
  unusable: boolean;
  secrets: SecretOrigins;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  lint?: boolean;
  /** 'warning' for validation only (`bulwark check`); acting commands keep the default 'error'. */
  unresolvedSecrets?: 'error' | 'warning';
  /** false: leave secret references unresolved (placeholders, no findings); see interpolate.ts. */
  resolveSecrets?: boolean;
  /** Facts about the process for the lint rules that need them (`bulwark check` passes processLintFacts()); none by default. */
  lintFacts?: LintFacts;
}

/** Read and check a configuration file. Never throws for bad content: every problem is a finding. */
export async function loadConfigFile(file: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const full = resolve(file);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (err) {
    throw new BulwarkError('CONFIG_UNREADABLE', `cannot read configuration file ${full}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: 'check the path given with -c/--config and that the file is readable',
      cause: err,
    });
  }
  return parseConfigText(text, full, options);
}

export function parseConfigText(text: string, file: string, options: LoadOptions = {}): LoadedConfig {
  const checksum = createHash('sha256').update(text).digest('hex');
  const base = { file, checksum, text, secrets: new Map<string, string>() };
  const source = new ConfigSource(file, text);
  if (source.syntaxFindings.length > 0) return { ...base, findings: source.syntaxFindings, unusable: true };

  let raw: unknown;
  try {
    raw = source.toJS() ?? {};
    assertAcyclic(raw);
  } catch (err) {
    // An alias to a missing anchor, a self-referencing alias or an alias bomb: YAML that parses but cannot be built.
    const finding: Finding = {
      severity: 'error', rule: 'yaml.alias', path: [], message: (err as Error).message,
      hint: 'define each anchor (&name) before its alias (*name), and do not nest aliases deeply', location: source.locate([]),
    };
    return { ...base, findings: [finding], unusable: true };
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    const finding: Finding = {
      severity: 'error', rule: 'schema.root', path: [], message: 'the configuration must be a mapping of sections (sla_tiers, zones, services, ...)',
      found: Array.isArray(raw) ? 'a list' : typeof raw, location: source.locate([]),
    };
    return { ...base, findings: [finding], unusable: true };
  }

  const interpolated = interpolateSecrets(raw, { baseDir: dirname(file), env: options.env, unresolved: options.unresolvedSecrets, resolve: options.resolveSecrets });
  const secretFindings = interpolated.findings.map((f) => ({ ...f, location: source.locate(f.path) }));
  const parsed = configSchema.safeParse(interpolated.value);
  const secrets = interpolated.secrets;
  if (!parsed.success) {
    const schemaFindings = issuesToFindings(parsed.error.issues, { source, schema: configSchema, secrets });
    return { ...base, secrets, findings: sortFindings([...secretFindings, ...schemaFindings]), unusable: false };
  }
  const lintFindings = options.lint === false ? [] : lintConfig(parsed.data, options.lintFacts).map((f) => ({ ...f, location: f.location ?? source.locate(f.path, { valueOffset: f.valueOffset }) }));
  const findings = sortFindings([...secretFindings, ...lintFindings]);
  return { ...base, secrets, config: parsed.data, findings, unusable: false };
}

/** Load a configuration that must be usable: for `up`, reload and every command that acts on it. */
export async function loadValidConfig(file: string, options: LoadOptions = {}): Promise<LoadedConfig & { config: BulwarkConfig }> {
  const loaded = await loadConfigFile(file, options);
  if (loaded.config === undefined || hasErrors(loaded.findings)) {
    const errors = loaded.findings.filter((f) => f.severity === 'error');
    const shown = errors.slice(0, 3).map((f) => `\n  ${formatFinding(f)}`).join('');
    const more = errors.length > 3 ? `\n  … and ${errors.length - 3} more` : '';
    throw new BulwarkError(loaded.unusable ? 'CONFIG_SYNTAX' : 'CONFIG_INVALID', `${loaded.file} has ${errors.length} error(s):${shown}${more}`, {
      hint: `run: bulwark check -c ${file}`,
      context: { findings: loaded.findings },
    });
  }
  return loaded as LoadedConfig & { config: BulwarkConfig };
}

function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) =>
    (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0));
}

/** `x: &x [*x]` builds a value that contains itself; nothing downstream can walk it. */
function assertAcyclic(value: unknown, seen: Set<object> = new Set()): void {
  if (value === null || typeof value !== 'object') return;
  if (seen.has(value)) throw new Error('an alias (*name) refers to a node that contains it, which makes a cycle');
  seen.add(value);
  for (const item of Object.values(value)) assertAcyclic(item, seen);
  seen.delete(value);
}
