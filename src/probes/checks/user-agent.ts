import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** `bulwark-probe/<version>`, so targets can tell probes from users in their logs. */
export function userAgent(): string {
  cached ??= `bulwark-probe/${packageVersion()}`;
  return cached;
}

function packageVersion(): string {
  try {
    // Same depth from src/probes/checks and dist/probes/checks.
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
