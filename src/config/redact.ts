import { isScalar, parseDocument, visit } from 'yaml';
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

/**
 * The configuration file's text, fit to keep or show: inline values of
 * sensitive keys become [REDACTED] and passwords in URLs are masked; secret
 * references (`${env:...}`, `${file:...}`) stay as written, never resolved.
 * Comments and layout are kept (the YAML is edited, not re-serialized from data).
 */
export function redactConfigText(text: string): string {
  const doc = parseDocument(text, { keepSourceTokens: false });
  if (doc.errors.length > 0) return text.replace(URL_PASSWORD, `$1${REDACTED}$3`);
  visit(doc, {
    Pair(_, pair) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (!isScalar(pair.value) || typeof pair.value.value !== 'string') return;
      const value = pair.value.value;
      if (key !== undefined && SENSITIVE_KEY.test(key) && !value.includes('${')) pair.value.value = REDACTED;
      else if (URL_PASSWORD.test(value)) pair.value.value = value.replace(URL_PASSWORD, `$1${REDACTED}$3`);
      URL_PASSWORD.lastIndex = 0;
    },
  });
  return doc.toString();
}
