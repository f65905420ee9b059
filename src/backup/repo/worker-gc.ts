import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * For worker threads that allocate a large buffer per blob and little else
 * (Node's ciphers and zlib cannot write into a buffer of ours). V8 frees a
 * dead buffer only when a collection runs, and a worker's tiny heap seldom
 * asks for one: up to ~64 MiB of dead buffers pile up per thread before the
 * external-memory limit forces it. A minor collection (a scavenge of a young
 * generation that holds a few KiB, well under a millisecond) after every few
 * MiB of buffers keeps that bounded. Returns a function to call with the bytes
 * just allocated; a no-op where V8 does not offer `gc`.
 */
export function collectEvery(bytes: number): (allocated: number) => void {
  let collect: ((options: { type: 'minor' | 'major' }) => void) | undefined;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    if (typeof gc === 'function') collect = gc as typeof collect;
  } catch {
    collect = undefined;
  }
  if (!collect) return () => undefined;
  const run = collect;
  let since = 0;
  return (allocated) => {
    since += allocated;
    if (since < bytes) return;
    since = 0;
    run({ type: 'minor' });
  };
}
