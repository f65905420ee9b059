/** Levenshtein distance; inputs are config keys, so O(n·m) on two short strings is fine. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Shorter words are a part of too many keys to point at one of them. */
const MIN_AFFIX_LENGTH = 3;
/** Parts of a key: `val` inside `interval` is not one, `last` in `keep_last` is. */
const PART_SEPARATOR = /[_.-]/;

/** The closest candidate, when it is close enough to be the likely intent. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  const nearest = closest(word, list);
  // One typo is surer than a shared part; a shared part is surer than two typos in a short word.
  if (nearest !== undefined && nearest.distance <= 1) return nearest.candidate;
  const affix = affixMatch(word, list);
  if (affix !== undefined) return affix;
  const limit = Math.max(2, Math.floor(word.length / 3));
  return nearest !== undefined && nearest.distance <= limit ? nearest.candidate : undefined;
}

function closest(word: string, candidates: readonly string[]): { candidate: string; distance: number } | undefined {
  const lower = word.toLowerCase();
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (best === undefined || distance < best.distance) best = { candidate, distance };
  }
  return best;
}

/** The one candidate that `word` is a whole part of (`last` → `keep_last`) or that is a whole part of `word` (`interval_ms` → `interval`). */
function affixMatch(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const matches = candidates.filter((candidate) => {
    const other = candidate.toLowerCase();
    return isLeadingOrTrailingPart(lower, other) || isLeadingOrTrailingPart(other, lower);
  });
  return matches.length === 1 ? matches[0] : undefined;
}

function isLeadingOrTrailingPart(part: string, whole: string): boolean {
  if (part.length < MIN_AFFIX_LENGTH || whole.length <= part.length) return false;
  const after = whole[part.length] ?? '';
  const before = whole[whole.length - part.length - 1] ?? '';
  return (whole.startsWith(part) && PART_SEPARATOR.test(after)) || (whole.endsWith(part) && PART_SEPARATOR.test(before));
}

export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const match = suggest(word, candidates);
  return match === undefined ? undefined : `did you mean "${match}"?`;
}
