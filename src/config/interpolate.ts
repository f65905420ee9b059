import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Finding, KeyPath } from './diagnostics.js';
import { formatKeyPath } from './diagnostics.js';
import { secretRegistry } from '../core/secrets.js';

/** Where a secret came from, by key path: "services.db.password" → "${env:DB_PASSWORD}". */
export type SecretOrigins = Map<string, string>;

export interface InterpolationResult {
  value: unknown;
  secrets: SecretOrigins;
  findings: Finding[];
}

const REFERENCE = /\$\{(env|file):([^}]+)\}|\$\$\{/g;

/**
 * Replace `${env:NAME}` and `${file:PATH}` in every string. `$${` is a literal `${`.
 * Resolved values are registered with the secret registry so no output shows them.
 */
export interface InterpolationOptions {
  baseDir: string;
  env?: NodeJS.ProcessEnv;
  /**
   * `check` validates a file where its secrets are not present (CI, a laptop):
   * an unresolved reference is then a warning and a placeholder stands in for it.
   * Everything that acts on the configuration requires them.
   */
  unresolved?: 'error' | 'warning';
  /**
   * false: never read the environment or files; every reference becomes the
   * placeholder. For configurations that come from outside (the validate API):
   * resolving them would hand the daemon's environment and files to the caller.
   */
  resolve?: boolean;
}

/** Stands in for an unresolved secret when only validating; it is shaped to pass as a password, key or URL part. */
export const UNRESOLVED_PLACEHOLDER = 'unresolved-secret';

export function interpolateSecrets(value: unknown, options: InterpolationOptions): InterpolationResult {
  const secrets: SecretOrigins = new Map();
  const findings: Finding[] = [];
  const env = options.env ?? process.env;

  const resolveString = (text: string, path: KeyPath): string => {
    if (!text.includes('${')) return text;
    let usedSecret = false;
    let resolvedAny = false;
    const out = text.replace(REFERENCE, (match, kind?: string, ref?: string) => {
      if (match === '$${') return '${';
      usedSecret = true;
      if (options.resolve === false) return UNRESOLVED_PLACEHOLDER;
      const resolved = kind === 'env' ? fromEnv(ref ?? '', env) : fromFile(ref ?? '', options.baseDir);
      if (typeof resolved === 'string') {
        resolvedAny = true;
        return resolved;
      }
      const severity = options.unresolved ?? 'error';
      const hint = severity === 'warning' ? `${resolved.hint}; bulwark up will refuse to start without it` : resolved.hint;
      findings.push({ severity, rule: 'secret.unresolved', path, message: resolved.message, hint });
      return UNRESOLVED_PLACEHOLDER;
    });
    if (usedSecret) {
      secrets.set(formatKeyPath(path), text);
      if (resolvedAny) secretRegistry.add(out);
    }
    return out;
  };

  const walk = (node: unknown, path: KeyPath): unknown => {
    if (typeof node === 'string') return resolveString(node, path);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, walk(item, [...path, key])]));
    }
    return node;
  };

  return { value: walk(value, []), secrets, findings };
}

type Unresolved = { message: string; hint: string };

function fromEnv(name: string, env: NodeJS.ProcessEnv): string | Unresolved {
  const value = env[name.trim()];
  if (value !== undefined && value !== '') return value;
  return {
    message: `environment variable ${name.trim()} is not set (referenced as \${env:${name.trim()}})`,
    hint: `export ${name.trim()}=... before running bulwark, or use \${file:/path/to/secret}`,
  };
}

function fromFile(path: string, baseDir: string): string | Unresolved {
  const full = resolve(baseDir, path.trim());
  try {
    return readFileSync(full, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
    return { message: `secret file ${full} ${reason}`, hint: 'check the path (relative paths start at the config file) and its permissions' };
  }
}
