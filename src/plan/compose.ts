/** Series composition: every part must be up. `series([])` is 1 (nothing can fail). */
export function series(as: readonly number[]): number {
  return as.reduce((acc, a) => acc * a, 1);
}

/** Parallel composition of independent parts: one up is enough. `parallel([])` is 0. */
export function parallel(as: readonly number[]): number {
  return 1 - as.reduce((acc, a) => acc * (1 - a), 1);
}
