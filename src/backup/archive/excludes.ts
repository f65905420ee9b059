import picomatch from 'picomatch';

/**
 * restic's exclude semantics: a pattern with no slash matches a name at any
 * depth (`*.log`, `node_modules`); a pattern with a slash matches the absolute
 * path (`/var/cache/**`). A directory that matches is skipped with everything in it.
 */
export function excluder(patterns: readonly string[]): (absolutePath: string) => boolean {
  if (patterns.length === 0) return () => false;
  const byName = picomatch(patterns.filter((p) => !p.includes('/')), { dot: true });
  const byPath = picomatch(patterns.filter((p) => p.includes('/')), { dot: true });
  return (path) => {
    const name = path.slice(path.lastIndexOf('/') + 1);
    return byName(name) || byPath(path);
  };
}
