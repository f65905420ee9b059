import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * Starts the worker module `name` (without extension) that lies next to the
 * module at `base` (its import.meta.url). From compiled JavaScript that is
 * `name.js`; from TypeScript sources (tests, tsx) the worker registers tsx
 * itself, since `--import tsx` does not reach a worker's entry module.
 */
export function startWorker(base: string, name: string, workerData: unknown): Worker {
  if (!base.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, base), { workerData });
  const entry = new URL(`./${name}.ts`, base).href;
  const code = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData });
}

/** One worker per core: the main thread of a pipeline mostly waits on I/O. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}
