/** Exit codes are an interface: scripts and CI branch on them. */
export const EXIT = {
  ok: 0,
  /** Findings at error level, or the command's operation failed. */
  findings: 1,
  /** Unusable input: unreadable file, YAML syntax, bad arguments. */
  unusable: 2,
  /** The operation finished but not for everything: a backup that skipped unreadable files. */
  partial: 3,
} as const;
