/**
 * A progress line on a terminal's standard error: bytes, rate and ETA. Off
 * when stderr is not a terminal, with --json, or with --quiet, so scripts and
 * logs never see carriage returns.
 */
export class ProgressLine {
  private last = 0;
  private readonly started = performance.now();
  private readonly enabled: boolean;
  private width = 0;

  constructor(private readonly label: string, options: { quiet?: boolean; json?: boolean } = {}) {
    this.enabled = process.stderr.isTTY === true && !options.quiet && !options.json;
  }

  update(done: number, total: number | undefined, extra = ''): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.last < 100 && (total === undefined || done < total)) return;
    this.last = now;
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const pct = total ? Math.min(100, (done / total) * 100) : undefined;
    const eta = total && rate > 0 ? `ETA ${formatDuration((total - done) / rate)}` : '';
    const bar = pct === undefined ? '' : `[${'#'.repeat(Math.round(pct / 5)).padEnd(20, '.')}] ${pct.toFixed(0).padStart(3)}% `;
    const text = `${this.label} ${bar}${formatBytes(done)}${total ? ` / ${formatBytes(total)}` : ''}  ${formatBytes(rate)}/s  ${eta}  ${extra}`.slice(0, (process.stderr.columns ?? 100) - 1);
    process.stderr.write(`\r${text.padEnd(this.width)}`);
    this.width = text.length;
  }

  done(): void {
    if (this.enabled && this.width > 0) process.stderr.write(`\r${' '.repeat(this.width)}\r`);
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${Math.round(seconds % 60).toString().padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${Math.round((seconds % 3600) / 60).toString().padStart(2, '0')}m`;
}
