/**
 * Values that came from secret references. Every output path (logs, CLI
 * output, API answers) scrubs them. Values shorter than 4 characters are not
 * registered: scrubbing "a" from every line would mangle logs and protect nothing.
 */
export const REDACTED = '[REDACTED]';
const MIN_SECRET_LENGTH = 4;

export class SecretRegistry {
  private readonly values = new Set<string>();

  add(value: string): void {
    if (value.length >= MIN_SECRET_LENGTH) this.values.add(value);
  }

  has(value: string): boolean {
    return this.values.has(value);
  }

  clear(): void {
    this.values.clear();
  }

  /** Replace every registered secret in `text`; longest first so overlaps scrub fully. */
  scrub(text: string): string {
    if (this.values.size === 0) return text;
    let out = text;
    for (const value of [...this.values].sort((a, b) => b.length - a.length)) {
      if (out.includes(value)) out = out.split(value).join(REDACTED);
      const escaped = JSON.stringify(value).slice(1, -1);
      if (escaped !== value && out.includes(escaped)) out = out.split(escaped).join(REDACTED);
    }
    return out;
  }
}

/** Process-wide registry: secrets are process-wide, and so is every output. */
export const secretRegistry = new SecretRegistry();
