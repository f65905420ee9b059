import { secretRegistry } from '../core/secrets.js';

/** The CLI's only way to print: every line is scrubbed of secret values first. */
export function print(text: string): void {
  process.stdout.write(`${secretRegistry.scrub(text)}\n`);
}

export function printError(text: string): void {
  process.stderr.write(`${secretRegistry.scrub(text)}\n`);
}

export function printJSON(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}
