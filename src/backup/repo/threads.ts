import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts the worker module `name` (without extension) that lies next to the
 * module at `base` (its import.meta.url). From compiled JavaScript that is
 * `name.js`; from TypeScript sources (tests, tsx) the worker registers tsx
 * itself, since `--import tsx` does not reach a worker's entry module. tsx is
 * resolved from this module, not from the working directory: `archive_command`
 * runs in PostgreSQL's data directory, where no node_modules is.
 */
export function startWorker(base: string, name: string, workerData: unknown): Worker {
  if (!base.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, base), { workerData });
  const entry = new URL(`./${name}.ts`, base).href;
  const code = `import(${JSON.stringify(tsxEsmApi(base))}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData });
}

/** tsx's ESM API (`tsx/esm/api`, the import condition) as a file URL, resolved from `base`. */
function tsxEsmApi(base: string): string {
  const pkgJson = createRequire(base).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(join(dirname(pkgJson), pkg.exports['./esm/api']!.import.default)).href;
}

/** One worker per core: the main thread of a pipeline mostly waits on I/O. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}
