import { REDACTED, secretRegistry } from '../core/secrets.js';
import { formatKeyPath, type KeyPath } from './diagnostics.js';
import type { SecretOrigins } from './interpolate.js';

/** Keys whose literal values are secret even when written inline. */
const SENSITIVE_KEY = /(password|secret|token|routing_key|private_key|authorization|api_key)/i;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)([^@\s]+)(@)/gi;

/**
 * A copy of a configuration fit to show: values that came from secret references
 * show the reference (`${env:DB_PASSWORD}`), inline secrets show [REDACTED],
 * passwords inside URLs are masked.
 */
export function redactConfig(value: unknown, secrets: SecretOrigins = new Map()): unknown {
  const walk = (node: unknown, path: KeyPath): unknown => {
    const origin = secrets.get(formatKeyPath(path));
    if (origin !== undefined) return origin;
    if (typeof node === 'string') {
      const key = path[path.length - 1];
      if (typeof key === 'string' && SENSITIVE_KEY.test(key)) return REDACTED;
      return secretRegistry.scrub(node.replace(URL_PASSWORD, `$1${REDACTED}$3`));
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, walk(item, [...path, key])]));
    }
    return node;
  };
  return walk(value, []);
}

export function redactUrl(url: string): string {
  return url.replace(URL_PASSWORD, `$1${REDACTED}$3`);
}
