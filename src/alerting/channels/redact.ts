import { REDACTED, secretRegistry } from '../../core/secrets.js';

/**
 * Removes the channel's own secrets (routing keys, webhook secrets, tokens in a
 * URL, passwords) and every registered secret from text that goes into a
 * delivery error, which is stored in the outbox and shown to operators.
 */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  const values = secrets.filter((s): s is string => s !== undefined && s.length >= 4).sort((a, b) => b.length - a.length);
  for (const value of values) {
    if (out.includes(value)) out = out.split(value).join(REDACTED);
  }
  return secretRegistry.scrub(out);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
